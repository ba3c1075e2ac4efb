"""The data model (VCDM 2.0 and 1.1) and the strict JSON-LD layer (loaders, cache isolation)."""

from __future__ import annotations

from typing import Any

import pytest

from kaga_vc.contexts import OfflineLoader
from kaga_vc.credentials import Credential, Presentation, issue_credential, verify_credential
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.errors import KagaError
from kaga_vc.proofs import canonize

from .conftest import NOW, make_signer, unsigned_credential

pytestmark = pytest.mark.usefixtures("no_network")

ED = make_signer(seed=31)
RESOLVER = Resolver({"key": KeyMethod()})


def _code(data: Any) -> str:
    with pytest.raises(KagaError) as info:
        Credential.from_json(data)
    return info.value.code


def test_reads_a_2_0_credential() -> None:
    credential = Credential.from_json(unsigned_credential(issuer={"id": "did:example:city", "name": "加賀市"}))
    assert credential.version == "2.0"
    assert credential.issuer_id == "did:example:city"
    assert credential.subject_ids == ["did:example:resident-1"]
    assert credential.not_before is not None and credential.not_after is not None
    assert credential.raw["credentialSubject"]["name"] == "加賀 花子"


def test_reads_a_1_1_credential() -> None:
    credential = Credential.from_json({
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": "VerifiableCredential",
        "issuer": "did:example:city",
        "issuanceDate": "2020-01-01T00:00:00Z",
        "expirationDate": "2030-01-01T00:00:00+09:00",
        "credentialSubject": {"id": "did:example:resident"},
    })
    assert credential.version == "1.1"
    assert credential.not_after is not None and credential.not_after.hour == 15


# changes the data model refuses (also run through the pydantic-free rules: tests/di/test_model_rules.py)
MODEL_VIOLATIONS: list[dict[str, Any]] = [
    {"@context": "https://www.w3.org/ns/credentials/v2"},
    {"type": ["ResidentCredential"]},
    {"type": []},
    {"issuer": "not a url"},
    {"issuer": {"name": "no id"}},
    {"credentialSubject": []},
    {"credentialSubject": {"id": "not a url"}},
    {"id": "no-scheme"},
    {"validFrom": "2025-01-01"},
    {"validUntil": "2024-01-01T00:00:00Z"},
    {"validFrom": "2025-01-01T00:00:00"},
    {"credentialStatus": {"id": "https://status.example/1"}},
    {"credentialSchema": {"type": "JsonSchema"}},
    {"credentialSchema": [{"id": "https://schema.example/1", "type": "JsonSchema"}, "x"]},
    {"evidence": [{"id": "https://evidence.example/1"}]},
    {"termsOfUse": {"type": ["Policy"], "id": "not a url"}},
    {"refreshService": []},
]


@pytest.mark.parametrize("change", MODEL_VIOLATIONS, ids=lambda c: next(iter(c)))
def test_model_violations_are_malformed_values(change: dict[str, Any]) -> None:
    assert _code({**unsigned_credential(), **change}) == "MALFORMED_VALUE_ERROR"


def test_1_1_needs_issuance_date() -> None:
    credential = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
                  "issuer": "did:example:city", "credentialSubject": {"id": "did:example:r"}}
    assert _code(credential) == "MALFORMED_VALUE_ERROR"


def test_presentation_model() -> None:
    presentation = Presentation.from_json({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiablePresentation",
        "holder": {"id": "did:example:holder"}, "verifiableCredential": {"id": "urn:x"},
    })
    assert presentation.holder_id == "did:example:holder"
    assert len(presentation.verifiable_credential) == 1
    with pytest.raises(KagaError) as info:
        Presentation.from_json({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential"})
    assert info.value.code == "MALFORMED_VALUE_ERROR"


def test_status_schema_evidence_and_terms_are_signed_and_reported() -> None:
    credential = unsigned_credential(
        credentialStatus={"id": "https://kaga.example/status/1#42", "type": "BitstringStatusListEntry",
                          "statusPurpose": "revocation", "statusListIndex": "42",
                          "statusListCredential": "https://kaga.example/status/1"},
        credentialSchema={"id": "https://kaga.example/schemas/resident.json", "type": "JsonSchema"},
        evidence={"type": ["Evidence"], "verifier": "https://kaga.example/staff/7"},
        termsOfUse={"type": "TrustFrameworkPolicy"},
    )
    signed = issue_credential(credential, signer=ED)
    result = verify_credential(signed, resolver=RESOLVER, now=NOW)
    assert result.verified, result.to_json()
    assert [w.code for w in result.warnings] == ["kaga:status-not-checked"]
    signed["credentialStatus"]["statusListIndex"] = "43"
    assert verify_credential(signed, resolver=RESOLVER, now=NOW).codes == ["PROOF_VERIFICATION_ERROR"]


CTX = "https://kaga.example/contexts/test/v1"


def _doc() -> dict[str, Any]:
    return {"@context": CTX, "@id": "urn:x", "claim": "value"}


def test_caches_never_mix_two_loaders_documents() -> None:
    one = OfflineLoader(extra={CTX: {"@context": {"claim": "https://one.example/claim"}}})
    two = OfflineLoader(extra={CTX: {"@context": {"claim": "https://two.example/claim"}}})
    for _ in range(2):  # second round runs from the caches
        assert "https://one.example/claim" in canonize(_doc(), one)
        assert "https://two.example/claim" in canonize(_doc(), two)


def test_extra_contexts_only_through_an_explicit_loader() -> None:
    with pytest.raises(KagaError) as info:
        canonize(_doc())
    assert info.value.code == "kaga:context-not-bundled"


def test_relative_id_is_refused() -> None:
    loader = OfflineLoader(extra={CTX: {"@context": {"claim": "https://one.example/claim"}}})
    with pytest.raises(KagaError) as info:
        canonize({"@context": CTX, "@id": "relative/thing", "claim": "v"}, loader)
    assert info.value.code == "kaga:undefined-term"


def test_protected_term_redefinition_is_a_transformation_error() -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"name": "https://evil.example/name"}],
        "type": ["VerifiableCredential"], "issuer": "did:example:1", "name": "x", "credentialSubject": {"id": "did:example:2"},
    }
    with pytest.raises(KagaError) as info:
        canonize(document)
    assert info.value.code == "PROOF_TRANSFORMATION_ERROR"


def _ring(n: int) -> dict[str, Any]:
    nodes = [{"@id": f"_:b{i}", "https://kaga.example/p": [{"@id": f"_:b{(i + 1) % n}"}, {"@id": f"_:b{(i + 2) % n}"}]}
             for i in range(n)]
    return {"@graph": nodes}


def test_poison_graph_is_refused_quickly() -> None:
    with pytest.raises(KagaError) as info:
        canonize(_ring(40))  # unbounded, this would take hours
    assert info.value.code == "kaga:canonicalization-too-complex"


def test_many_look_alike_claims_still_canonicalise() -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"], "issuer": "did:example:1",
        "credentialSubject": {"id": "did:example:2", "items": [{"kind": "same"} for _ in range(600)]},
    }
    assert canonize(document).count("<https://www.w3.org/ns/credentials/examples#kind>") == 600
    assert canonize(_ring(6))
