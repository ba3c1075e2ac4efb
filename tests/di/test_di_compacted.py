"""The verdict reads what was signed (issue 11): a Data Integrity document must be compacted under its own @context.

Each hole of the issue is shown to be real first (the respelled document has the same canonical RDF,
so the proof still holds) and then refused with ``kaga:not-compacted`` by ``kaga_vc.verify_credential``;
the verifier's response path and the CLI are in tests/verifier/test_signed_meaning.py, the
differential property test in tests/di/test_di_differential.py.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from kaga_vc import verify_credential, verify_presentation
from kaga_vc.credentials import create_presentation, issue_credential
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.errors import CREDENTIAL_EXPIRED, CREDENTIAL_REVOKED, NOT_COMPACTED, KagaError
from kaga_vc.proofs import canonize, check_compacted
from kaga_vc.status import BitstringStatusList, MappingStatusListSource

from .conftest import make_signer

pytestmark = pytest.mark.usefixtures("no_network")

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SIGNER = make_signer(seed=21)
ISSUER = SIGNER.key_id.split("#")[0]
HOLDER = make_signer(seed=22)
RESOLVER = Resolver({"key": KeyMethod()})
V2 = "https://www.w3.org/ns/credentials/v2"
KAGA = "https://city.kaga.ishikawa.jp/ns/credentials/v1"
CRED = "https://www.w3.org/2018/credentials#"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
LIST_URL = "https://city.kaga.example/status/1"


def _status_list(revoked: int) -> dict[str, Any]:
    bits = BitstringStatusList()
    bits.set(revoked)
    return issue_credential({
        "@context": [V2], "id": LIST_URL, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": ISSUER, "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"{LIST_URL}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": bits.encode()},
    }, signer=SIGNER, created=NOW)


SOURCE = MappingStatusListSource({LIST_URL: _status_list(revoked=5)})


def _credential(**extra: Any) -> dict[str, Any]:
    unsigned: dict[str, Any] = {
        "@context": [V2, KAGA],
        "id": "urn:uuid:7d2c1a40-0000-4000-8000-000000000011",
        "type": ["VerifiableCredential", "KycCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER.key_id.split("#")[0], "ageOver18": False, "residentOfKaga": True},
    }
    unsigned.update(extra)
    return issue_credential(unsigned, signer=SIGNER, created=datetime(2026, 1, 2, tzinfo=UTC))


REVOKED = _credential(credentialStatus={"id": f"{LIST_URL}#5", "type": "BitstringStatusListEntry",
                                        "statusPurpose": "revocation", "statusListIndex": "5",
                                        "statusListCredential": LIST_URL})
EXPIRED = _credential(validUntil="2026-03-01T00:00:00Z")


def _same_rdf(a: dict[str, Any], b: dict[str, Any]) -> bool:
    strip = lambda d: {k: v for k, v in d.items() if k != "proof"}
    return canonize(strip(a)) == canonize(strip(b))


def _respelled(document: dict[str, Any], old: str, new: str, value: Any = None) -> dict[str, Any]:
    out = {k: v for k, v in copy.deepcopy(document).items() if k != old}
    out[new] = copy.deepcopy(document[old]) if value is None else value
    return out


def _refused(document: Any) -> None:
    result = verify_credential(document, resolver=RESOLVER, now=NOW, status_source=SOURCE)
    assert result.verified is False
    assert result.codes == [NOT_COMPACTED], result.to_json()


def test_the_signed_credentials_verify_and_the_controls_are_refused_for_their_reason() -> None:
    assert verify_credential(_credential(), resolver=RESOLVER, now=NOW).verified
    revoked = verify_credential(REVOKED, resolver=RESOLVER, now=NOW, status_source=SOURCE)
    assert revoked.codes == [CREDENTIAL_REVOKED]
    assert verify_credential(EXPIRED, resolver=RESOLVER, now=NOW).codes == [CREDENTIAL_EXPIRED]


def test_revoked_credential_with_credential_status_as_a_full_iri_is_refused() -> None:
    hidden = _respelled(REVOKED, "credentialStatus", CRED + "credentialStatus")
    assert _same_rdf(hidden, REVOKED)  # the proof still holds: the hole is real
    _refused(hidden)


@pytest.mark.parametrize("key", ["validUntil", CRED + "validUntil"])
def test_expired_credential_with_a_typed_valid_until_is_refused(key: str) -> None:
    hidden = _respelled(EXPIRED, "validUntil", key, {"@value": EXPIRED["validUntil"], "@type": XSD_DATETIME})
    assert _same_rdf(hidden, EXPIRED)
    _refused(hidden)


def test_valid_until_aliased_by_an_appended_inline_context_is_refused() -> None:
    hidden = _respelled(EXPIRED, "validUntil", "expiry")
    hidden["@context"] = [*EXPIRED["@context"], {"expiry": {"@id": CRED + "validUntil", "@type": XSD_DATETIME}}]
    assert _same_rdf(hidden, EXPIRED)
    _refused(hidden)


def test_subject_id_aliased_by_an_embedded_context_is_refused() -> None:
    hidden = copy.deepcopy(_credential())
    subject = hidden["credentialSubject"]
    subject_id = subject.pop("id")
    hidden["credentialSubject"] = {"@context": {"i": "@id"}, "i": subject_id, **subject}
    assert _same_rdf(hidden, _credential())  # would show no subject: no holder binding to check
    _refused(hidden)


def test_status_type_spelled_as_the_keyword_is_refused() -> None:
    hidden = copy.deepcopy(REVOKED)
    hidden["credentialStatus"]["@type"] = hidden["credentialStatus"].pop("type")
    assert _same_rdf(hidden, REVOKED)  # would make the entry "of an unsupported type": status unchecked
    _refused(hidden)


def test_a_null_claim_is_refused() -> None:
    added = copy.deepcopy(_credential())
    added["credentialSubject"]["ageOver20"] = None  # a claim name that was never signed
    assert _same_rdf(added, _credential())
    _refused(added)


def test_an_empty_array_claim_is_refused() -> None:
    added = copy.deepcopy(_credential())
    added["credentialSubject"]["ageOver20"] = []
    assert _same_rdf(added, _credential())
    _refused(added)


def test_a_signed_false_as_a_one_element_array_reads_false() -> None:
    wrapped = copy.deepcopy(_credential())
    wrapped["credentialSubject"]["ageOver18"] = [False]
    assert _same_rdf(wrapped, _credential())
    result = verify_credential(wrapped, resolver=RESOLVER, now=NOW)
    assert result.verified, result.to_json()
    assert result.credential is not None
    assert result.credential["credentialSubject"]["ageOver18"] is False  # not [False], which is truthy
    assert result.credential["type"] == ["VerifiableCredential", "KycCredential"]  # type keeps its spelling


def test_a_subject_respelled_inside_a_presentation_is_refused() -> None:
    wrapped = copy.deepcopy(_credential())
    wrapped["credentialSubject"]["ageOver20"] = None
    vp = create_presentation([wrapped], signer=HOLDER, challenge="n-1", domain="did:web:ryokan.example")
    result = verify_presentation(vp, resolver=RESOLVER, challenge="n-1", domain="did:web:ryokan.example", now=NOW)
    assert result.verified is False
    assert result.codes == [NOT_COMPACTED]


def test_check_compacted_accepts_the_equivalent_spellings_and_normalises() -> None:
    document = copy.deepcopy(_credential())
    document["issuer"] = {"id": ISSUER}  # issuer is "@type": "@id": the object means the same IRI
    document["credentialSubject"]["residentOfKaga"] = [True]
    document = dict(reversed(list(document.items())))  # key order is not meaning
    normalised = check_compacted(document)
    assert normalised["issuer"] == {"id": ISSUER}
    assert normalised["credentialSubject"]["residentOfKaga"] is True
    assert normalised["@context"] == document["@context"]


def test_check_compacted_reads_an_embedded_context_under_that_context() -> None:
    document = {
        "@context": [V2],
        "type": ["VerifiableCredential"], "issuer": ISSUER,
        "credentialSubject": {"@context": {"nickname": "https://kaga.example/ns#nickname"}, "nickname": ["たろう"]},
    }
    assert check_compacted(document)["credentialSubject"] == {"@context": {"nickname": "https://kaga.example/ns#nickname"},
                                                             "nickname": "たろう"}
    document["credentialSubject"] = {"@context": {"nickname": "https://kaga.example/ns#nickname"},
                                     "https://kaga.example/ns#nickname": "たろう"}
    with pytest.raises(KagaError) as refused:
        check_compacted(document)
    assert refused.value.code == NOT_COMPACTED


def test_remembered_contexts_change_nothing() -> None:
    """The processed-context memo (kaga_vc.proofs._jsonld.processor) gives what plain pyld gives, every time."""
    from pyld import jsonld  # type: ignore[import-untyped]

    from kaga_vc.contexts import default_loader
    from kaga_vc.proofs import default_document_loader

    loader = default_document_loader()
    for document in (REVOKED, EXPIRED, _credential()):
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        plain = jsonld.normalize(unsecured, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                             "documentLoader": lambda url, options=None: loader(url, options or {})})
        assert canonize(unsecured) == canonize(unsecured, loader) == plain
        fresh = default_loader()  # a new loader: a memo of its own, empty
        assert canonize(unsecured, fresh) == plain
    redefined = {"@context": [V2, {"name": "https://evil.example/name"}], "type": ["VerifiableCredential"],
                 "issuer": ISSUER, "name": "x", "credentialSubject": {"id": "did:example:2"}}
    for _ in range(2):  # a protected term redefined is refused again, never remembered as processed
        with pytest.raises(KagaError) as refused:
            canonize(redefined)
        assert refused.value.code == "PROOF_TRANSFORMATION_ERROR"
