"""Proof sets and proof chains (VC-DI 1.0 §4.3 / §4.5), VC 1.1 with Data Integrity, P-384 issuance."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from kaga_vc.credentials import issue_credential, verify_credential
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.keys import KeyType
from kaga_vc.proofs import EcdsaRdfc2019, EddsaRdfc2022, add_proof, default_document_loader
from kaga_vc.proofs.data_integrity import DATA_INTEGRITY_CONTEXT, with_data_integrity_context

from .conftest import NOW, make_signer, unsigned_credential

pytestmark = pytest.mark.usefixtures("no_network")

ISSUER = make_signer(seed=31)
WITNESS = make_signer(seed=32)
NOTARY = make_signer(KeyType.P256)
RESOLVER = Resolver({"key": KeyMethod()})
CREATED = datetime(2025, 1, 2, tzinfo=UTC)
VC_V1 = "https://www.w3.org/2018/credentials/v1"


def _did(signer: Any) -> str:
    return str(signer.key_id.split("#")[0])


def _add(document: dict[str, Any], signer: Any, **kwargs: Any) -> dict[str, Any]:
    suite = EddsaRdfc2022() if signer.key_type is KeyType.ED25519 else EcdsaRdfc2019()
    return add_proof(document, suite=suite, signer=signer, created=CREATED, loader=default_document_loader(), **kwargs)


def _issued() -> dict[str, Any]:
    return issue_credential(unsigned_credential(issuer=_did(ISSUER)), signer=ISSUER, created=CREATED)


def _chain() -> dict[str, Any]:
    """The issuer's proof (with an id), then a witness's proof chained to it, then a notary's to the witness's."""
    first = _add(unsigned_credential(issuer=_did(ISSUER)), ISSUER, proof_id="urn:uuid:proof-1")
    second = _add(first, WITNESS, proof_id="urn:uuid:proof-2", previous_proof="urn:uuid:proof-1")
    return _add(second, NOTARY, previous_proof=["urn:uuid:proof-2"])


def _codes(document: Any) -> list[str]:
    return verify_credential(document, resolver=RESOLVER, now=NOW).codes


def test_proof_set_of_two_keys_verifies() -> None:
    both = _add(_issued(), WITNESS)
    assert isinstance(both["proof"], list) and len(both["proof"]) == 2
    result = verify_credential(both, resolver=RESOLVER, now=NOW)
    assert result.verified, result.to_json()
    assert "proofSet" in result.checks
    # each proof of a set signs the unsecured document: dropping one leaves a valid credential
    alone = {**both, "proof": both["proof"][0]}
    assert verify_credential(alone, resolver=RESOLVER, now=NOW).verified


def test_every_proof_of_a_set_must_hold() -> None:
    both = _add(_issued(), WITNESS)
    both["proof"][1]["proofValue"] = both["proof"][0]["proofValue"]
    result = verify_credential(both, resolver=RESOLVER, now=NOW)
    assert result.codes == ["PROOF_VERIFICATION_ERROR"]
    assert result.problems[0].context["proof"] == 1


def test_proof_set_without_the_issuers_proof_is_refused() -> None:
    # two valid proofs, neither by the issuer: a witness cannot stand in for the issuer
    forged = _add(_add(unsigned_credential(issuer=_did(ISSUER)), WITNESS), NOTARY)
    assert _codes(forged) == ["kaga:issuer-mismatch"]


def test_proof_chain_verifies_in_any_order() -> None:
    chain = _chain()
    assert [p.get("previousProof") for p in chain["proof"]] == [None, "urn:uuid:proof-1", ["urn:uuid:proof-2"]]
    result = verify_credential(chain, resolver=RESOLVER, now=NOW)
    assert result.verified, result.to_json()
    assert "proofChain" in result.checks
    reordered = {**chain, "proof": list(reversed(chain["proof"]))}  # a proof set is unordered
    assert verify_credential(reordered, resolver=RESOLVER, now=NOW).verified


def test_a_chain_link_signs_the_proof_it_follows() -> None:
    chain = _chain()
    # the issuer's proof re-dated: its own signature and the witness's (which covers it) both break
    chain["proof"][0]["created"] = "2025-01-05T00:00:00Z"
    result = verify_credential(chain, resolver=RESOLVER, now=NOW)
    assert result.codes == ["PROOF_VERIFICATION_ERROR", "PROOF_VERIFICATION_ERROR"]
    assert sorted(p.context["proof"] for p in result.problems) == [0, 1]


def test_removing_a_previous_proof_breaks_the_chain() -> None:
    chain = _chain()
    chain["proof"] = [chain["proof"][0], chain["proof"][2]]  # the witness's proof removed
    assert _codes(chain) == ["PROOF_VERIFICATION_ERROR"]


@pytest.mark.parametrize("previous", ["urn:uuid:nope", ["urn:uuid:proof-1", "urn:uuid:nope"]])
def test_previous_proof_naming_no_proof_is_refused(previous: Any) -> None:
    chain = _chain()
    chain["proof"][1]["previousProof"] = previous
    assert "PROOF_VERIFICATION_ERROR" in _codes(chain)


@pytest.mark.parametrize("previous", [1, [], [1], {"id": "urn:uuid:proof-1"}])
def test_previous_proof_of_the_wrong_type_is_malformed(previous: Any) -> None:
    chain = _chain()
    chain["proof"][1]["previousProof"] = previous
    assert "MALFORMED_PROOF_ERROR" in _codes(chain)


def test_a_proof_cannot_be_its_own_previous_proof() -> None:
    doc = _add(unsigned_credential(issuer=_did(ISSUER)), ISSUER, proof_id="urn:uuid:self")
    doc["proof"]["previousProof"] = "urn:uuid:self"
    assert "PROOF_VERIFICATION_ERROR" in _codes(doc)


def test_duplicate_proof_ids_are_refused() -> None:
    doc = _add(_add(unsigned_credential(issuer=_did(ISSUER)), ISSUER, proof_id="urn:uuid:a"), WITNESS)
    doc["proof"][1]["id"] = "urn:uuid:a"
    assert _codes(doc) == ["MALFORMED_PROOF_ERROR"]
    with pytest.raises(ValueError):
        _add(_add(unsigned_credential(issuer=_did(ISSUER)), ISSUER, proof_id="urn:uuid:a"), WITNESS, proof_id="urn:uuid:a")


def test_empty_proof_set_is_no_proof() -> None:
    doc = {**_issued(), "proof": []}
    assert _codes(doc) == ["kaga:proof-missing"]


def test_vc_1_1_gets_the_data_integrity_context_and_verifies() -> None:
    credential = {
        "@context": [VC_V1],
        "id": "urn:uuid:1b1e0e6e-9d1f-4a57-8b1a-0c0d5d1f1a11",
        "type": ["VerifiableCredential"],
        "issuer": _did(ISSUER),
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:resident-1"},
    }
    signed = issue_credential(credential, signer=ISSUER, created=CREATED)
    assert signed["@context"] == [*credential["@context"], DATA_INTEGRITY_CONTEXT]
    assert {k: v for k, v in signed.items() if k not in ("@context", "proof")} == {
        k: v for k, v in credential.items() if k != "@context"}
    result = verify_credential(signed, resolver=RESOLVER, now=NOW)
    assert result.verified, result.to_json()
    # without the context the Data Integrity terms are undefined: refused, not half-read
    stripped = {**signed, "@context": credential["@context"]}
    assert not verify_credential(stripped, resolver=RESOLVER, now=NOW).verified


def test_context_injection_leaves_documents_that_define_the_terms_alone() -> None:
    v2 = unsigned_credential()
    assert with_data_integrity_context(v2) is v2
    v1_with_di = {"@context": [VC_V1, DATA_INTEGRITY_CONTEXT]}
    assert with_data_integrity_context(v1_with_di) is v1_with_di
    assert with_data_integrity_context({"@context": VC_V1})["@context"] == [VC_V1, DATA_INTEGRITY_CONTEXT]


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384])
def test_ecdsa_issuance_round_trip(key_type: KeyType) -> None:
    signer = make_signer(key_type)
    signed = issue_credential(unsigned_credential(issuer=_did(signer)), signer=signer, created=CREATED)
    assert signed["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    assert _did(signer).startswith("did:key:zDn" if key_type is KeyType.P256 else "did:key:z82")
    assert verify_credential(signed, resolver=RESOLVER, now=NOW).verified
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["name"] = "someone else"
    assert _codes(tampered) == ["PROOF_VERIFICATION_ERROR"]


def test_too_many_proofs_are_refused_before_any_is_checked() -> None:
    from kaga_vc.proofs.data_integrity import MAX_PROOFS

    doc = _issued()
    doc["proof"] = [copy.deepcopy(doc["proof"]) for _ in range(MAX_PROOFS + 1)]
    assert _codes(doc) == ["MALFORMED_PROOF_ERROR"]

