"""What protects the subject: the keyed index, encryption to the subject's key, the access challenge.

- **Keyed index**: ``HMAC-SHA256(log key, DID)``. The stored log never holds the plain subject DID,
  and because DIDs are public and guessable, a plain hash would not do: without the log key nobody
  can tell whose entries they are. With it (the log operator) one can find the entries of a DID one
  already knows, never read what was disclosed.
- **Subject data**: the subject DID and the disclosed claim names are a JWE (RFC 7516, compact)
  ``ECDH-ES`` + ``A256GCM`` to the subject's key agreement key (X25519, or the X25519 form of a
  did:key Ed25519 key): made on the primitives (a fresh ephemeral key per entry), opened by jwcrypto.
- **Challenge**: the subject signs ``{iss: DID, aud: log id, nonce, exp}`` as a compact JWS with a key
  of their ``authentication`` relationship; the log checks it through the ``Resolver`` and consumes the
  nonce once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache
from os import urandom
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.bindings import crypto_scalarmult, crypto_scalarmult_base
from nacl.exceptions import RuntimeError as SodiumError

from .._encoding import b64url_encode
from ..did import DID, Resolver
from ..did.key import ed25519_to_x25519, public_key_from_did_key
from ..errors import (
    DECRYPTION_FAILED,
    SUBJECT_KEY_UNUSABLE,
    AccessLogError,
    KagaError,
)
from ..keys import KeyType, PrivateKey, PublicKey

JSONObject = dict[str, Any]

INDEX_CONTEXT = b"kaga-vc access log subject index v1\x00"
KEY_CHECK_CONTEXT = b"kaga-vc access log key check v1"
JWE_ALG, JWE_ENC = "ECDH-ES", "A256GCM"
CHALLENGE_TYP = "kaga-access-history+jwt"
_AGREEMENT_TYPES = (KeyType.X25519, KeyType.P256, KeyType.P384, KeyType.P521)


def subject_index(log_key: bytes, did: str) -> str:
    """The keyed index of a subject DID: base64url(HMAC-SHA256(log key, context || DID))."""
    return b64url_encode(hmac.new(log_key, INDEX_CONTEXT + did.encode("utf-8"), hashlib.sha256).digest())


def key_check(log_key: bytes) -> str:
    """A value stored beside the log so that opening it with another key is refused, not silently forked."""
    return b64url_encode(hmac.new(log_key, KEY_CHECK_CONTEXT, hashlib.sha256).digest())


def encryption_key(did: str, resolver: Resolver | None) -> PublicKey:
    """The key to encrypt to for ``did``: its first usable ``keyAgreement`` key.

    A did:key Ed25519 DID (the residents' wallets) uses the X25519 form of its key (did:key v0.7
    "Derive Encryption Key"). Raises :class:`AccessLogError` ``kaga:subject-key-unusable``.
    """
    parsed = DID.parse(did)
    if parsed.method == "key":  # the document is a pure function of the DID: no resolver needed
        return _did_key_agreement(did)
    if resolver is not None:
        document = resolver.resolve_document(did)
        for method_id in document.relationship("keyAgreement"):
            method = document.verification_method(method_id)
            if method is None:
                continue
            try:
                key = method.public_key()
            except KagaError:
                continue
            if key.key_type in _AGREEMENT_TYPES:
                return key
    raise AccessLogError(SUBJECT_KEY_UNUSABLE, f"{did} has no key agreement key to encrypt its log entries to")


@lru_cache(maxsize=4096)
def _did_key_agreement(did: str) -> PublicKey:
    key = public_key_from_did_key(did)
    if key.key_type is KeyType.ED25519:
        return ed25519_to_x25519(key)  # did:key v0.7 "Derive Encryption Key"
    if key.key_type in _AGREEMENT_TYPES:
        return key
    raise AccessLogError(SUBJECT_KEY_UNUSABLE, f"{did} has no key agreement key to encrypt its log entries to")


def agreement_private_key(key: PrivateKey) -> PrivateKey:
    """The private key that opens JWEs made for :func:`encryption_key` of this key's DID.

    Ed25519: the X25519 scalar is the first half of SHA-512(seed), clamped (RFC 8032 §5.1.5 steps 1-2,
    RFC 7748 §5), the same mapping as libsodium's ``crypto_sign_ed25519_sk_to_curve25519``.
    """
    if key.key_type is KeyType.ED25519:
        scalar = bytearray(hashlib.sha512(key.to_bytes()).digest()[:32])
        scalar[0] &= 248
        scalar[31] = (scalar[31] & 127) | 64
        return PrivateKey.from_bytes(KeyType.X25519, bytes(scalar))
    if key.key_type in _AGREEMENT_TYPES:
        return key
    raise AccessLogError(SUBJECT_KEY_UNUSABLE, f"a {key.key_type.value} key cannot open the subject's entries")


def encrypt_subject_data(data: JSONObject, recipient: PublicKey) -> str:
    """Compact JWE of ``data`` to ``recipient`` (ECDH-ES, A256GCM); no header names the subject.

    Written on the primitives (RFC 7518 §4.6: a fresh ephemeral X25519 key per token, the Concat KDF over
    the shared secret, AES-256-GCM with the protected header as AAD): every logged entry with a subject is
    sealed, and jwcrypto's object model cost more than the cryptography. The two X25519 operations are
    libsodium's (its fixed-base multiplication is about twice as fast as OpenSSL's key generation, which
    computes the same public key). jwcrypto opens the token
    (:func:`decrypt_subject_data`), which the tests hold it to."""
    payload = subject_payload(data)
    if recipient.key_type is not KeyType.X25519:
        return _encrypt_with_jwcrypto(payload, recipient)  # a P-256/384/521 keyAgreement key
    return seal_x25519(payload, recipient.raw)


TOKEN_RANDOM_BYTES = 44  # a token's ephemeral X25519 scalar (32) and AES-GCM IV (12)


def subject_random(size: int) -> bytes:
    """Randomness for sealing (the operating system's; one call may draw for a group of tokens)."""
    return urandom(size)


def subject_payload(data: JSONObject) -> bytes:
    """The plaintext of a subject-data token: the data's sorted, compact JSON in UTF-8."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def seal_x25519(payload: bytes, recipient: bytes, drawn: bytes | None = None) -> str:
    """The compact ECDH-ES + A256GCM JWE of ``payload`` to a raw X25519 public key (RFC 7518 §4.6).

    ``drawn``: the token's :data:`TOKEN_RANDOM_BYTES` of fresh randomness when the caller drew it (a
    group's at once), else drawn here."""
    if drawn is None:
        drawn = subject_random(TOKEN_RANDOM_BYTES)
    ephemeral, iv = drawn[:32], drawn[32:]  # libsodium clamps the scalar (RFC 7748 §5) as key generation does
    try:
        shared = crypto_scalarmult(ephemeral, recipient)
    except SodiumError:  # a small-order point: libsodium refuses the all-zero secret
        raise AccessLogError(SUBJECT_KEY_UNUSABLE, "the subject's key cannot be encrypted to (a small-order point)") from None
    protected = b64url_encode(_HEADER_START + b64url_encode(crypto_scalarmult_base(ephemeral)).encode("ascii")
                              + _HEADER_END)
    cek = hashlib.sha256(_KDF_ROUND + shared + _KDF_OTHER).digest()
    sealed = AESGCM(cek).encrypt(iv, payload, protected.encode("ascii"))
    return ".".join((protected, "", b64url_encode(iv), b64url_encode(sealed[:-16]), b64url_encode(sealed[-16:])))


# the protected header's bytes around the ephemeral key: json.dumps of {"alg", "enc", "epk": {crv, kty, x}}
_HEADER_START = b'{"alg":"ECDH-ES","enc":"A256GCM","epk":{"crv":"X25519","kty":"OKP","x":"'
_HEADER_END = b'"}}'


def _encrypt_with_jwcrypto(payload: bytes, recipient: PublicKey) -> str:
    from jwcrypto import jwe, jwk  # type: ignore[import-untyped]
    from jwcrypto.common import JWException  # type: ignore[import-untyped]

    try:
        token = jwe.JWE(payload, protected=json.dumps({"alg": JWE_ALG, "enc": JWE_ENC}),
                        recipient=jwk.JWK(**recipient.to_jwk()))
        return str(token.serialize(compact=True))
    except (JWException, ValueError, TypeError) as exc:
        raise AccessLogError(SUBJECT_KEY_UNUSABLE, f"the subject's key cannot be encrypted to ({type(exc).__name__})") from None


# RFC 7518 §4.6.2 (NIST SP 800-56A Concat KDF, SHA-256) for A256GCM with empty apu/apv: one round,
# SHA-256(round 1 || Z || AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo = 256 bits)
_KDF_ROUND = (1).to_bytes(4, "big")
_KDF_OTHER = (len(JWE_ENC).to_bytes(4, "big") + JWE_ENC.encode("ascii") + (0).to_bytes(4, "big")
              + (0).to_bytes(4, "big") + (256).to_bytes(4, "big"))


def decrypt_subject_data(token: str, key: PrivateKey) -> JSONObject:
    """Open a subject-data JWE with the subject's key; ``kaga:decryption-failed`` if it is not theirs."""
    from jwcrypto import jwe, jwk
    from jwcrypto.common import JWException

    private = agreement_private_key(key)
    try:
        opened = jwe.JWE()
        opened.deserialize(token, key=jwk.JWK(**private.to_jwk()))
        if opened.jose_header.get("alg") != JWE_ALG or opened.jose_header.get("enc") != JWE_ENC:
            raise AccessLogError(DECRYPTION_FAILED, "unexpected JWE algorithms")
        data = json.loads(opened.payload)
    except (JWException, ValueError, TypeError, KeyError) as exc:
        raise AccessLogError(DECRYPTION_FAILED, f"this key does not open the entry ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise AccessLogError(DECRYPTION_FAILED, "the subject data is not a JSON object")
    return data
