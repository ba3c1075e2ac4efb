"""Byte encodings shared by every layer: base64url (RFC 4648 §5, no padding), multibase, multicodec.

Decoders are strict: they raise :class:`~kaga_vc.errors.InputError` rather than guessing, since a
lenient decoder lets two different strings stand for one signature.
"""

from __future__ import annotations

import base64
import binascii
import re

from multiformats import multibase, multicodec

from .errors import MALFORMED_VALUE_ERROR, InputError

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing padding, other alphabets and non-canonical tails."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise InputError(MALFORMED_VALUE_ERROR, "not a base64url string")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InputError(MALFORMED_VALUE_ERROR, "not a base64url string") from exc
    if b64url_encode(data) != text:  # non-zero padding bits: a second spelling of the same bytes
        raise InputError(MALFORMED_VALUE_ERROR, "non-canonical base64url string")
    return data


_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}


def _b58encode(data: bytes) -> str:
    # base58btc done directly: the generic multiformats codec costs ~0.5 ms per key on the verify path
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rem = divmod(number, 58)
        digits.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(digits))


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        value = _B58_INDEX.get(char)
        if value is None:
            raise InputError(MALFORMED_VALUE_ERROR, "not a valid multibase value")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes, base: str = "base58btc") -> str:
    """Encode bytes as multibase (``z`` + base58btc by default)."""
    if base == "base58btc":
        return "z" + _b58encode(bytes(data))
    return str(multibase.encode(data, base))


def multibase_decode(text: str, *, expected_base: str | None = "base58btc") -> bytes:
    """Decode a multibase string; by default only base58btc (``z``) is accepted."""
    if not isinstance(text, str) or not text:
        raise InputError(MALFORMED_VALUE_ERROR, "empty or non-string multibase value")
    if text[0] == "z" and expected_base in (None, "base58btc"):
        return _b58decode(text[1:])
    try:
        encoding = multibase.from_str(text)
        if expected_base is not None and encoding.name != expected_base:
            raise InputError(MALFORMED_VALUE_ERROR, f"multibase value is not {expected_base}")
        return bytes(multibase.decode(text))
    except InputError:
        raise
    except Exception as exc:  # the multiformats package raises several unrelated types
        raise InputError(MALFORMED_VALUE_ERROR, "not a valid multibase value") from exc


def multicodec_wrap(codec: str, data: bytes) -> bytes:
    """Prefix bytes with the varint of a multicodec name (e.g. ``ed25519-pub``)."""
    return bytes(multicodec.wrap(codec, data))


def multicodec_unwrap(data: bytes) -> tuple[str, bytes]:
    """Split a multicodec-prefixed value into (codec name, raw bytes)."""
    try:
        codec, raw = multicodec.unwrap(data)
    except Exception as exc:
        raise InputError(MALFORMED_VALUE_ERROR, "unknown or malformed multicodec prefix") from exc
    return codec.name, bytes(raw)
