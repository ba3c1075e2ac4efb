"""The securing formats, and how an input's format is recognised (issue 11: "format is guessed").

The format is read from the envelope's structure and the JOSE header ``typ`` as each specification
defines it, never from a character somewhere in the input nor from how the caller was invoked:

* a JSON object (or JSON text)           → Data Integrity; a presentation if its ``type`` says so
* ``<JWS>~<disclosure>~…~``               → SD-JWT VC (RFC 9901 §4: the issuer JWT, Disclosures, a
  final ``~``); ``<JWS>~…~<KB-JWT>``        → SD-JWT+KB (a presentation)
* a compact JWS with ``typ`` ``vc+jwt`` / ``vp+jwt`` (VC-JOSE-COSE §3.1) → a ``vc+jwt`` credential /
  a ``vp+jwt`` presentation; ``dc+sd-jwt`` / ``vc+sd-jwt`` → SD-JWT VC (and malformed without its ``~``)
* any other compact JWS (``typ`` ``JWT``, absent or unknown) → VC 1.1 JWT (VC-DATA-MODEL 1.1 §6.3.1),
  a presentation if its payload has a ``vp`` object. This is the most lenient path (``kid`` optional),
  so it is taken only when the caller accepts ``Format.VC11_JWT`` (see
  :class:`~kaga_vc.credentials.VerifyParameters`); the VC 1.1 verifier then refuses a ``typ`` other
  than ``JWT`` (``kaga:invalid-typ``).

``typ`` is compared as RFC 7515 §4.1.9 says: case-insensitively, the ``application/`` prefix optional.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import lru_cache
from typing import Any

from .._encoding import b64url_decode
from ..errors import PARSING_ERROR, InputError

#: the result formats (``VerificationResult.format``), one per securing family
DATA_INTEGRITY = "data-integrity"
VC_JWT = "vc+jwt"
JWT_VC11 = "jwt-vc11"
SD_JWT = "dc+sd-jwt"
FORMATS = (DATA_INTEGRITY, VC_JWT, JWT_VC11, SD_JWT)

_MAX_HEADER = 8 * 1024
_MAX_TOKEN = 1024 * 1024
_SD_JWT_TYPS = ("dc+sd-jwt", "vc+sd-jwt")  # the second is the SD-JWT VC drafts' spelling before -06


class Format(StrEnum):
    """One securing format of a credential or presentation."""

    DI_CREDENTIAL = "data-integrity"
    DI_PRESENTATION = "data-integrity-presentation"
    VC_JWT = "vc+jwt"
    VP_JWT = "vp+jwt"
    VC11_JWT = "jwt-vc11"
    VP11_JWT = "jwt-vp11"
    SD_JWT_VC = "dc+sd-jwt"
    SD_JWT_KB = "dc+sd-jwt+kb"

    @property
    def is_presentation(self) -> bool:
        """A presentation format (an SD-JWT+KB is the holder's presentation of its SD-JWT VC)."""
        return self in _PRESENTATIONS

    @property
    def family(self) -> str:
        """The result format of this securing family (``data-integrity``, ``vc+jwt``, ``jwt-vc11``, ``dc+sd-jwt``)."""
        return _FAMILY[self]


_PRESENTATIONS = frozenset({Format.DI_PRESENTATION, Format.VP_JWT, Format.VP11_JWT, Format.SD_JWT_KB})
_FAMILY = {
    Format.DI_CREDENTIAL: DATA_INTEGRITY, Format.DI_PRESENTATION: DATA_INTEGRITY,
    Format.VC_JWT: VC_JWT, Format.VP_JWT: VC_JWT,
    Format.VC11_JWT: JWT_VC11, Format.VP11_JWT: JWT_VC11,
    Format.SD_JWT_VC: SD_JWT, Format.SD_JWT_KB: SD_JWT,
}


def _segment(segment: str, what: str) -> Any:
    if len(segment) > _MAX_HEADER * 2 and what == "header":
        raise InputError(PARSING_ERROR, "JOSE header too long")
    try:
        return json.loads(b64url_decode(segment))
    except (InputError, ValueError, RecursionError):
        raise InputError(PARSING_ERROR, f"JWT {what} is not base64url JSON") from None


def _typ(header: Any) -> str | None:
    typ = header.get("typ") if isinstance(header, dict) else None
    if not isinstance(typ, str):
        return None
    typ = typ.lower()
    return typ.removeprefix("application/")


def _is_compact_jws(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 3 and all(parts[:2]) and text.isascii()


def _jwt_format(token: str) -> Format:
    header_b64, payload_b64, _ = token.split(".")
    typ = _header_typ(header_b64)
    if typ == "vc+jwt":
        return Format.VC_JWT
    if typ == "vp+jwt":
        return Format.VP_JWT
    if typ in _SD_JWT_TYPS:
        return Format.SD_JWT_VC  # without its '~' it is refused as malformed by the SD-JWT verifier
    if len(token) > _MAX_TOKEN:  # not decoded here: the VC 1.1 verifier refuses it as too large
        return Format.VC11_JWT
    payload = _segment(payload_b64, "payload")
    if isinstance(payload, dict) and isinstance(payload.get("vp"), dict) and "vc" not in payload:
        return Format.VP11_JWT
    return Format.VC11_JWT


@lru_cache(maxsize=256)
def _header_typ(header_b64: str) -> str | None:
    # one issuer's tokens share their header (alg, kid, typ): its typ is read once, not per token
    # (256 headers of at most 2 × _MAX_HEADER characters: a bounded memory)
    header = _segment(header_b64, "header")
    if not isinstance(header, dict):
        raise InputError(PARSING_ERROR, "a JOSE header is a JSON object")
    return _typ(header)


def _sd_jwt_format(text: str) -> Format:
    parts = text.split("~")
    if not _is_compact_jws(parts[0]):
        raise InputError(PARSING_ERROR, "an SD-JWT starts with a compact JWS (the issuer-signed JWT)")
    if any(not part for part in parts[1:-1]):
        raise InputError(PARSING_ERROR, "an SD-JWT has no empty Disclosure between '~' separators")
    last = parts[-1]
    if not last:
        return Format.SD_JWT_VC
    if _is_compact_jws(last):
        return Format.SD_JWT_KB
    raise InputError(PARSING_ERROR, "an SD-JWT ends with '~' or with a KB-JWT")


def detect(data: str | bytes | dict[str, Any]) -> Format:
    """The securing :class:`Format` of ``data`` (the text received or a parsed JSON object)."""
    return sniff(data)[0]


def sniff(data: str | bytes | dict[str, Any]) -> tuple[Format, Any]:
    """The :class:`Format` of ``data`` and the input to verify (a parsed JSON object, or the token)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(PARSING_ERROR, "input is not UTF-8 text") from None
    if isinstance(data, str) and data.strip().startswith("{"):
        from ._json import parse_json

        data = parse_json(data)
        if not isinstance(data, dict):
            raise InputError(PARSING_ERROR, "a credential or presentation must be a JSON object")
    if isinstance(data, dict):
        from ._rules import is_presentation

        return (Format.DI_PRESENTATION if is_presentation(data) else Format.DI_CREDENTIAL), data
    if not isinstance(data, str):
        raise InputError(PARSING_ERROR, "input must be JSON text, a JSON object or a JWT")
    text = data.strip()
    if not text.isascii():
        raise InputError(PARSING_ERROR, "a JWT or SD-JWT is ASCII")
    if "~" in text:
        return _sd_jwt_format(text), text
    if _is_compact_jws(text):
        return _jwt_format(text), text
    raise InputError(PARSING_ERROR, "input is neither a JSON credential nor a JWT / SD-JWT")


__all__ = ["DATA_INTEGRITY", "FORMATS", "JWT_VC11", "SD_JWT", "VC_JWT", "Format", "detect", "sniff"]
