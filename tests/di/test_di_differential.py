"""Differential property test (issue 11): a respelling that keeps the RDF never changes what a verify result shows.

Hypothesis generates credentials (claims, a validity period, a status entry) and RDF-preserving
rewrites of them: full IRI keys, typed ``@value``, one-element arrays, ``{"id": X}`` for an IRI,
key order, added ``null`` s and empty arrays, an alias term from an appended inline context. Each
rewrite is first checked to have the canonical N-Quads of the signed document (so its proof holds),
then verified. The result must be either a refusal with ``kaga:not-compacted`` or the very verdict,
validity, status and claims that the canonical form gives: pyld's compaction of the signed
document's expanded form under its context, read independently of the library's own normaliser.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kaga_vc import verify_credential
from kaga_vc.credentials import issue_credential
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.errors import NOT_COMPACTED
from kaga_vc.proofs import canonize, default_document_loader, expand

from .conftest import make_signer

pytestmark = pytest.mark.usefixtures("no_network")

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SIGNER = make_signer(seed=31)
ISSUER = SIGNER.key_id.split("#")[0]
RESOLVER = Resolver({"key": KeyMethod()})
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
VOCAB = "https://www.w3.org/ns/credentials/examples#"
CRED = "https://www.w3.org/2018/credentials#"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"

scalars = st.one_of(st.text(max_size=8), st.integers(-1000, 1000), st.booleans(),
                    st.floats(allow_nan=False, allow_infinity=False, width=32))
names = st.from_regex(r"[a-z][A-Za-z]{0,6}", fullmatch=True).filter(lambda n: n not in {"id", "type"})
claims = st.dictionaries(names, st.one_of(scalars, st.lists(scalars, min_size=2, max_size=3),
                                          st.dictionaries(names, scalars, min_size=1, max_size=2)),
                         min_size=1, max_size=4)
STATUS = {"id": "https://city.kaga.example/status/1#7", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
          "statusListIndex": "7", "statusListCredential": "https://city.kaga.example/status/1"}


@st.composite
def credentials(draw: st.DrawFn) -> dict[str, Any]:
    unsigned: dict[str, Any] = {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": ISSUER,
        "validFrom": draw(st.sampled_from(["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"])),
        "credentialSubject": {"id": "did:example:resident", **draw(claims)},
    }
    if draw(st.booleans()):
        unsigned["validUntil"] = draw(st.sampled_from(["2026-03-01T00:00:00Z", "2030-01-01T00:00:00Z"]))
    if draw(st.booleans()):
        unsigned["credentialStatus"] = dict(STATUS)
    return issue_credential(unsigned, signer=SIGNER, created=datetime(2026, 1, 2, tzinfo=UTC))


# -- RDF-preserving rewrites (each changes a document in place or returns it unchanged) ---------------
def _subject(doc: dict[str, Any]) -> dict[str, Any]:
    subject = doc["credentialSubject"]
    return subject[0] if isinstance(subject, list) else subject  # type: ignore[no-any-return]


def _pick(data: st.DataObject, options: list[Any]) -> Any:
    return data.draw(st.sampled_from(options)) if options else None


def _full_iri_claim(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    subject = _subject(doc)
    key = _pick(data, sorted(k for k in subject if k != "id" and ":" not in k))
    if key is not None:
        subject[VOCAB + key] = subject.pop(key)
    return doc


def _full_iri_top(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    key = _pick(data, [k for k in ("validFrom", "validUntil", "credentialStatus") if k in doc])
    if key is not None:
        value = doc.pop(key)
        doc[CRED + key] = {"@value": value, "@type": XSD_DATETIME} if isinstance(value, str) else value
    return doc


def _typed_value(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    key = _pick(data, [k for k in ("validFrom", "validUntil") if isinstance(doc.get(k), str)])
    if key is not None:
        doc[key] = {"@value": doc[key], "@type": XSD_DATETIME}
    return doc


def _singleton(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    subject = _subject(doc)
    places: list[tuple[dict[str, Any], str]] = [(subject, k) for k in subject if k != "id"]
    places += [(doc, k) for k in ("credentialStatus", "validUntil", "credentialSubject") if k in doc]
    place = _pick(data, [(t, k) for t, k in places if not isinstance(t[k], list)])
    if place is not None:
        target, key = place
        target[key] = [target[key]]
    return doc


def _issuer_object(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    if isinstance(doc["issuer"], str):
        doc["issuer"] = {"id": doc["issuer"]}
    return doc


def _reorder(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    subject = _subject(doc)
    reordered = {k: subject[k] for k in data.draw(st.permutations(list(subject)))}
    subject.clear()
    subject.update(reordered)
    return {k: doc[k] for k in data.draw(st.permutations(list(doc)))}


def _null_or_empty(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    target = data.draw(st.sampled_from([doc, _subject(doc)]))
    key = _pick(data, [k for k in ("ageOver18", "nickname", "validUntil") if k not in target])
    if key is not None:
        target[key] = data.draw(st.sampled_from([None, []]))
    return doc


ALIAS = "kagaAliasTerm"
"""Longer than any generated claim name: a top-level alias is in scope in credentialSubject too, so a
short one ("z") could rename a claim there and change the RDF (hypothesis found that)."""


def _alias(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    key = _pick(data, [k for k in ("validFrom", "validUntil", "credentialStatus") if k in doc])
    if key is not None and ALIAS not in doc:
        definition: dict[str, Any] = {"@id": CRED + key, "@type": XSD_DATETIME if key != "credentialStatus" else "@id"}
        doc["@context"] = [*doc["@context"], {ALIAS: definition}]
        doc[ALIAS] = doc.pop(key)
    return doc


REWRITES = [_full_iri_claim, _full_iri_top, _typed_value, _singleton, _issuer_object, _reorder, _null_or_empty, _alias]


# -- the canonical reading -----------------------------------------------------------------------
def _canonical(signed: dict[str, Any]) -> dict[str, Any]:
    """pyld's compaction of the signed document's expanded form under its own context."""
    from pyld import jsonld  # type: ignore[import-untyped]

    loader = default_document_loader()
    return jsonld.compact(expand(signed, loader), {"@context": signed["@context"]},
                          {"documentLoader": lambda url, options=None: loader(url, options or {})})


def _unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def _strict(value: Any) -> Any:
    """A comparable form that tells false from 0 and 1 from 1.0; one-element arrays of objects are the object."""
    if isinstance(value, list):
        return _strict(value[0]) if len(value) == 1 and isinstance(value[0], dict) else ("list", tuple(_strict(v) for v in value))
    if isinstance(value, dict):
        if set(value) == {"id"}:
            return ("ref", value["id"])
        return ("obj", tuple(sorted((k, _strict(v)) for k, v in value.items())))
    return (type(value).__name__, value)


def _facts(document: dict[str, Any]) -> tuple[Any, ...]:
    subject = document["credentialSubject"]
    subject = subject[0] if isinstance(subject, list) else subject
    issuer = document["issuer"]
    return (_strict(subject), _strict(document.get("credentialStatus")), document.get("validUntil"),
            document.get("validFrom"), issuer if isinstance(issuer, str) else issuer["id"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials(), st.lists(st.sampled_from(REWRITES), min_size=1, max_size=3), st.data())
def test_respelling_never_changes_the_verdict_or_what_the_result_shows(
        signed: dict[str, Any], rewrites: list[Any], data: st.DataObject) -> None:
    rewritten = copy.deepcopy(signed)
    for rewrite in rewrites:
        rewritten = rewrite(rewritten, data)
    assert canonize(_unsecured(rewritten)) == canonize(_unsecured(signed))  # the proof covers both alike

    expected = verify_credential(signed, resolver=RESOLVER, now=NOW)
    result = verify_credential(rewritten, resolver=RESOLVER, now=NOW)
    if not result.verified and result.codes == [NOT_COMPACTED]:
        event("refused as not compacted")
        return
    event("accepted as the same spelling")
    assert result.codes == expected.codes, (result.to_json(), rewritten)
    assert (result.valid_from, result.valid_until, result.issuer) == (expected.valid_from, expected.valid_until,
                                                                      expected.issuer)
    assert result.credential is not None
    assert _facts(result.credential) == _facts(_canonical(signed)), rewritten
    assert [w.code for w in result.warnings] == [w.code for w in expected.warnings]
