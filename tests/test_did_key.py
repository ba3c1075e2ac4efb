"""did:key against the did:key specification's own test vectors.

The vectors live in ``tests/vectors/did-key/``; SOURCE.md there names each file's repository, path
and commit. Every vector is checked three ways: (a) the library resolves its DID to the expected
document, (b) ``kaga-vc did resolve`` prints that document, (c) the DID is recomputed from the
vector's key material (public key, seed or private key). Then (d) malformed DIDs must fail with the
DID Resolution error ``invalidDid`` and unknown ``publicKeyFormat`` values with ``UnsupportedError``.

How a vector is compared:

* ``exact`` -- the four upstream test-vector files: the resolved document equals ``didDocument``.
* ``structural`` -- whole documents quoted from the spec's text. Those examples embed the key
  agreement method inside ``keyAgreement``, whereas the spec's normative Document Creation
  Algorithm (which we follow) lists it in ``verificationMethod`` and refers to it by id. DID Core
  §5.3 allows either form and they mean the same, so both sides are normalised (embedded methods
  are moved to ``verificationMethod``, relationships become lists of ids) before comparing.
* ``verificationMethod`` -- spec examples that quote only the ``verificationMethod`` array, which
  must equal ours exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc._encoding import multibase_decode, multibase_encode, multicodec_wrap
from kaga_vc.cli._app import app
from kaga_vc.did import (
    RELATIONSHIPS,
    KeyMethod,
    ResolutionOptions,
    Resolver,
    did_key_from_public_key,
    public_key_from_did_key,
)
from kaga_vc.did.key import ed25519_to_x25519
from kaga_vc.errors import INVALID_DID, ResolutionError, UnsupportedError
from kaga_vc.keys import KeyType, PrivateKey, PublicKey

VECTOR_DIR = Path(__file__).parent / "vectors" / "did-key"

# The resolution options that reproduce each upstream file. The files were generated with the
# legacy verification method types; ``enableEncryptionKeyDerivation`` adds the derived X25519 key
# of an Ed25519 DID, and lists an ECDSA key (which does ECDH itself) under keyAgreement.
FILE_OPTIONS: dict[str, dict[str, Any]] = {
    "ed25519-x25519.json": {
        "publicKeyFormat": "Ed25519VerificationKey2018",
        "enableEncryptionKeyDerivation": True,
    },
    "secp256k1.json": {
        "publicKeyFormat": "EcdsaSecp256k1VerificationKey2019",
        "enableEncryptionKeyDerivation": True,
    },
    "x25519.json": {"publicKeyFormat": "X25519KeyAgreementKey2019"},
    "nist-curves.json": {"publicKeyFormat": "JsonWebKey2020", "enableEncryptionKeyDerivation": True},
}
SPEC_EXAMPLES = "spec-examples.json"

# publicKeyBase58 carries raw bytes whose key type only the verification method type tells.
_BASE58_TYPES = {
    "Ed25519VerificationKey2018": KeyType.ED25519,
    "X25519KeyAgreementKey2019": KeyType.X25519,
    "EcdsaSecp256k1VerificationKey2019": KeyType.SECP256K1,
}
# Key types of the vector files that kaga_vc.keys does not hold yet. Listed, not derived from
# KeyType, so that adding one makes its strict xfails fail until this entry is removed.
_UNSUPPORTED_CURVES: dict[str, str] = {}

# did:key resolution is pure: every test here runs with sockets refused (STYLE.md §7).
pytestmark = pytest.mark.usefixtures("no_network")


@dataclass(frozen=True)
class Vector:
    """One DID of one vector file, with what it must resolve to."""

    file: str
    did: str
    options: dict[str, Any]
    compare: str  # "exact" | "structural" | "verificationMethod"
    expected: Any  # the DID document, or for "verificationMethod" the array
    entry: dict[str, Any]  # the vector's other members: seed, key pairs

    @property
    def id(self) -> str:
        return f"{self.file}:{self.did}"

    @property
    def methods(self) -> list[dict[str, Any]]:
        """Every verification method the vector expects, embedded or not."""
        if self.compare == "verificationMethod":
            return list(self.expected)
        return list(normalise(self.expected)["verificationMethod"].values())

    @property
    def unsupported_reason(self) -> str | None:
        """Why kaga_vc cannot resolve this vector yet (a key type it does not hold), if so."""
        for method in self.methods:
            crv = method.get("publicKeyJwk", {}).get("crv")
            if crv in _UNSUPPORTED_CURVES:
                return _UNSUPPORTED_CURVES[crv]
        return None


def load_vectors() -> list[Vector]:
    """Every vector of every file in tests/vectors/did-key/, in file order."""
    vectors: list[Vector] = []
    for name, options in FILE_OPTIONS.items():
        data = json.loads((VECTOR_DIR / name).read_text(encoding="utf-8"))
        if name == "x25519.json":  # this file nests the documents under one "didDocument" member
            for did, document in data["didDocument"].items():
                vectors.append(Vector(name, did, options, "exact", document, {}))
            continue
        for did, entry in data.items():
            others = {k: v for k, v in entry.items() if k != "didDocument"}
            vectors.append(Vector(name, did, options, "exact", entry["didDocument"], others))
    for example in json.loads((VECTOR_DIR / SPEC_EXAMPLES).read_text(encoding="utf-8")):
        compare = example["compare"]
        expected = (
            example["verificationMethod"] if compare == "verificationMethod" else example["didDocument"]
        )
        file = f"{SPEC_EXAMPLES}#{example['name']}"
        vectors.append(Vector(file, example["did"], example["options"], compare, expected, {}))
    return vectors


def vector_params() -> list[Any]:
    """pytest params, one per vector; unsupported key types are strict xfails, so adding the key
    type turns them into failures that ask for the mark to be removed."""
    params = []
    for vector in load_vectors():
        reason = vector.unsupported_reason
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(vector, id=vector.id, marks=marks))
    return params


def cli_arguments(vector: Vector) -> list[str]:
    """The ``kaga-vc did resolve`` arguments that ask for the vector's options."""
    args = [
        "did",
        "resolve",
        vector.did,
        "--public-key-format",
        vector.options.get("publicKeyFormat", "Multikey"),
    ]
    if vector.options.get("enableEncryptionKeyDerivation"):
        args.append("--enable-encryption-key-derivation")
    return args


def normalise(document: dict[str, Any]) -> dict[str, Any]:
    """Move embedded verification methods into ``verificationMethod`` (keyed by id) and turn every
    relationship into a list of ids; fail on a dangling reference or two different methods sharing
    an id."""
    methods: dict[str, Any] = {}
    for method in document.get("verificationMethod", []):
        assert method["id"] not in methods, f"duplicate verification method {method['id']}"
        methods[method["id"]] = method
    out = {k: v for k, v in document.items() if k != "verificationMethod" and k not in RELATIONSHIPS}
    for relationship in RELATIONSHIPS:
        if relationship not in document:
            continue
        ids = []
        for item in document[relationship]:
            if isinstance(item, dict):
                assert methods.setdefault(item["id"], item) == item, f"conflicting methods {item['id']}"
                ids.append(item["id"])
            else:
                ids.append(item)
        out[relationship] = ids
    for relationship in RELATIONSHIPS:
        for method_id in out.get(relationship, []):
            assert method_id in methods, f"{relationship} refers to a missing method {method_id}"
    out["verificationMethod"] = methods
    return out


def assert_document_matches(vector: Vector, document: dict[str, Any]) -> None:
    if vector.compare == "exact":
        assert document == vector.expected
    elif vector.compare == "structural":
        assert normalise(document) == normalise(vector.expected)
    elif vector.compare == "verificationMethod":
        assert document["verificationMethod"] == vector.expected
    else:  # pragma: no cover - a typo in spec-examples.json
        raise AssertionError(f"unknown comparison {vector.compare!r}")


def public_key_of(method: dict[str, Any]) -> PublicKey:
    """The public key a verification method carries, in whichever property it uses."""
    if "publicKeyMultibase" in method:
        return PublicKey.from_multikey(method["publicKeyMultibase"])
    if "publicKeyJwk" in method:
        return PublicKey.from_jwk(method["publicKeyJwk"])
    return PublicKey.from_raw(_BASE58_TYPES[method["type"]], base58_decode(method["publicKeyBase58"]))


def base58_decode(text: str) -> bytes:
    return multibase_decode("z" + text)


VECTORS = vector_params()
RESOLVER = Resolver({"key": KeyMethod()})


def test_every_vector_file_is_used() -> None:
    """A vector file added to the folder without options here would silently go untested."""
    on_disk = {p.name for p in VECTOR_DIR.glob("*.json")}
    assert on_disk == set(FILE_OPTIONS) | {SPEC_EXAMPLES}
    assert len(VECTORS) == 5 + 5 + 3 + 6 + 4


# -- (a) library -------------------------------------------------------------------------------
@pytest.mark.parametrize("vector", VECTORS)
def test_library_resolves_vector(vector: Vector) -> None:
    result = RESOLVER.resolve(vector.did, ResolutionOptions(properties=vector.options))
    assert_document_matches(vector, result.did_document)


# -- (b) CLI -----------------------------------------------------------------------------------
@pytest.mark.parametrize("vector", VECTORS)
def test_cli_prints_vector_document(vector: Vector) -> None:
    result = CliRunner().invoke(app, cli_arguments(vector))
    assert result.exit_code == 0, result.output
    assert_document_matches(vector, json.loads(result.stdout))


# -- (c) DID <-> key ---------------------------------------------------------------------------
@pytest.mark.parametrize("vector", VECTORS)
def test_did_is_computed_from_vector_key(vector: Vector) -> None:
    fingerprint = vector.did.rsplit(":", 1)[-1]
    by_fragment = {m["id"].rsplit("#", 1)[-1]: m for m in vector.methods}
    # The method whose fragment is the DID's own fingerprint holds the DID's key (v0.7 §Create).
    key = public_key_of(by_fragment.pop(fingerprint))
    assert did_key_from_public_key(key) == vector.did
    assert public_key_from_did_key(vector.did) == key

    for fragment, method in by_fragment.items():  # only the derived X25519 key is left
        derived = public_key_of(method)
        assert key.key_type is KeyType.ED25519
        assert derived == ed25519_to_x25519(key)
        assert derived.to_multikey() == fragment

    entry = vector.entry
    if "seed" in entry:  # Ed25519 seed, or the secp256k1 private key itself
        assert PrivateKey.from_bytes(key.key_type, bytes.fromhex(entry["seed"])).public_key == key
    pair = entry.get("verificationKeyPair", {})
    if "privateKeyBase58" in pair:
        assert PrivateKey.from_bytes(key.key_type, base58_decode(pair["privateKeyBase58"])).public_key == key
    if "publicKeyBase58" in pair:
        assert public_key_of(pair) == key
    agreement = entry.get("keyAgreementKeyPair")
    if agreement:
        x_key = ed25519_to_x25519(key)
        assert public_key_of(agreement) == x_key
        assert (
            PrivateKey.from_bytes(KeyType.X25519, base58_decode(agreement["privateKeyBase58"])).public_key
            == x_key
        )
    jwk_pair = entry.get("verificationMethod", {})  # nist-curves.json names its key pair so
    if "privateKeyJwk" in jwk_pair:
        assert PrivateKey.from_jwk(jwk_pair["privateKeyJwk"]).public_key == key
        assert PublicKey.from_jwk(jwk_pair["publicKeyJwk"]) == key


# -- default output: the current spec's Multikey form ------------------------------------------
def test_default_is_multikey_without_key_agreement() -> None:
    """v0.7 §"Document Creation Algorithm": keyAgreement only with enableEncryptionKeyDerivation."""
    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    document = RESOLVER.resolve(did).did_document
    vm_id = f"{did}#{did.rsplit(':', 1)[-1]}"
    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": did.rsplit(":", 1)[-1]}
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityInvocation": [vm_id],
        "capabilityDelegation": [vm_id],
    }


# -- (d) negative cases ------------------------------------------------------------------------
_ED25519_KEY = PrivateKey.from_bytes(KeyType.ED25519, bytes(32)).public_key.raw
_P256_KEY = PrivateKey.from_bytes(KeyType.P256, (1).to_bytes(32, "big")).public_key  # the generator G


def _did(codec: str, raw: bytes) -> str:
    return "did:key:" + multibase_encode(multicodec_wrap(codec, raw))


def _p256_x_without_point() -> bytes:
    """The smallest x for which x^3 - 3x + b is not a square mod p: no P-256 point has it."""
    p = 2**256 - 2**224 + 2**192 + 2**96 - 1
    b = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
    x = next(x for x in range(1, 1000) if pow((x**3 - 3 * x + b) % p, (p - 1) // 2, p) == p - 1)
    return x.to_bytes(32, "big")


# A BLS12-381 G2 DID from the spec's bls12381.json vectors (w3c-ccg/did-method-key @ 801b0a91):
# a key type kaga_vc does not hold, so the DID encodes no key it can resolve.
_BLS12381_DID = (
    "did:key:zUC7K4ndUaGZgV7Cp2yJy6JtMoUHY6u7tkcSYUvPrEidqBmLCTLmi6d5WvwnUqejscAkERJ3bfjEiSYtdPkRSE8kSa11"
    "hFBr4sTgnbZ95SJj19PN2jdvJjyzpSZgxkyyxNnBNnY"
)
INVALID_DIDS = {
    "not-base58": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDoo0O",  # '0' and 'O' are not base58
    "wrong-multibase-prefix": "did:key:f" + multicodec_wrap("ed25519-pub", _ED25519_KEY).hex(),
    "unknown-multicodec": "did:key:" + multibase_encode(b"\xff\xff\x03" + _ED25519_KEY),
    "non-key-multicodec": _did("sha2-256", bytes(32)),
    "truncated-ed25519": _did("ed25519-pub", _ED25519_KEY[:-1]),
    "truncated-p256": _did("p256-pub", _P256_KEY.raw[:-1]),
    "p256-not-on-curve": _did("p256-pub", b"\x02" + _p256_x_without_point()),
    "p256-uncompressed": _did("p256-pub", _P256_KEY.uncompressed()),  # the spec says 33 bytes
    "multibase-prefix-only": "did:key:z",
    "unknown-version": "did:key:2:" + _did("ed25519-pub", _ED25519_KEY).rsplit(":", 1)[-1],
    "unsupported-bls12381": _BLS12381_DID,
    "unsupported-rsa": _did("rsa-pub", bytes(270)),
    "empty-id": "did:key:",
    "not-a-did": "key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
}


@pytest.mark.parametrize("did", INVALID_DIDS.values(), ids=INVALID_DIDS.keys())
def test_malformed_did_key_is_invalid_did(did: str) -> None:
    with pytest.raises(ResolutionError) as caught:
        public_key_from_did_key(did)
    assert caught.value.code == INVALID_DID
    with pytest.raises(ResolutionError) as caught:
        RESOLVER.resolve(did)
    assert caught.value.code == INVALID_DID


def test_other_method_is_invalid_for_public_key_from_did_key() -> None:
    with pytest.raises(ResolutionError) as caught:
        public_key_from_did_key("did:web:example.com")
    assert caught.value.code == INVALID_DID


@pytest.mark.parametrize("name", ["not-base58", "unsupported-bls12381", "p256-not-on-curve"])
def test_cli_reports_invalid_did(name: str) -> None:
    result = CliRunner().invoke(app, ["did", "resolve", INVALID_DIDS[name], "--json"])
    assert result.exit_code == 3  # input unreadable or malformed (STYLE.md §9)
    assert json.loads(result.stdout)["error"]["code"] == INVALID_DID


@pytest.mark.parametrize(
    ("did", "public_key_format"),
    [
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "NoSuchVerificationKey2099"),
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "EcdsaSecp256k1VerificationKey2019"),
        ("did:key:z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F", "Ed25519VerificationKey2018"),
        ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "Ed25519VerificationKey2020"),
    ],
    ids=["unknown-format", "ed25519-as-secp256k1", "x25519-as-ed25519", "secp256k1-as-ed25519"],
)
def test_unsupported_public_key_format(did: str, public_key_format: str) -> None:
    with pytest.raises(UnsupportedError):
        RESOLVER.resolve(did, ResolutionOptions(properties={"publicKeyFormat": public_key_format}))
    result = CliRunner().invoke(
        app, ["did", "resolve", did, "--public-key-format", public_key_format, "--json"]
    )
    assert result.exit_code != 0
    assert "error" in json.loads(result.stdout)
