"""Byte encodings shared by every layer: base64url (RFC 4648 §5, no padding), multibase, multicodec.

Decoders are strict: they raise :class:`~kaga_vc.errors.InputError` rather than guessing, since a
lenient decoder lets two different strings stand for one signature.
"""

from __future__ import annotations

import binascii

from .errors import MALFORMED_VALUE_ERROR, InputError

# URL-safe to standard alphabet in the same pass that turns the standard alphabet's "+", "/" and "="
# into "!", which binascii's strict mode refuses: one translate instead of three scans and a test each
_URLSAFE_TO_STD = bytes.maketrans(b"-_+/=", b"+/!!!")
_PADDING = (b"", b"=", b"==")  # indexed by the count of "=" a padded form needs
_B64URL_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url (``base64.urlsafe_b64encode`` without its two Python layers:
    an SD-JWT credential encodes some fifty values)."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing padding, other alphabets and non-canonical tails."""
    # the standard alphabet's "+", "/" and padding are refused here (translated to "!"); binascii's
    # strict mode refuses every character outside the alphabet (a cheaper test than a regular expression)
    if not isinstance(text, str) or len(text) % 4 == 1:
        raise InputError(MALFORMED_VALUE_ERROR, "not a base64url string")
    padding = -len(text) % 4
    try:  # base64.urlsafe_b64decode, without its generic argument handling
        data = binascii.a2b_base64(text.encode("ascii").translate(_URLSAFE_TO_STD) + _PADDING[padding],
                                   strict_mode=True)
    except (binascii.Error, ValueError) as exc:  # UnicodeEncodeError (non-ASCII) is a ValueError
        raise InputError(MALFORMED_VALUE_ERROR, "not a base64url string") from exc
    # the last character's unused low bits (4 of them before "==", 2 before "=") must be zero:
    # otherwise the string is a second spelling of the same bytes
    if padding and _B64URL_VALUE[text[-1]] & (0x0F if padding == 2 else 0x03):
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
    from multiformats import multibase

    return str(multibase.encode(data, base))


def multibase_decode(text: str, *, expected_base: str | None = "base58btc") -> bytes:
    """Decode a multibase string; by default only base58btc (``z``) is accepted."""
    if not isinstance(text, str) or not text:
        raise InputError(MALFORMED_VALUE_ERROR, "empty or non-string multibase value")
    if text[0] == "z" and expected_base in (None, "base58btc"):
        return _b58decode(text[1:])
    from multiformats import multibase

    try:
        encoding = multibase.from_str(text)
        if expected_base is not None and encoding.name != expected_base:
            raise InputError(MALFORMED_VALUE_ERROR, f"multibase value is not {expected_base}")
        return bytes(multibase.decode(text))
    except InputError:
        raise
    except Exception as exc:  # the multiformats package raises several unrelated types
        raise InputError(MALFORMED_VALUE_ERROR, "not a valid multibase value") from exc


# The key codecs kaga_vc uses, with their varint prefixes (tests/test_keys.py checks them against the
# multiformats table): the generic codec lookup costs more than the rest of a did:key decode, and its
# import (with its type checker) is a tenth of the offline verifier's start.
_KEY_CODECS = {
    "ed25519-pub": b"\xed\x01", "x25519-pub": b"\xec\x01", "secp256k1-pub": b"\xe7\x01", "p256-pub": b"\x80\x24",
    "p384-pub": b"\x81\x24", "p521-pub": b"\x82\x24", "ed25519-priv": b"\x80\x26", "x25519-priv": b"\x82\x26",
    "secp256k1-priv": b"\x81\x26", "p256-priv": b"\x86\x26", "p384-priv": b"\x87\x26", "p521-priv": b"\x88\x26",
}
_KEY_PREFIXES = {prefix: name for name, prefix in _KEY_CODECS.items()}


def multicodec_wrap(codec: str, data: bytes) -> bytes:
    """Prefix bytes with the varint of a multicodec name (e.g. ``ed25519-pub``)."""
    prefix = _KEY_CODECS.get(codec)
    if prefix is not None:
        return prefix + bytes(data)
    from multiformats import multicodec

    return bytes(multicodec.wrap(codec, data))


def multicodec_unwrap(data: bytes) -> tuple[str, bytes]:
    """Split a multicodec-prefixed value into (codec name, raw bytes)."""
    name = _KEY_PREFIXES.get(bytes(data[:2]))
    if name is not None:  # a two-byte varint ends there: no other code starts with these bytes
        return name, bytes(data[2:])
    from multiformats import multicodec

    try:
        codec, raw = multicodec.unwrap(data)
    except Exception as exc:
        raise InputError(MALFORMED_VALUE_ERROR, "unknown or malformed multicodec prefix") from exc
    return codec.name, bytes(raw)
