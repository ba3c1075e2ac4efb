"""Differential test of the fast JSON-LD path (kaga_vc/proofs/_fastld.py) against pyld (issue 16).

Every document here is canonicalised twice — by ``canonize`` (the fast path, falling back to pyld
for what it does not support) and by ``canonize_pyld`` (pyld's general expansion only) — and the
two must give byte-identical canonical N-Quads, or refuse with the same code. Inputs: the specs'
vectors, credentials hypothesis generates with the respellings of issue 11 (full-IRI keys, typed
``@value``, ``null`` claims, ``[false]``, alias contexts) and documents that use JSON-LD outside the
subset (``@list``, ``@graph``, language maps, ``@reverse``, ``@included``, ``@nest``, a relative
IRI, a protected term redefined …). Beyond this file, the test session runs with
``KAGA_VC_JSONLD_DIFFERENTIAL=1`` (tests/conftest.py), so every Data Integrity fixture any test
signs or verifies is checked the same way.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kaga_vc.credentials import issue_credential
from kaga_vc.errors import KagaError
from kaga_vc.proofs import EddsaRdfc2022, ProofPurpose, _jsonld, add_proof, default_document_loader
from kaga_vc.proofs._compacted import check_compacted, check_compacted_pyld
from kaga_vc.proofs._fastld import Unsupported, shadow, to_dataset
from kaga_vc.proofs._jsonld import DIFFERENTIAL_ENV, FastPathDisagrees, canonize, canonize_pyld

from .conftest import VECTORS, load_json, make_signer
from .test_di_differential import REWRITES, credentials

pytestmark = pytest.mark.usefixtures("no_network")

LOADER = default_document_loader()
V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
DI = "https://w3id.org/security/data-integrity/v2"
KAGA = "https://city.kaga.ishikawa.jp/ns/credentials/v1"
SIGNER = make_signer(seed=41)


def _outcome(run: Any) -> str:
    try:
        return "ok:" + run()
    except KagaError as error:
        return "error:" + error.code


def _both(document: Any) -> str:
    """Both paths' outcome, required equal; the outcome."""
    fast = _outcome(lambda: canonize(document, LOADER))
    reference = _outcome(lambda: canonize_pyld(document, LOADER))
    assert fast == reference, json.dumps(document, ensure_ascii=False)[:2000]
    return fast


def _verdict(run: Any) -> str:
    try:
        return "ok:" + json.dumps(run(), ensure_ascii=False)
    except KagaError as error:
        return "error:" + error.code


def _both_compacted(document: Any) -> str:
    """The compaction rule's outcome by the shadow and by pyld on the document, required equal; the outcome."""
    fast = _verdict(lambda: check_compacted(document, LOADER))
    reference = _verdict(lambda: check_compacted_pyld(document, LOADER))
    assert fast == reference, json.dumps(document, ensure_ascii=False)[:2000]
    return fast


def _fast_taken(document: Any) -> bool:
    try:
        to_dataset(document, LOADER)
    except Unsupported:
        return False
    return True


def _vector_documents() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(Path(VECTORS).glob("*rdfc*/*.json")):
        document = load_json(path)
        if not isinstance(document, dict) or "@context" not in document:
            continue
        name = f"{path.parent.name}/{path.name}"
        found.append((name, document))
        if "proof" in document:
            proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
            found.append((f"{name} unsecured", {k: v for k, v in document.items() if k != "proof"}))
            for index, proof in enumerate(proofs):
                config = {k: v for k, v in proof.items() if k != "proofValue"}
                found.append((f"{name} proof configuration {index}", {**config, "@context": document["@context"]}))
    return found


VECTOR_DOCUMENTS = _vector_documents()


def test_the_vectors_are_found() -> None:
    assert len(VECTOR_DOCUMENTS) >= 12


@pytest.mark.parametrize(("name", "document"), VECTOR_DOCUMENTS, ids=[name for name, _ in VECTOR_DOCUMENTS])
def test_spec_vectors_take_the_fast_path_and_agree_with_pyld(name: str, document: dict[str, Any]) -> None:
    assert _fast_taken(document), name
    assert _both(document).startswith("ok:")
    _both_compacted(document)


def test_the_proof_canonical_forms_of_the_vectors_are_the_published_ones() -> None:
    # (the P-256 vector's published form predates the typed cryptosuite literal: tests/di/test_di_vectors.py)
    eddsa = load_json(VECTORS / "eddsa-rdfc-2022" / "proofConfigDataInt.json")
    signed = load_json(VECTORS / "ecdsa-rdfc-2019-p384" / "signedECDSAP384-didkey.json")
    p384 = {**{k: v for k, v in signed["proof"].items() if k != "proofValue"}, "@context": signed["@context"]}
    for document, canon in ((eddsa, VECTORS / "eddsa-rdfc-2022" / "proofCanonDataInt.txt"),
                            (p384, VECTORS / "ecdsa-rdfc-2019-p384" / "proofCanonECDSAP384.txt")):
        assert _fast_taken(document)
        assert canonize(document, LOADER) == canon.read_text("utf-8")


def _signed(unsigned: dict[str, Any]) -> dict[str, Any]:
    return issue_credential(unsigned, signer=SIGNER, created=datetime(2026, 1, 2, tzinfo=UTC))


def _secured(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with a proof added by the proof layer alone (no data-model checks)."""
    return add_proof(document, suite=EddsaRdfc2022(), signer=SIGNER, created=datetime(2026, 1, 2, tzinfo=UTC),
                     loader=LOADER)


def _base(**extra: Any) -> dict[str, Any]:
    return {"@context": [V2, EXAMPLES], "type": ["VerifiableCredential", "ExampleCredential"],
            "issuer": SIGNER.key_id.split("#")[0], "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:resident", "name": "加賀 花子"}, **extra}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials(), st.lists(st.sampled_from(REWRITES), max_size=3), st.data())
def test_generated_credentials_and_their_respellings_agree_with_pyld(
        signed: dict[str, Any], rewrites: list[Any], data: st.DataObject) -> None:
    assert _fast_taken(signed)
    rewritten = copy.deepcopy(signed)
    for rewrite in rewrites:
        rewritten = rewrite(rewritten, data)
    event("fast path" if _fast_taken(rewritten) else "pyld fallback")
    # (not every combination keeps the RDF: a [validUntil] moved under its full IRI loses the datatype)
    event("same RDF" if _both(rewritten) == _both(signed) else "other RDF")
    _both({k: v for k, v in rewritten.items() if k != "proof"})
    assert _both_compacted(signed).startswith("ok:")
    event("compacted" if _both_compacted(rewritten).startswith("ok:") else "not compacted")


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=6),
                         st.floats(allow_nan=False, allow_infinity=False))
hostile_values = st.recursive(
    json_scalars | st.sampled_from([{"@value": "x", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"},
                                    {"@value": 1}, {"@list": [1, 2]}, {"@id": "_:b0"}, {"@id": "relative"},
                                    {"@language": "ja", "@value": "加賀"}, [False], [], {"id": "did:example:x"}]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["name", "id", "type", "@type", "@id", "validUntil", "https://schema.org/name", "@graph",
                         "@included", "@reverse", "@nest", "@set", "unknown:term", "credentialStatus", "@value"]),
        inner, max_size=3),
    max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["name", "birthDate", "https://schema.org/name", "credentialStatus",
                                        "validUntil", "description", "@type", "@id", "type", "id", "@graph",
                                        "evidence", "relatedResource", "kagaTerm", "expiry"]),
                       hostile_values, max_size=4),
       st.sampled_from([[V2, EXAMPLES], [V2], [V1], [V1, DI], [V2, KAGA], [V2, {"kagaTerm": "https://example.org/t"}],
                        [V2, {"@vocab": "https://example.org/v#"}], [V2, {"@language": "ja"}],
                        [V2, {"name": {"@id": "https://example.org/n"}}], [V2, EXAMPLES, {"@base": "https://example.org/"}],
                        [V2, EXAMPLES, {"issuer": "https://evil.example/issuer"}],
                        [V2, EXAMPLES, {"validUntil": {"@id": "https://evil.example/until"}}],
                        [V2, EXAMPLES, {"expiry": {"@id": "https://www.w3.org/2018/credentials#validUntil",
                                                   "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}}]]))
def test_hostile_documents_agree_with_pyld(body: dict[str, Any], context: list[Any]) -> None:
    document = _base(**body)
    document["@context"] = context
    event("fast path" if _fast_taken(document) else "pyld fallback")
    _both_compacted(document)
    if _both(document).startswith("ok:"):
        secured = _secured(document)
        _both(secured)
        event("compacted" if _both_compacted(secured).startswith("ok:") else "not compacted")


# Inline term definitions of every kind the term tables handle, and some they hand to pyld.
TERM_KINDS = {
    "plain": "https://example.org/t#plain",
    "iri": {"@id": "https://example.org/t#iri", "@type": "@id"},
    "vocab": {"@id": "https://example.org/t#vocab", "@type": "@vocab"},
    "date": {"@id": "https://example.org/t#date", "@type": "http://www.w3.org/2001/XMLSchema#date"},
    "double": {"@id": "https://example.org/t#double", "@type": "http://www.w3.org/2001/XMLSchema#double"},
    "integer": {"@id": "https://example.org/t#integer", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
    "ja": {"@id": "https://example.org/t#ja", "@language": "ja"},
    "set": {"@id": "https://example.org/t#set", "@container": "@set"},
    "scoped": {"@id": "https://example.org/t#scoped", "@context": {"inner": {"@id": "https://example.org/t#inner",
                                                                         "@type": "@id"}}},
    "Thing": {"@id": "https://example.org/t#Thing", "@context": {"plain": {"@id": "https://example.org/t#other"}}},
    "alias": "https://example.org/t#plain",
}
leaf = st.one_of(st.sampled_from(["", "x", "1.5", "2026-01-01", "did:example:a", "https://example.org/x", "plain",
                                  "Thing", "t:x", "ex:y", "加賀"]),
                 st.integers(-3, 3), st.sampled_from([True, False, 0.5, 1.0, -0.0, 1e21, 10**21]))
term_names = st.sampled_from(sorted(TERM_KINDS) + ["name", "description", "id", "type", "inner", "claim"])
nodes = st.recursive(leaf | st.lists(leaf, min_size=1, max_size=3),
                     lambda inner: st.dictionaries(term_names, inner, min_size=1, max_size=3)
                     | st.lists(st.dictionaries(term_names, inner, min_size=1, max_size=2), min_size=1, max_size=2),
                     max_leaves=10)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(term_names, nodes, min_size=1, max_size=4), st.booleans(), st.booleans())
def test_documents_of_every_term_kind_agree_with_pyld(subject: dict[str, Any], vocab: bool, ex_prefix: bool) -> None:
    context: dict[str, Any] = dict(TERM_KINDS)
    if vocab:
        context["@vocab"] = "https://example.org/vocab#"
    if ex_prefix:
        context["ex"] = "https://example.org/ex#"
    document = _base(credentialSubject={"id": "did:example:a", **{k: v for k, v in subject.items() if k != "id"}})
    document["@context"] = [V2, EXAMPLES, context]
    event("fast path" if _fast_taken(document) else "pyld fallback")
    _both_compacted(document)
    if _both(document).startswith("ok:"):
        secured = _secured(document)
        _both(secured)
        event("compacted" if _both_compacted(secured).startswith("ok:") else "not compacted")


OUTSIDE_THE_SUBSET = {
    "@list": {"credentialSubject": {"id": "did:example:a", "name": {"@list": ["a", "b"]}}},
    "@graph": {"@graph": [{"id": "did:example:a", "name": "x"}]},
    "language map": {"@context": [V2, {"label": {"@id": "https://example.org/label", "@container": "@language"}}],
                     "label": {"ja": "加賀", "en": "Kaga"}},
    "@reverse": {"@reverse": {"https://example.org/p": {"id": "did:example:b"}}},
    "@included": {"@included": [{"id": "did:example:b", "name": "b"}]},
    "@nest": {"@context": [V2, {"meta": "@nest"}], "meta": {"name": "nested"}},
    "relative IRI": {"id": "relative/path"},
    "blank node id": {"credentialSubject": {"id": "_:subject", "name": "x"}},
    "null claim": {"credentialSubject": {"id": "did:example:a", "name": None}},
    "typed @value": {"validFrom": {"@value": "2026-01-01T00:00:00Z", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}},
    "protected term redefined": {"@context": [V2, {"issuer": "https://evil.example/issuer"}]},
    "@json": {"@context": [V2, {"blob": {"@id": "https://example.org/blob", "@type": "@json"}}], "blob": {"a": [1, 2]}},
    "undefined term (VC 1.1)": {"@context": [V1], "type": ["VerifiableCredential"], "undefinedTerm": 1},
}


@pytest.mark.parametrize("feature", sorted(OUTSIDE_THE_SUBSET))
def test_features_outside_the_subset_fall_back_to_pyld(feature: str) -> None:
    document = {**_base(), **OUTSIDE_THE_SUBSET[feature]}
    assert not _fast_taken(document), feature
    _both(document)
    _both_compacted(document)


INSIDE_THE_SUBSET = {
    "full IRI key": {"https://schema.org/description": "x"},
    "[false]": {"credentialSubject": {"id": "did:example:a", "ageOver18": [False]}},
    "numbers": {"credentialSubject": {"id": "did:example:a", "n": [1, 1.5, -0.0, 10**21, True]}},
    "alias context": {"@context": [V2, EXAMPLES, {"expiry": {"@id": "https://www.w3.org/2018/credentials#validUntil",
                                                            "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}}],
                      "expiry": "2030-01-01T00:00:00Z"},
    "embedded context": {"credentialSubject": {"@context": {"i": "@id"}, "i": "did:example:a", "name": "x"}},
    "status entry": {"credentialStatus": {"id": "https://example.org/s#1", "type": "BitstringStatusListEntry",
                                          "statusPurpose": "revocation", "statusListIndex": "1",
                                          "statusListCredential": "https://example.org/s"}},
    "issuer object": {"issuer": {"id": "did:example:issuer", "name": "加賀市"}},
    "VC 1.1 with the DI context": {"@context": [V1, DI], "issuanceDate": "2026-01-01T00:00:00Z",
                                   "credentialSubject": {"id": "did:example:a"}},
    "kaga context": {"@context": [V2, KAGA]},
}


@pytest.mark.parametrize("feature", sorted(INSIDE_THE_SUBSET))
def test_features_inside_the_subset_take_the_fast_path_and_agree(feature: str) -> None:
    document = {**_base(), **INSIDE_THE_SUBSET[feature]}
    if feature.startswith("VC 1.1"):
        document.pop("validFrom")
        document["type"] = ["VerifiableCredential"]
    if feature == "kaga context":
        document["type"] = ["VerifiableCredential", "ResidencyCredential"]
        document["credentialSubject"] = {"id": "did:example:a", "fullName": "加賀 花子", "birthDate": "1990-04-01"}
    assert _fast_taken(document), feature
    _both(document)
    _both(_secured(document))
    _both_compacted(document)
    _both_compacted(_secured(document))


def test_a_proof_set_takes_the_fast_path() -> None:
    signed = _signed(_base())
    document = add_proof(signed, suite=EddsaRdfc2022(), signer=make_signer(seed=42), loader=LOADER)
    assert isinstance(document["proof"], list) and len(document["proof"]) == 2
    assert _fast_taken(document)
    _both(document)
    assert _both_compacted(document).startswith("ok:")


def test_the_differential_mode_catches_a_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's self-check would notice a fast path that drops a triple."""
    from kaga_vc.proofs import _fastld

    real = _fastld.to_dataset

    def lossy(document: Any, loader: Any) -> Any:
        dataset = real(document, loader)
        dataset["@default"].pop()
        return dataset

    monkeypatch.setattr(_fastld, "to_dataset", lossy)
    monkeypatch.setenv(DIFFERENTIAL_ENV, "1")
    with pytest.raises(FastPathDisagrees):
        _jsonld.canonize(_base(), LOADER)
    monkeypatch.setenv(DIFFERENTIAL_ENV, "0")
    assert _jsonld.canonize(_base(), LOADER) != canonize_pyld(_base(), LOADER)


def test_a_shape_is_judged_once_and_its_literals_are_the_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    from kaga_vc.proofs import _compacted

    first = _secured(_base(credentialSubject={"id": "did:example:a", "name": "一", "nick": ["x", "y"], "n": [True]}))
    assert _both_compacted(first).startswith("ok:")

    def refuse(document: Any, loader: Any = None) -> Any:
        raise AssertionError("pyld was asked again")

    monkeypatch.delenv(DIFFERENTIAL_ENV, raising=False)
    monkeypatch.setattr(_compacted, "check_compacted_pyld", refuse)
    second = copy.deepcopy(first)
    second["credentialSubject"].update(name="二", nick=["p", "q"])
    normalised = check_compacted(second, LOADER)
    assert normalised["credentialSubject"] == {"id": "did:example:a", "name": "二", "nick": ["p", "q"], "n": True}
    assert list(normalised) == list(second)
    # equal texts are another shape: two equal values of one property are not two statements
    third = copy.deepcopy(first)
    third["credentialSubject"]["nick"] = ["x", "x"]
    with pytest.raises(AssertionError, match="asked again"):
        check_compacted(third, LOADER)


@pytest.mark.parametrize("nick", [["x", "x"], ["x", "y"], ["x", "X"], [" x", "x"]])
def test_equal_literal_texts_are_judged_as_pyld_judges_them(nick: list[str]) -> None:
    document = _base(credentialSubject={"id": "did:example:a", "nick": nick})
    _both_compacted(document)
    _both_compacted(_secured(document))


def test_the_differential_mode_catches_a_wrong_remembered_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    from kaga_vc.proofs import _fastld

    document = _base(credentialSubject={"id": "did:example:a", "nick": ["x"]})
    normalised = check_compacted(document, LOADER)
    wrong = {**normalised, "credentialSubject": {"id": "did:example:a", "nick": ["literal 0"]}}
    monkeypatch.setattr(_fastld, "remembered_compacted", lambda loader, key: wrong)
    monkeypatch.setenv(DIFFERENTIAL_ENV, "1")
    with pytest.raises(FastPathDisagrees):
        check_compacted(document, LOADER)


def _presentation(credential: dict[str, Any]) -> dict[str, Any]:
    holder = make_signer(seed=43)
    return add_proof({"@context": [V2], "type": ["VerifiablePresentation"], "holder": holder.key_id.split("#")[0],
                      "verifiableCredential": [credential]}, suite=EddsaRdfc2022(), signer=holder,
                     proof_purpose=ProofPurpose.AUTHENTICATION, challenge="nonce", domain="shop", loader=LOADER)


INNER_RESPELLINGS = {
    "as signed": lambda c: c,
    "context not first": lambda c: {**{k: v for k, v in c.items() if k != "@context"}, "@context": c["@context"]},
    "full IRI claim": lambda c: {**c, "credentialSubject": {"id": "did:example:resident",
                                                            "https://schema.org/name": "加賀 花子"}},
    "alias context": lambda c: {**{k: v for k, v in c.items() if k != "validFrom"},
                                "@context": [*c["@context"], {"start": {"@id": "https://www.w3.org/2018/credentials#validFrom",
                                                                        "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}}],
                                "start": c["validFrom"]},
    "subject id aliased": lambda c: {**c, "credentialSubject": {"@context": {"i": "@id"}, "i": "did:example:resident",
                                                                "name": "加賀 花子"}},
    "one-element arrays": lambda c: {**c, "credentialSubject": [{"id": "did:example:resident", "name": ["加賀 花子"]}]},
    "inner context of its own": lambda c: {**c, "@context": [V2, EXAMPLES, {"extra": "https://example.org/extra"}],
                                           "credentialSubject": {"id": "did:example:resident", "extra": "x"}},
}


@pytest.mark.parametrize("respelling", sorted(INNER_RESPELLINGS))
def test_a_presentation_and_its_credential_agree_with_pyld(respelling: str) -> None:
    credential = INNER_RESPELLINGS[respelling](_secured(_base()))
    presentation = _presentation(credential)
    _both(presentation)
    outcome = _both_compacted(presentation)
    if respelling in ("as signed", "context not first", "one-element arrays", "inner context of its own"):
        assert outcome.startswith("ok:")
        shadow(presentation, LOADER)  # the shadow vouches for it: judged once per shape
    second = copy.deepcopy(presentation)
    second["proof"]["challenge"] = "another nonce"
    _both_compacted(second)


def test_look_alike_blank_nodes_leave_the_simple_canonicaliser_to_pyld() -> None:
    from kaga_vc.proofs._fastld import canonical_simple

    plain = _secured(_base())
    assert canonical_simple(to_dataset(plain, LOADER)) == canonize_pyld(plain, LOADER)
    twins = _base(evidence=[{"type": "Evidence", "name": "x"}, {"type": "Evidence", "name": "x"}],
                  credentialSubject={"id": "did:example:a", "part": [{"name": "y"}, {"name": "y"}, {"name": "z"}]})
    assert canonical_simple(to_dataset(twins, LOADER)) is None  # first-degree hashes alike: N-degree needed
    assert _both(twins).startswith("ok:")
    _both(_secured(twins))


def test_under_an_untested_pyld_release_every_document_takes_pyld(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk uses pyld internals: with another major release it steps aside instead of guessing."""
    from pyld import jsonld

    from kaga_vc.proofs import _fastld

    name, document = VECTOR_DOCUMENTS[0]
    expected = canonize_pyld(document, LOADER)
    assert _fast_taken(document), name
    monkeypatch.setattr(jsonld, "__version__", "4.0.0")
    assert not _fastld.pyld_is_tested()
    with pytest.raises(Unsupported):
        to_dataset(document, LOADER)
    assert canonize(document, LOADER) == expected
