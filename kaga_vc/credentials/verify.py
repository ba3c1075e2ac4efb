"""One verify entry point for every securing format (DESIGN.md "Standards").

The format is recognised from the input's shape, never from a claim inside it:

* a JSON object with a ``proof``                        → Data Integrity (``data-integrity``)
* a compact JWS whose header ``typ`` is ``vc+jwt``/``vp+jwt`` → VC-JOSE-COSE (``vc+jwt``)
* a compact JWS with a ``vc``/``vp`` claim               → VC 1.1 JWT (``jwt-vc11``)
* a string with ``~`` separators                         → SD-JWT VC (``dc+sd-jwt``)

Each format's verifier lives in its own module; this module only recognises and dispatches.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import PARSING_ERROR, InputError

DATA_INTEGRITY = "data-integrity"
VC_JWT = "vc+jwt"
JWT_VC11 = "jwt-vc11"
SD_JWT = "dc+sd-jwt"
FORMATS = (DATA_INTEGRITY, VC_JWT, JWT_VC11, SD_JWT)


def detect_format(data: str | bytes | dict[str, Any]) -> str:
    """Name the securing format of ``data`` (a parsed JSON object or the text received)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(PARSING_ERROR, "input is not UTF-8 text") from None
    if isinstance(data, dict):
        return DATA_INTEGRITY
    if not isinstance(data, str):
        raise InputError(PARSING_ERROR, "input must be JSON text, a JSON object or a JWT")
    text = data.strip()
    if text.startswith("{"):
        return DATA_INTEGRITY
    if "~" in text:
        return SD_JWT
    if text.count(".") == 2:
        from .._encoding import b64url_decode

        try:
            header = json.loads(b64url_decode(text.split(".", 1)[0]))
        except (InputError, ValueError):
            raise InputError(PARSING_ERROR, "JWT header is not base64url JSON") from None
        if isinstance(header, dict) and str(header.get("typ", "")).lower() in ("vc+jwt", "vp+jwt"):
            return VC_JWT
        return JWT_VC11
    raise InputError(PARSING_ERROR, "input is neither a JSON credential nor a JWT / SD-JWT")
