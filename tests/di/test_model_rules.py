"""The verify path's data-model check (``credentials._rules``, no pydantic) against the pydantic model.

The verify path reads a Data Integrity credential or presentation with ``CredentialView`` /
``PresentationView`` instead of ``Credential.from_json`` / ``Presentation.from_json`` (so a cold
``kaga-vc verify`` does not import pydantic). Not weaker, not stricter: on the model's own test
vectors, its hostile inputs, the spec vectors and generated documents, both refuse the same inputs
with the same error, and read the same facts from what they accept.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kaga_vc.credentials._json import check_structure
from kaga_vc.credentials._model import Credential, Presentation
from kaga_vc.credentials._rules import CREDENTIAL_FIELDS, CredentialView, PresentationView
from kaga_vc.errors import KagaError

from .conftest import VECTORS, unsigned_credential
from .test_di_fastld import hostile_values
from .test_di_model import MODEL_VIOLATIONS
from .test_related_resource import BAD_RELATED, V2_MULTIBASE, V2_SRI

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"


def _error(error: KagaError) -> tuple[Any, ...]:
    return type(error), error.code, str(error), dict(error.context)


def _fact(read: Any) -> Any:
    try:
        return ("ok", read())
    except KagaError as error:
        return ("error", _error(error))


def _credential(make: Any, data: Any) -> tuple[Any, ...]:
    try:
        read = make(data)
    except KagaError as error:
        return ("refused", _error(error))
    return ("accepted", read.raw is data, read.version, read.issuer_id, read.subject_ids, read.context, read.type,
            read.issuer, read.credential_subject, read.credential_status, read.proof,
            _fact(lambda: read.not_before), _fact(lambda: read.not_after))


def _presentation(make: Any, data: Any) -> tuple[Any, ...]:
    try:
        read = make(data)
    except KagaError as error:
        return ("refused", _error(error))
    return ("accepted", read.raw is data, read.type, read.holder, read.holder_id, read.verifiable_credential, read.proof)


def same_verdict(data: Any) -> str:
    """Both readers of a credential and of a presentation agree on ``data``; the credential verdict."""
    model, view = _credential(Credential.from_json, data), _credential(CredentialView, data)
    assert model == view, data
    assert _presentation(Presentation.from_json, data) == _presentation(PresentationView, data), data
    if model[0] == "refused" and "does not match the data model" in model[1][2]:
        return "refused by field validation"
    return str(model[0])


# -- the model's own vectors and hostile inputs ---------------------------------------------------


@pytest.mark.parametrize("change", MODEL_VIOLATIONS, ids=lambda c: next(iter(c)))
def test_the_models_violations_are_refused_alike(change: dict[str, Any]) -> None:
    assert same_verdict({**unsigned_credential(), **change}).startswith("refused")


@pytest.mark.parametrize("related, code", BAD_RELATED)
def test_bad_related_resources_are_refused_alike(related: Any, code: str) -> None:
    with pytest.raises(KagaError) as caught:
        CredentialView(unsigned_credential(issuer="did:example:city", relatedResource=related))
    assert caught.value.code == code
    assert same_verdict(unsigned_credential(issuer="did:example:city", relatedResource=related)) == "refused"


ACCEPTED = [
    unsigned_credential(issuer="did:example:city"),
    unsigned_credential(issuer={"id": "did:example:city", "name": "加賀市"}),
    unsigned_credential(issuer="did:example:city", relatedResource={"id": V2, "digestSRI": V2_SRI}),
    unsigned_credential(issuer="did:example:city", relatedResource=[{"id": V2, "digestMultibase": V2_MULTIBASE}]),
    unsigned_credential(issuer="did:example:city", credentialStatus={"type": "BitstringStatusListEntry"}, proof={}),
    {"@context": [V1], "type": "VerifiableCredential", "issuer": "did:example:city",
     "issuanceDate": "2020-01-01T00:00:00Z", "expirationDate": "2030-01-01T00:00:00+09:00",
     "credentialSubject": {"id": "did:example:resident"}},
    {"@context": [V2], "type": "VerifiablePresentation", "holder": {"id": "did:example:holder"},
     "verifiableCredential": {"id": "urn:x"}},
]


@pytest.mark.parametrize("document", ACCEPTED)
def test_the_models_accepted_documents_read_alike(document: dict[str, Any]) -> None:
    same_verdict(document)


# what only pydantic's field validation refused: the rules must refuse it too (each is checked to be
# refused by the model, so this list cannot silently turn into accepted inputs)
PYDANTIC_ONLY = [
    {"proof": "x"}, {"proof": [1]}, {"proof": [{}, None]}, {"proof": [[]]}, {"proof": 0}, {"proof": True},
    {"issuanceDate": 5}, {"issuanceDate": ["2020-01-01T00:00:00Z"]}, {"expirationDate": True}, {"expirationDate": {}},
    {"valid_from": 5}, {"valid_until": []}, {"credential_status": 5}, {"credential_schema": "x"},
    {"terms_of_use": "x"}, {"refresh_service": [1]}, {"issuance_date": 1.5},
    {"expiration_date": False},
]
# what the model reads under a field's Python name (populate_by_name): the facts must be the same
BY_NAME = [
    {"valid_from": "2030-01-01T00:00:00Z"}, {"valid_until": "2020-01-01T00:00:00Z"}, {"valid_until": "x"},
    {"credential_status": {"type": "x"}}, {"credential_status": []}, {"credential_schema": []},
    {"validFrom": "2025-01-01T00:00:00Z", "valid_from": 5}, {"credentialStatus": {"type": "x"}, "credential_status": 5},
    {"issuanceDate": None}, {"expirationDate": None}, {"proof": None}, {"proof": []}, {"_raw": 1}, {"raw": 2},
    {"model_config": 3}, {"__class__": 4}, {"__pydantic_extra__": 5}, {"version": "1.1"}, {"issuer_id": "x"},
]


@pytest.mark.parametrize("change", PYDANTIC_ONLY, ids=lambda c: next(iter(c)))
def test_what_pydantic_refuses_the_rules_refuse(change: dict[str, Any]) -> None:
    base = {"@context": [V2], "type": "VerifiableCredential", "issuer": "did:example:city",
            "credentialSubject": {"id": "did:example:resident"}}
    assert same_verdict({**base, **change}) == "refused by field validation"
    # in 1.1 issuanceDate is required: a Python-name variant beside it is not read, by either
    same_verdict({**base, "@context": [V1], "issuanceDate": "2020-01-01T00:00:00Z", **change})
    presentation = {"@context": [V2], "type": "VerifiablePresentation", **change}
    if "proof" in change:
        with pytest.raises(KagaError):
            PresentationView(presentation)
    same_verdict(presentation)


@pytest.mark.parametrize("change", BY_NAME, ids=lambda c: "+".join(c))
def test_fields_read_by_python_name_alike(change: dict[str, Any]) -> None:
    same_verdict({**unsigned_credential(issuer="did:example:city"), **change})
    same_verdict({"@context": [V2], "type": "VerifiablePresentation", **change})


# -- the spec vectors: every JSON object with an @context in tests/vectors -------------------------


def _documents(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if "@context" in value:
            found.append(value)
        for item in value.values():
            found.extend(_documents(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_documents(item))
    return found


def test_every_vector_document_reads_alike() -> None:
    documents = [d for path in sorted(VECTORS.rglob("*.json")) for d in _documents(json.loads(path.read_text()))]
    verdicts = [same_verdict(d) for d in documents]
    assert len(documents) > 20 and "accepted" in verdicts and any(v.startswith("refused") for v in verdicts)


# -- generated documents ----------------------------------------------------------------------------

KEYS = sorted({k for alias, name, _ in CREDENTIAL_FIELDS for k in (alias, name)} | {
    "@context", "type", "id", "issuer", "credentialSubject", "credential_subject", "context", "holder",
    "verifiableCredential", "verifiable_credential", "relatedResource", "name"})
dates = st.sampled_from(["2025-01-01T00:00:00Z", "2031-05-05T12:00:00+09:00", "2025-01-01T00:00:00", "2025-01-01",
                         "0001-01-01T00:00:00+14:00", "x"])
typed = st.fixed_dictionaries({"type": st.sampled_from(["T", ["T"], [], 1])},
                              optional={"id": st.sampled_from(["https://x.example/1", "no url", 5])})
values = st.one_of(hostile_values, dates, typed, st.lists(typed, max_size=2),
                   st.sampled_from([[V2], [V1], V2, "did:example:a", {"id": "did:example:a"}, {"id": "urn:x", "n": 1}]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ACCEPTED), st.dictionaries(st.sampled_from(KEYS), values, max_size=4),
       st.lists(st.sampled_from(KEYS), max_size=2))
def test_generated_documents_read_alike(base: dict[str, Any], changes: dict[str, Any], removed: list[str]) -> None:
    document = {**copy.deepcopy(base), **changes}
    for key in removed:
        document.pop(key, None)
    check_structure(document)  # the verify path's documents are JSON values (parse_json / check_structure)
    event(same_verdict(document))

