"""The specifications' test vectors (tests/vectors/*/SOURCE.md says where each file comes from)."""

from __future__ import annotations

import hashlib

import pytest

from kaga_vc._encoding import multibase_decode
from kaga_vc.credentials import verify_credential
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.keys import KeySigner, PrivateKey, PublicKey
from kaga_vc.proofs import EcdsaRdfc2019, EddsaRdfc2022, ProofOptions, canonize, default_document_loader
from kaga_vc.proofs.data_integrity import parse_datetime

from .conftest import NOW, VECTORS, load_json

pytestmark = pytest.mark.usefixtures("no_network")

EDDSA = VECTORS / "eddsa-rdfc-2022"
P256 = VECTORS / "ecdsa-rdfc-2019-p256"
P384 = VECTORS / "ecdsa-rdfc-2019-p384"


def _text(path) -> str:
    return path.read_text(encoding="utf-8").strip()


def _split(signed: dict) -> tuple[dict, dict]:
    document = {k: v for k, v in signed.items() if k != "proof"}
    return document, signed["proof"]


def test_eddsa_proof_configuration_canonical_form() -> None:
    config = load_json(EDDSA / "proofConfigDataInt.json")
    assert canonize(config, default_document_loader()) == (EDDSA / "proofCanonDataInt.txt").read_text("utf-8")


def test_eddsa_hash_data_equals_combined_hash() -> None:
    document, proof = _split(load_json(EDDSA / "signedDataInt.json"))
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    hash_data = EddsaRdfc2022().hash_data(document, options, default_document_loader())
    assert hash_data.hex() == _text(EDDSA / "combinedHashDataInt.txt")


def test_eddsa_signature_recreated_byte_for_byte() -> None:
    keys = load_json(EDDSA / "keyPair.json")
    key = PrivateKey.from_multikey(keys["privateKeyMultibase"])
    assert key.public_key.to_multikey() == keys["publicKeyMultibase"]
    signed = load_json(EDDSA / "signedDataInt.json")
    document, proof = _split(signed)
    options = ProofOptions(
        verification_method=proof["verificationMethod"], created=parse_datetime(proof["created"], "created")
    )
    recreated = EddsaRdfc2022().create_proof(document, options, KeySigner(key, proof["verificationMethod"]), default_document_loader())
    assert recreated["proof"]["proofValue"] == _text(EDDSA / "sigBTC58DataInt.txt") == proof["proofValue"]
    assert recreated == signed


def test_eddsa_signed_vector_verifies_and_tampering_fails() -> None:
    document, proof = _split(load_json(EDDSA / "signedDataInt.json"))
    public_key = PublicKey.from_multikey(load_json(EDDSA / "keyPair.json")["publicKeyMultibase"])
    EddsaRdfc2022().verify_proof(document, proof, public_key, default_document_loader())
    with pytest.raises(Exception) as info:
        EddsaRdfc2022().verify_proof({**document, "name": "Alumni Credentia1"}, proof, public_key, default_document_loader())
    assert getattr(info.value, "code", None) == "PROOF_VERIFICATION_ERROR"


@pytest.mark.parametrize("folder,signed,combined", [
    (P256, "signedECDSAP256.json", "combinedHashECDSAP256.txt"),
    (P384, "signedECDSAP384.json", "combinedHashECDSAP384.txt"),
])
def test_ecdsa_document_hash_equals_vector(folder, signed, combined) -> None:
    document, _ = _split(load_json(folder / signed))
    digest = hashlib.sha384 if "384" in signed else hashlib.sha256
    transformed = canonize(document, default_document_loader())
    # the second half of the combined hash is the transformed document's hash (SOURCE.md)
    assert _text(folder / combined).endswith(digest(transformed.encode()).hexdigest())


def test_ecdsa_p256_vector_signature_over_its_revision() -> None:
    """The P-256 vector predates the typed cryptosuite literal: check it at the hash level."""
    document, proof = _split(load_json(P256 / "signedECDSAP256.json"))
    proof_canon = (P256 / "proofCanonECDSAP256.txt").read_text("utf-8")
    assert hashlib.sha256(proof_canon.encode()).hexdigest() == _text(P256 / "proofHashECDSAP256.txt")
    hash_data = hashlib.sha256(proof_canon.encode()).digest() + hashlib.sha256(
        canonize(document, default_document_loader()).encode()
    ).digest()
    public_key = PublicKey.from_multikey(load_json(P256 / "p256KeyPair.json")["publicKeyMultibase"])
    public_key.verify(multibase_decode(proof["proofValue"]), hash_data)


def test_ecdsa_p384_proof_canonical_form() -> None:
    document, proof = _split(load_json(P384 / "signedECDSAP384-didkey.json"))
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    assert canonize(config, default_document_loader()) == (P384 / "proofCanonECDSAP384.txt").read_text("utf-8")


def test_ecdsa_p384_vector_verifies_end_to_end_through_did_key() -> None:
    signed = load_json(P384 / "signedECDSAP384-didkey.json")
    document, proof = _split(signed)
    public_key = PublicKey.from_multikey(load_json(P384 / "p384KeyPair.json")["publicKeyMultibase"])
    EcdsaRdfc2019().verify_proof(document, proof, public_key, default_document_loader())
    # through the entry point: the signature verifies; the issuer (an https URL) is not the key's DID
    result = verify_credential(signed, resolver=Resolver({"key": KeyMethod()}), now=NOW)
    assert "signature" in result.checks
    assert result.codes == ["kaga:issuer-mismatch"]


@pytest.mark.parametrize("folder,pair", [(P256, "p256KeyPair.json"), (P384, "p384KeyPair.json")])
def test_ecdsa_vector_keys_sign_and_verify(folder, pair) -> None:
    keys = load_json(folder / pair)
    key = PrivateKey.from_multikey(keys.get("secretKeyMultibase") or keys["privateKeyMultibase"])
    assert key.public_key.to_multikey() == keys["publicKeyMultibase"]
    document, proof = _split(load_json(folder / ("signedECDSAP256.json" if "256" in pair else "signedECDSAP384.json")))
    options = ProofOptions(verification_method=proof["verificationMethod"])
    signed = EcdsaRdfc2019().create_proof(document, options, KeySigner(key, proof["verificationMethod"]), default_document_loader())
    EcdsaRdfc2019().verify_proof(document, signed["proof"], key.public_key, default_document_loader())
