"""Public keys: parse from raw bytes, JWK or Multikey; verify signatures.

EC keys are held compressed (the Multikey / did:key form). Signatures are the JOSE / Data Integrity
form: raw 64 bytes for Ed25519, ``r || s`` for ECDSA. secp256k1 signatures with a high ``s`` are
refused (libsecp256k1's rule, as Ethereum's): a second valid spelling of one signature is a
malleability hazard, never a feature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import coincurve
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils

from .._encoding import (
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multibase_encode,
    multicodec_unwrap,
    multicodec_wrap,
)
from ..errors import (
    INVALID_KEY,
    PROOF_VERIFICATION_ERROR,
    UNSUPPORTED_KEY_TYPE,
    InputError,
    ProofError,
    UnsupportedError,
)
from ._types import KeyType

_CURVES: dict[KeyType, ec.EllipticCurve] = {
    KeyType.P256: ec.SECP256R1(),
    KeyType.P384: ec.SECP384R1(),
    KeyType.P521: ec.SECP521R1(),
    KeyType.SECP256K1: ec.SECP256K1(),
}
_HASHES: dict[KeyType, Callable[[], hashes.HashAlgorithm]] = {KeyType.P256: hashes.SHA256, KeyType.P384: hashes.SHA384, KeyType.P521: hashes.SHA512}


_P25519 = 2**255 - 19
_PROBE_SCALAR = bytes([0x40] * 32)  # any fixed X25519 scalar (clamped to a multiple of the cofactor 8)
_PROBE: Any = None
"""The X25519 key of ``_PROBE_SCALAR``, built once (every holder did:key of a batch is checked)."""


_SMALL_ORDER_Y = frozenset({0, 1, _P25519 - 1,
                            2707385501144840649318225287225658788936804267575313519463743609750303402022,
                            55188659117513257062467267217118295137698188065244968500265048394206261417927})
"""The ``y`` of the eight Ed25519 points of small order: order 4 (0), 1 (1), 2 (p - 1), 8 (the last two,
each with both signs of ``x``). libsodium refuses the same list."""


@lru_cache(maxsize=1024)
def _is_small_order(key_type: KeyType, raw: bytes) -> bool:
    """Whether an Ed25519 / X25519 public key is a point of small order (or a non-canonical encoding).

    Such a key is no one's key: for the Ed25519 identity point a signature of any message verifies
    (``R`` = identity, ``S`` = 0), and key agreement with one yields the all-zero secret (RFC 7748
    §6.1). Ed25519: ``y`` must be canonical (RFC 8032 §5.1.3) and not one of the small-order points'
    (a set lookup: a batch checks one new holder key per row). X25519: the test is ``cryptography``'s
    refusal of that all-zero secret, the product of a cofactor-clamped scalar and the point.
    """
    value = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if key_type is KeyType.ED25519:
        return value >= _P25519 or value in _SMALL_ORDER_Y
    return _small_order_by_exchange(value)


def _small_order_by_exchange(u: int) -> bool:
    """Whether X25519 with the Montgomery ``u`` yields the all-zero secret (the point has small order)."""
    from cryptography.hazmat.primitives.asymmetric import x25519

    global _PROBE
    if _PROBE is None:
        _PROBE = x25519.X25519PrivateKey.from_private_bytes(_PROBE_SCALAR)
    try:
        _PROBE.exchange(x25519.X25519PublicKey.from_public_bytes(u.to_bytes(32, "little")))
    except ValueError:
        return True
    return False


def _coord_size(key_type: KeyType) -> int:
    return key_type.info.public_size - 1


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A public key: its type and raw bytes (32 for OKP, compressed SEC1 for EC)."""

    key_type: KeyType
    raw: bytes

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_raw(cls, key_type: KeyType, raw: bytes) -> PublicKey:
        """Build from raw bytes; EC keys may be compressed or uncompressed SEC1 and are validated."""
        raw = bytes(raw)
        if key_type in (KeyType.ED25519, KeyType.X25519):
            if len(raw) != 32:
                raise InputError(INVALID_KEY, f"{key_type.value} public key must be 32 bytes")
            if key_type is KeyType.ED25519:
                try:
                    ed25519.Ed25519PublicKey.from_public_bytes(raw)
                except ValueError as exc:
                    raise InputError(INVALID_KEY, "invalid Ed25519 public key") from exc
            if _is_small_order(key_type, raw):
                raise InputError(INVALID_KEY, f"the {key_type.value} public key is a point of small order")
            return cls(key_type, raw)
        try:
            point = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[key_type], raw)
        except (ValueError, TypeError) as exc:
            raise InputError(INVALID_KEY, f"invalid {key_type.value} public key") from exc
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return cls(key_type, point.public_bytes(Encoding.X962, PublicFormat.CompressedPoint))

    @classmethod
    def from_multikey(cls, multibase_value: str) -> PublicKey:
        """Parse a Multikey ``publicKeyMultibase`` (``z`` + base58btc of multicodec ‖ key)."""
        codec, raw = multicodec_unwrap(multibase_decode(multibase_value))
        return cls.from_raw(KeyType.from_multicodec(codec), raw)

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> PublicKey:
        """Parse a public JWK (RFC 7517 / RFC 8037 / RFC 8812); private members are ignored."""
        if not isinstance(jwk, dict):
            raise InputError(INVALID_KEY, "a JWK must be a JSON object")
        kty, crv = jwk.get("kty"), jwk.get("crv")
        try:
            key_type = KeyType(crv)
        except ValueError:
            raise UnsupportedError(UNSUPPORTED_KEY_TYPE, f"unsupported JWK curve {crv!r}") from None
        if kty != key_type.info.kty:
            raise InputError(INVALID_KEY, f"JWK kty {kty!r} does not match curve {crv!r}")
        x = _jwk_bytes(jwk, "x")
        if kty == "OKP":
            return cls.from_raw(key_type, x)
        y = _jwk_bytes(jwk, "y")
        size = _coord_size(key_type)
        if len(x) != size or len(y) != size:
            raise InputError(INVALID_KEY, "JWK coordinates have the wrong length")
        return cls.from_raw(key_type, b"\x04" + x + y)

    # -- export -----------------------------------------------------------------------------
    def uncompressed(self) -> bytes:
        """The 65/97-byte uncompressed SEC1 point of an EC key."""
        if self.key_type in (KeyType.ED25519, KeyType.X25519):
            raise UnsupportedError(UNSUPPORTED_KEY_TYPE, "OKP keys have no SEC1 point")
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        point = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[self.key_type], self.raw)
        return point.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def to_jwk(self) -> dict[str, str]:
        info = self.key_type.info
        if info.kty == "OKP":
            return {"kty": "OKP", "crv": info.crv, "x": b64url_encode(self.raw)}
        point = self.uncompressed()
        size = _coord_size(self.key_type)
        return {
            "kty": "EC",
            "crv": info.crv,
            "x": b64url_encode(point[1 : 1 + size]),
            "y": b64url_encode(point[1 + size :]),
        }

    def to_multikey(self) -> str:
        """The Multikey ``publicKeyMultibase`` value."""
        return multibase_encode(multicodec_wrap(self.key_type.info.multicodec_pub, self.raw))

    # -- verification -----------------------------------------------------------------------
    def verify(self, signature: bytes, data: bytes) -> None:
        """Verify a signature over ``data``; raise :class:`ProofError` if it does not hold."""
        if not self.key_type.info.signs:
            raise UnsupportedError(UNSUPPORTED_KEY_TYPE, f"{self.key_type.value} keys do not sign")
        if not isinstance(signature, (bytes, bytearray)):
            raise ProofError(PROOF_VERIFICATION_ERROR, "signature must be bytes")
        if self.key_type is KeyType.ED25519:
            try:
                ed25519.Ed25519PublicKey.from_public_bytes(self.raw).verify(bytes(signature), data)
                return
            except InvalidSignature:
                raise ProofError(PROOF_VERIFICATION_ERROR, "signature does not verify") from None
        size = _coord_size(self.key_type)
        if len(signature) != 2 * size:
            raise ProofError(PROOF_VERIFICATION_ERROR, f"ECDSA signature must be {2 * size} bytes")
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        der = utils.encode_dss_signature(r, s)
        if self.key_type is KeyType.SECP256K1:
            ok = coincurve.PublicKey(self.raw).verify(der, data, hasher=lambda m: hashlib.sha256(m).digest())
            if not ok:
                raise ProofError(PROOF_VERIFICATION_ERROR, "signature does not verify (or has a high s)")
            return
        point = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[self.key_type], self.raw)
        try:
            point.verify(der, data, ec.ECDSA(_HASHES[self.key_type]()))
        except InvalidSignature:
            raise ProofError(PROOF_VERIFICATION_ERROR, "signature does not verify") from None

    def __repr__(self) -> str:
        return f"PublicKey({self.key_type.value}, {self.to_multikey()})"


def _jwk_bytes(jwk: dict[str, Any], member: str) -> bytes:
    value = jwk.get(member)
    if not isinstance(value, str):
        raise InputError(INVALID_KEY, f"JWK member {member!r} missing or not a string")
    return b64url_decode(value)
