"""Presentation responses: one or more presentations answering one request, as a compact string.

Compact form (fits QR alphanumeric mode, the scheme of the EU Digital COVID Certificate)::

    "KVP1:" + base45( zlib( JSON {"request": <request id>, "presentations": [<presentation>, ...]} ) )

Each presentation is an SD-JWT+KB string, a JWT (``vp+jwt`` / VC 1.1) or a Data Integrity JSON
object. Decompression is bounded (1 MiB), so a small string cannot expand into a huge one. A bare
presentation (JSON, JWT, SD-JWT) is read as a response with that single presentation, so peers'
presentations verify without the envelope.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from ..errors import RESPONSE_INVALID, InputError

PREFIX = "KVP1:"
MAX_DECOMPRESSED = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PresentationResponse:
    """What the wallet sends back: the request it answers and the presentations."""

    request_id: str | None
    presentations: tuple[str | dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request_id, "presentations": list(self.presentations)}


def encode_response(response: PresentationResponse) -> str:
    """The compact string form: ``KVP1:`` + base45(zlib(JSON))."""
    import base45  # type: ignore[import-untyped]

    body = json.dumps(response.to_json(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    encoded: bytes = base45.b45encode(zlib.compress(body, 9))
    return PREFIX + encoded.decode("ascii")


def decode_response(text: str | bytes) -> PresentationResponse:
    """Read a compact response (or a bare presentation); InputError ``kaga:response-invalid``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(RESPONSE_INVALID, "the response is not UTF-8 text") from None
    # base45 may end in a space (a QR alphanumeric character): strip line ends only
    text = text.lstrip().rstrip("\r\n")
    if not text.startswith(PREFIX):
        text = text.strip()
        if not text:
            raise InputError(RESPONSE_INVALID, "the response is empty")
        if text.startswith("{"):
            from ..credentials import parse_json

            parsed = parse_json(text)
            if not isinstance(parsed, dict):
                raise InputError(RESPONSE_INVALID, "a JSON presentation must be an object")
            return PresentationResponse(None, (parsed,))
        return PresentationResponse(None, (text,))
    import base45

    try:
        compressed = base45.b45decode(text[len(PREFIX):])
        inflater = zlib.decompressobj()
        body = inflater.decompress(compressed, MAX_DECOMPRESSED)
        if inflater.unconsumed_tail or not inflater.eof:
            raise InputError(RESPONSE_INVALID, "the response is too large or truncated")
    except (ValueError, zlib.error):
        raise InputError(RESPONSE_INVALID, "the response is not valid KVP1 (base45, zlib)") from None
    from ..credentials import parse_json

    try:  # the same strict reading as any credential: depth and size limits, no duplicate members
        data = parse_json(body, max_bytes=MAX_DECOMPRESSED)
    except InputError as error:
        raise InputError(RESPONSE_INVALID, f"the response is not valid KVP1 JSON: {error.detail}",
                         reason=error.code) from None
    if not isinstance(data, dict) or not isinstance(data.get("presentations"), list) or not data["presentations"]:
        raise InputError(RESPONSE_INVALID, "the response holds no presentation")
    items: list[str | dict[str, Any]] = []
    for item in data["presentations"]:
        if not isinstance(item, (str, dict)):
            raise InputError(RESPONSE_INVALID, "a presentation must be a string or a JSON object")
        items.append(item)
    request_id = data.get("request")
    return PresentationResponse(request_id if isinstance(request_id, str) else None, tuple(items))


__all__ = ["PREFIX", "PresentationResponse", "decode_response", "encode_response"]
