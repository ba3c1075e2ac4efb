"""did:key (W3C CCG did:key method v0.7): create and resolve, pure and offline.

The method-specific id is the Multikey value of the public key. Resolution options follow the
spec's: ``publicKeyFormat`` (``Multikey`` by default; ``JsonWebKey2020`` or the key type's legacy
verification method type) and ``enableEncryptionKeyDerivation`` (derive an X25519 key agreement
method from an Ed25519 key).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

from .._encoding import multibase_decode, multicodec_unwrap, multicodec_wrap
from ..errors import INVALID_DID, KagaError, ResolutionError, UnsupportedError
from ..keys import KeyType, PublicKey
from ._resolver import ResolutionOptions, ResolutionResult
from ._syntax import DID

DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
JWS_2020_V1 = "https://w3id.org/security/suites/jws-2020/v1"

# Legacy verification method types: key type → (type, context, key property).
_LEGACY: dict[str, tuple[KeyType, str, str]] = {
    "Ed25519VerificationKey2018": (KeyType.ED25519, "https://w3id.org/security/suites/ed25519-2018/v1", "publicKeyBase58"),
    "Ed25519VerificationKey2020": (KeyType.ED25519, "https://w3id.org/security/suites/ed25519-2020/v1", "publicKeyMultibase"),
    "EcdsaSecp256k1VerificationKey2019": (KeyType.SECP256K1, "https://w3id.org/security/suites/secp256k1-2019/v1", "publicKeyBase58"),
}
# The key agreement counterpart of each Ed25519 format, when derivation is enabled.
_X25519_FORMAT = {
    "Ed25519VerificationKey2018": ("X25519KeyAgreementKey2019", "https://w3id.org/security/suites/x25519-2019/v1", "publicKeyBase58"),
    "Ed25519VerificationKey2020": ("X25519KeyAgreementKey2020", "https://w3id.org/security/suites/x25519-2020/v1", "publicKeyMultibase"),
}
SIGNING_RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation")


def did_key_from_public_key(public_key: PublicKey) -> str:
    """The did:key DID of a public key."""
    return f"did:key:{public_key.to_multikey()}"


def public_key_from_did_key(did: str | DID) -> PublicKey:
    """Decode the public key a did:key DID carries; ``invalidDid`` if it carries none."""
    parsed = did if isinstance(did, DID) else DID.parse(did)
    if parsed.method != "key":
        raise ResolutionError(INVALID_DID, "not a did:key DID")
    return _decode_method_specific_id(parsed.method_specific_id)


#: how many did:key identifiers keep their decoded key (decoding is base58 + a curve point check)
DECODED_KEYS = 1024


@lru_cache(maxsize=DECODED_KEYS)
def _decode_method_specific_id(msid: str) -> PublicKey:
    # did:key is a pure function of its identifier, so the decoded key is remembered (bounded LRU):
    # a verifier seeing one issuer's credentials decodes that issuer's key once, not per credential.
    if ":" in msid:  # did:key:<version>:<multibase> (v0.7 §3.1.2): only version 1 exists
        version, _, msid = msid.partition(":")
        if version != "1":
            raise ResolutionError(INVALID_DID, "unsupported did:key version")
    if not msid.startswith("z"):
        raise ResolutionError(INVALID_DID, "did:key identifiers are base58btc multibase ('z')")
    try:
        data = multibase_decode(msid)
        codec, raw = multicodec_unwrap(data)
        public_key = PublicKey.from_raw(KeyType.from_multicodec(codec), raw)
    except KagaError as exc:
        raise ResolutionError(INVALID_DID, f"did:key does not encode a supported key: {exc.detail}") from None
    # v0.7 §"Signature Method Creation Algorithm" step 3: the raw key has one length per multicodec
    # (33 bytes, compressed, for secp256k1 and P-256). The identifier must be the canonical encoding of
    # the key, so that one key has exactly one did:key: its bytes the key's own multicodec value (no
    # uncompressed point, no longer varint), with no leading "1" (a zero byte no multicodec starts with).
    # Base58 is positional, so these bytes have one spelling: re-encoding them would give ``msid`` back.
    if msid.startswith("z1") or multicodec_wrap(public_key.key_type.info.multicodec_pub, public_key.raw) != data:
        raise ResolutionError(INVALID_DID, "did:key does not use the canonical (compressed) key encoding")
    return public_key


@lru_cache(maxsize=DECODED_KEYS)
def _multikey(public_key: PublicKey) -> str:
    return public_key.to_multikey()


def ed25519_to_x25519(public_key: PublicKey) -> PublicKey:
    """Map an Ed25519 public key to its X25519 (Montgomery) form: u = (1 + y) / (1 - y) mod p."""
    p = 2**255 - 19
    y = int.from_bytes(public_key.raw, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, p - 2, p) % p
    return PublicKey.from_raw(KeyType.X25519, u.to_bytes(32, "little"))


class KeyMethod:
    """did:key resolver (``Resolver({"key": KeyMethod()})``)."""

    method: ClassVar[str] = "key"

    def __init__(self, *, public_key_format: str = "Multikey", enable_encryption_key_derivation: bool = False) -> None:
        self.public_key_format = public_key_format
        self.enable_encryption_key_derivation = enable_encryption_key_derivation

    def resolve(self, did: DID, options: ResolutionOptions) -> ResolutionResult:
        fmt = str(options.properties.get("publicKeyFormat", self.public_key_format))
        derive = bool(options.properties.get("enableEncryptionKeyDerivation", self.enable_encryption_key_derivation))
        public_key = public_key_from_did_key(did)
        document = build_did_key_document(str(did), public_key, public_key_format=fmt, enable_encryption_key_derivation=derive)
        return ResolutionResult(document, {}, {"contentType": options.accept})


def build_did_key_document(
    did: str,
    public_key: PublicKey,
    *,
    public_key_format: str = "Multikey",
    enable_encryption_key_derivation: bool = False,
) -> dict[str, Any]:
    """Expand a did:key into its DID document (did:key v0.7 §"Document Creation Algorithm").

    https://w3c-ccg.github.io/did-method-key/#document-creation-algorithm. Without
    ``enable_encryption_key_derivation`` a signing key gets the four signing relationships and no
    ``keyAgreement``, as the algorithm says; an X25519 key gets ``keyAgreement`` only. Raises
    :class:`UnsupportedError` for a ``public_key_format`` unknown here or unable to hold the key.
    """
    fingerprint = did.rsplit(":", 1)[-1]
    contexts = [DID_V1]
    methods: list[dict[str, Any]] = []

    signing = public_key.key_type is not KeyType.X25519
    vm = _verification_method(did, fingerprint, public_key, public_key_format, contexts)
    methods.append(vm)
    document: dict[str, Any] = {"@context": contexts, "id": did, "verificationMethod": methods}
    if signing:
        for rel in SIGNING_RELATIONSHIPS:
            document[rel] = [vm["id"]]
    else:
        document["keyAgreement"] = [vm["id"]]
    if signing and enable_encryption_key_derivation:
        if public_key.key_type is KeyType.ED25519:
            # v0.7 §"Derive Encryption Key Algorithm": Ed25519 → X25519 (0xed → 0xec).
            x_key = ed25519_to_x25519(public_key)
            x_fmt = _X25519_FORMAT.get(public_key_format, (public_key_format, "", ""))[0]
            x_vm = _verification_method(did, x_key.to_multikey(), x_key, x_fmt, contexts)
            methods.append(x_vm)
            document["keyAgreement"] = [x_vm["id"]]
        else:
            # The spec defines derivation only for 0xed. An ECDSA key (secp256k1, P-256, P-384)
            # does ECDH itself; the spec's test vectors (secp256k1.json, nist-curves.json) list
            # the signing method under keyAgreement, so that is what "derivation" means here.
            document["keyAgreement"] = [vm["id"]]
    return document


def _verification_method(did: str, fragment: str, key: PublicKey, fmt: str, contexts: list[Any]) -> dict[str, Any]:
    vm: dict[str, Any] = {"id": f"{did}#{fragment}", "type": fmt, "controller": did}
    if fmt == "Multikey":
        _add(contexts, MULTIKEY_V1)
        vm["publicKeyMultibase"] = _multikey(key)
    elif fmt == "JsonWebKey2020":
        _add(contexts, JWS_2020_V1)
        vm["publicKeyJwk"] = key.to_jwk()
    elif fmt in _LEGACY or fmt in {v[0] for v in _X25519_FORMAT.values()}:
        spec = _LEGACY.get(fmt) or next(
            (KeyType.X25519, ctx, prop) for (name, ctx, prop) in _X25519_FORMAT.values() if name == fmt
        )
        key_type, ctx, prop = spec
        if key_type is not key.key_type:
            raise UnsupportedError("kaga:unsupported-public-key-format", f"{fmt} cannot hold a {key.key_type.value} key")
        _add(contexts, ctx)
        if prop == "publicKeyBase58":
            vm[prop] = _base58(key.raw)
        else:
            vm[prop] = key.to_multikey()
    else:
        raise UnsupportedError("kaga:unsupported-public-key-format", f"unsupported publicKeyFormat {fmt!r}")
    return vm


def _base58(data: bytes) -> str:
    from .._encoding import multibase_encode

    return multibase_encode(data)[1:]


def _add(contexts: list[Any], url: str) -> None:
    if url not in contexts:
        contexts.append(url)


__all__ = [
    "KeyMethod",
    "build_did_key_document",
    "did_key_from_public_key",
    "ed25519_to_x25519",
    "public_key_from_did_key",
]
