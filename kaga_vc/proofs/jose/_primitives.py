"""JWS signature checks straight on the primitives (issue 16, "JOSE without the overhead").

A JWS verify is split + base64url + one signature check + JSON; going through a JOSE library for the
signature step (jwcrypto: a JWK object, a deserialisation of the whole token again, deep copies) cost
more than the signature itself. Here each algorithm calls its primitive directly:

* ``EdDSA`` — libsodium (PyNaCl), about twice OpenSSL's speed here. libsodium is the stricter of
  the two: besides ``S < L`` and a canonical ``R`` (which OpenSSL checks too) it refuses a small-order
  ``R`` and a small-order or non-canonical public key (which :class:`~kaga_vc.keys.PublicKey` already
  refuses on parsing). A signature only a malicious signer can make is refused, never one more accepted.
* ``ES256K`` — libsecp256k1 through coincurve's own cffi binding: the compact ``r || s`` parsed as is
  (``secp256k1_ecdsa_signature_parse_compact``: ``r``, ``s`` < n) and verified with
  ``secp256k1_ecdsa_verify`` against the public key parsed once — coincurve's ``PublicKey.verify`` takes
  DER only, and the DER round trip (serialise, parse again) plus its Python layers cost about a tenth
  of the verify. Low ``s`` is required (libsecp256k1's rule; the caller reports a high ``s`` with its
  own detail first).
* ``ES256`` / ``ES384`` / ``ES512`` — OpenSSL through ``cryptography``, the key object prepared once.

Every ECDSA signature must be exactly ``2 × coordinate size`` bytes (RFC 7518 §3.4); an Ed25519 one
64 bytes (RFC 8032 §5.1.7). Prepared keys are kept in a bounded LRU (:data:`PREPARED_KEYS`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache

import coincurve
from coincurve._libsecp256k1 import ffi, lib  # type: ignore[import-not-found]  # coincurve's cffi binding
from coincurve.context import GLOBAL_CONTEXT
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ...keys import KeyType, PublicKey

#: how many public keys keep their prepared primitive object (an LRU; a key is 32-133 bytes plus it)
PREPARED_KEYS = 1024

Check = Callable[[bytes, bytes], bool]
"""``check(signing_input, signature) -> bool``: whether the signature holds (never raises)."""

_EC: dict[KeyType, tuple[ec.EllipticCurve, hashes.HashAlgorithm, int]] = {
    KeyType.P256: (ec.SECP256R1(), hashes.SHA256(), 32),
    KeyType.P384: (ec.SECP384R1(), hashes.SHA384(), 48),
    KeyType.P521: (ec.SECP521R1(), hashes.SHA512(), 66),
}


def verify_signature(public_key: PublicKey, signing_input: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s signature of ``signing_input`` (JWS form, see the module)."""
    return _prepared(public_key)(signing_input, signature)


def prepared_check(public_key: PublicKey) -> Check:
    """The check :func:`verify_signature` uses for ``public_key`` (remembered), for a caller that keeps it."""
    return _prepared(public_key)


@lru_cache(maxsize=PREPARED_KEYS)
def _prepared(public_key: PublicKey) -> Check:
    key_type = public_key.key_type
    if key_type is KeyType.ED25519:
        return _ed25519(public_key.raw)
    if key_type is KeyType.SECP256K1:
        return _secp256k1_check(coincurve.PublicKey(public_key.raw))
    if key_type in _EC:
        curve, digest, size = _EC[key_type]
        point = ec.EllipticCurvePublicKey.from_encoded_point(curve, public_key.raw)
        return _ecdsa(point, ec.ECDSA(digest), size)
    return _never


def _never(signing_input: bytes, signature: bytes) -> bool:
    return False


def _ed25519(raw: bytes) -> Check:
    # imported on the first Ed25519 key (a cold verify of another algorithm does not load libsodium)
    from nacl.bindings import crypto_sign_open
    from nacl.exceptions import CryptoError

    def check(signing_input: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            crypto_sign_open(signature + signing_input, raw)
        except (CryptoError, ValueError, TypeError):
            return False
        return True

    return check


def _secp256k1_check(point: coincurve.PublicKey) -> Check:
    """The check of ``point``: what ``point.verify(der(signature), data)`` does, without the DER."""
    context, public_key = GLOBAL_CONTEXT.ctx, point.public_key  # coincurve's context, the parsed point
    parse, verify, new, sha256 = lib.secp256k1_ecdsa_signature_parse_compact, lib.secp256k1_ecdsa_verify, \
        ffi.new, hashlib.sha256

    def check(signing_input: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        parsed = new("secp256k1_ecdsa_signature *")
        if not parse(context, parsed, signature):  # r or s not below n
            return False
        return bool(verify(context, parsed, sha256(signing_input).digest(), public_key) == 1)

    return check


def _ecdsa(point: ec.EllipticCurvePublicKey, algorithm: ec.ECDSA, size: int) -> Check:
    def check(signing_input: bytes, signature: bytes) -> bool:
        if len(signature) != 2 * size:
            return False
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        try:
            point.verify(encode_dss_signature(r, s), signing_input, algorithm)
        except (InvalidSignature, ValueError):
            return False
        return True

    return check
