"""Private keys: generate, sign, and import/export as JWK, Multikey or raw bytes.

A private key's ``repr`` and ``str`` show only its public half, so a key that slips into a log
or an exception message leaks nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

import coincurve
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils, x25519
from nacl.bindings import crypto_sign as _sodium_sign  # libsodium: the fastest maintained Ed25519 signing

from .._encoding import (
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multibase_encode,
    multicodec_unwrap,
    multicodec_wrap,
)
from ..errors import INVALID_KEY, UNSUPPORTED_KEY_TYPE, InputError, UnsupportedError
from ._public import _CURVES, _HASHES, PublicKey, _coord_size
from ._types import KeyType


def _sha256(message: bytes) -> bytes:
    return hashlib.sha256(message).digest()


_SECRET_SIZES = {KeyType.ED25519: 32, KeyType.X25519: 32, KeyType.SECP256K1: 32, KeyType.P256: 32, KeyType.P384: 48, KeyType.P521: 66}


class PrivateKey:
    """A private key of one :class:`KeyType`, with its public key."""

    __slots__ = ("_native", "_secret", "key_type", "public_key")

    def __init__(self, key_type: KeyType, secret: bytes) -> None:
        secret = bytes(secret)
        if len(secret) != _SECRET_SIZES[key_type]:
            raise InputError(INVALID_KEY, f"{key_type.value} private key must be {_SECRET_SIZES[key_type]} bytes")
        self.key_type = key_type
        self._secret = secret
        self._native: Any = None  # the primitive's key object, built on first signature, then reused
        self.public_key = PublicKey.from_raw(key_type, _derive_public(key_type, secret))

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def generate(cls, key_type: KeyType | str) -> PrivateKey:
        """Make a new random key from the operating system's CSPRNG."""
        key_type = KeyType.parse(key_type)
        if key_type is KeyType.ED25519:
            raw = ed25519.Ed25519PrivateKey.generate().private_bytes_raw()
        elif key_type is KeyType.X25519:
            raw = x25519.X25519PrivateKey.generate().private_bytes_raw()
        elif key_type is KeyType.SECP256K1:
            raw = coincurve.PrivateKey().secret
        else:
            number = ec.generate_private_key(_CURVES[key_type]).private_numbers().private_value
            raw = number.to_bytes(_SECRET_SIZES[key_type], "big")
        return cls(key_type, raw)

    @classmethod
    def from_bytes(cls, key_type: KeyType, secret: bytes) -> PrivateKey:
        return cls(key_type, secret)

    @classmethod
    def from_hex(cls, text: str, key_type: KeyType = KeyType.SECP256K1) -> PrivateKey:
        """A hex private key (``0x`` optional): the usual form of an Ethereum account key."""
        text = text.strip()
        if text[:2].lower() == "0x":
            text = text[2:]
        try:
            secret = bytes.fromhex(text)
        except ValueError:
            raise InputError(INVALID_KEY, "not a hex private key") from None
        return cls(key_type, secret)

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> PrivateKey:
        """Import a private JWK; the ``d`` member must match the public members given."""
        public = PublicKey.from_jwk(jwk)
        if "d" not in jwk:
            raise InputError(INVALID_KEY, "JWK has no private member 'd'")
        key = cls(public.key_type, b64url_decode(jwk["d"]))
        if key.public_key != public:
            raise InputError(INVALID_KEY, "JWK private and public members do not match")
        return key

    @classmethod
    def from_multikey(cls, multibase_value: str) -> PrivateKey:
        """Import a Multikey ``secretKeyMultibase`` (multicodec ``*-priv``)."""
        codec, raw = multicodec_unwrap(multibase_decode(multibase_value))
        return cls(KeyType.from_multicodec(codec, private=True), raw)

    # -- export (secret material: callers decide where it goes) -----------------------------
    def to_bytes(self) -> bytes:
        return self._secret

    def to_jwk(self) -> dict[str, str]:
        jwk = self.public_key.to_jwk()
        jwk["d"] = b64url_encode(self._secret)
        return jwk

    def to_multikey(self) -> str:
        codec = self.key_type.info.multicodec_priv
        assert codec is not None
        return multibase_encode(multicodec_wrap(codec, self._secret))

    # -- signing ----------------------------------------------------------------------------
    def sign(self, data: bytes) -> bytes:
        """Sign ``data``: Ed25519 (64 bytes) or deterministic-hash ECDSA as ``r || s`` (low-s)."""
        if self.key_type is KeyType.ED25519:
            if self._native is None:  # libsodium's 64-byte signing key: seed || public key
                self._native = self._secret + self.public_key.raw
            return bytes(_sodium_sign(data, self._native)[:64])  # Ed25519 is deterministic: OpenSSL's bytes
        if self.key_type is KeyType.SECP256K1:
            if self._native is None:
                self._native = coincurve.PrivateKey(self._secret)
            return bytes(self._native.sign_recoverable(data, hasher=_sha256)[:64])
        if self.key_type in _HASHES:
            if self._native is None:
                self._native = ec.derive_private_key(int.from_bytes(self._secret, "big"), _CURVES[self.key_type])
            r, s = utils.decode_dss_signature(self._native.sign(data, ec.ECDSA(_HASHES[self.key_type]())))
            size = _coord_size(self.key_type)
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        raise UnsupportedError(UNSUPPORTED_KEY_TYPE, f"{self.key_type.value} keys do not sign")

    def sign_digest_recoverable(self, digest: bytes) -> bytes:
        """secp256k1 only: sign a 32-byte digest as ``r || s || recid`` (recid 0/1), low-s.

        This is the Ethereum form (``v = 27 + recid``) and JOSE's ``ES256K-R``.
        """
        if self.key_type is not KeyType.SECP256K1:
            raise UnsupportedError(UNSUPPORTED_KEY_TYPE, "recoverable signatures need a secp256k1 key")
        if len(digest) != 32:
            raise InputError(INVALID_KEY, "digest must be 32 bytes")
        if self._native is None:
            self._native = coincurve.PrivateKey(self._secret)
        return bytes(self._native.sign_recoverable(digest, hasher=None))

    def x25519_exchange(self, peer: PublicKey) -> bytes:
        """X25519 only: the shared secret with a peer's public key."""
        if self.key_type is not KeyType.X25519 or peer.key_type is not KeyType.X25519:
            raise UnsupportedError(UNSUPPORTED_KEY_TYPE, "key agreement needs two X25519 keys")
        own = x25519.X25519PrivateKey.from_private_bytes(self._secret)
        return own.exchange(x25519.X25519PublicKey.from_public_bytes(peer.raw))

    def __repr__(self) -> str:
        return f"PrivateKey({self.key_type.value}, public={self.public_key.to_multikey()})"

    __str__ = __repr__

    def __getstate__(self) -> tuple[KeyType, bytes]:  # the OpenSSL key object is rebuilt, never pickled
        return self.key_type, self._secret

    def __setstate__(self, state: tuple[KeyType, bytes]) -> None:
        self.__init__(*state)  # type: ignore[misc]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrivateKey) and other.key_type is self.key_type and other._secret == self._secret

    def __hash__(self) -> int:
        return hash((self.key_type, self.public_key.raw))


def _derive_public(key_type: KeyType, secret: bytes) -> bytes:
    try:
        if key_type is KeyType.ED25519:
            return ed25519.Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes_raw()
        if key_type is KeyType.X25519:
            return x25519.X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes_raw()
        if key_type is KeyType.SECP256K1:
            return bytes(coincurve.PrivateKey(secret).public_key.format(compressed=True))
        key = ec.derive_private_key(int.from_bytes(secret, "big"), _CURVES[key_type])
        return key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
    except (ValueError, TypeError) as exc:
        raise InputError(INVALID_KEY, f"invalid {key_type.value} private key") from exc
