"""Table-driven negative suite: each case changes one thing and asserts the specific problem code."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from kaga_vc.credentials import create_presentation, issue_credential, verify_credential, verify_presentation
from kaga_vc.did import DID, KeyMethod, ResolutionOptions, ResolutionResult, Resolver
from kaga_vc.keys import KeySigner
from kaga_vc.proofs import EddsaRdfc2022, ProofPurpose, add_proof, default_document_loader

from .conftest import NOW, make_signer, unsigned_credential

pytestmark = pytest.mark.usefixtures("no_network")

ED = make_signer(seed=7)
OTHER = make_signer(seed=9)
V2_ONLY = ["https://www.w3.org/ns/credentials/v2"]


class AuthOnlyMethod:
    """did:test — a DID whose one key is listed under ``authentication`` only."""

    method: ClassVar[str] = "test"

    def __init__(self, signer: KeySigner) -> None:
        self.public_key = signer.key.public_key

    def resolve(self, did: DID, options: ResolutionOptions) -> ResolutionResult:
        vm = {"id": f"{did}#k1", "type": "Multikey", "controller": str(did), "publicKeyMultibase": self.public_key.to_multikey()}
        document = {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": str(did),
            "verificationMethod": [vm],
            "authentication": [vm["id"]],
        }
        return ResolutionResult(document)


TEST_SIGNER = KeySigner(ED.key, "did:test:alice#k1")
RESOLVER = Resolver({"key": KeyMethod(), "test": AuthOnlyMethod(ED)})


def sign(credential: dict[str, Any] | None = None, signer: KeySigner = ED, **kwargs: Any) -> dict[str, Any]:
    return issue_credential(credential or unsigned_credential(), signer=signer, created=datetime(2025, 1, 2, tzinfo=UTC), **kwargs)


def raw_sign(document: dict[str, Any], signer: KeySigner, **kwargs: Any) -> dict[str, Any]:
    """Sign without the issuance checks (to build documents an honest issuer would refuse)."""
    return add_proof(document, suite=EddsaRdfc2022(), signer=signer, loader=default_document_loader(), **kwargs)


SIGNED = sign()


def mutate(fn: Callable[[dict[str, Any]], Any]) -> Callable[[], Any]:
    def build() -> Any:
        doc = copy.deepcopy(SIGNED)
        out = fn(doc)
        return doc if out is None else out

    return build


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return apply


_DELETE = object()


def _deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def _deep_dict(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"x": 1}
    for _ in range(levels):
        value = {"x": value}
    return {**copy.deepcopy(SIGNED), "credentialSubject": {"id": "did:example:1", "nested": value}}


def _foreign_signature() -> dict[str, Any]:
    # signed by another key, claiming ED's verification method
    forged = raw_sign(unsigned_credential(issuer=ED.key_id.split("#")[0]), KeySigner(OTHER.key, ED.key_id))
    return forged


def _undefined_term() -> dict[str, Any]:
    signed = sign(unsigned_credential(**{"@context": V2_ONLY}, type=["VerifiableCredential"],
                                      credentialSubject={"id": "did:example:1", "name": "加賀"}))
    signed["credentialSubject"]["favouriteFood"] = "kani"
    return signed


def _undefined_type() -> dict[str, Any]:
    signed = sign(unsigned_credential(**{"@context": V2_ONLY}, type=["VerifiableCredential"], credentialSubject={"id": "did:example:1"}))
    signed["type"] = ["VerifiableCredential", "UnknownType"]
    return signed


def _proof_set() -> dict[str, Any]:
    # a proof set whose second proof (by another key) no longer holds
    doc = raw_sign(copy.deepcopy(SIGNED), OTHER)
    doc["proof"][1]["created"] = "2025-01-04T00:00:00Z"
    return doc


@dataclass
class Case:
    id: str
    build: Callable[[], Any]
    code: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    presentation: bool = False
    exact: bool = True
    could_not_check: bool = False


CASES = [
    Case("changed-claim", mutate(_set(["credentialSubject", "name"], "加賀 太郎")), "PROOF_VERIFICATION_ERROR"),
    Case("added-claim", mutate(_set(["credentialSubject", "age"], 42)), "PROOF_VERIFICATION_ERROR"),
    Case("removed-validUntil", mutate(_set(["validUntil"], _DELETE)), "PROOF_VERIFICATION_ERROR"),
    Case("changed-type", mutate(_set(["type"], ["VerifiableCredential", "AlumniCredential"])), "PROOF_VERIFICATION_ERROR"),
    Case("changed-proof-created", mutate(_set(["proof", "created"], "2025-01-03T00:00:00Z")), "PROOF_VERIFICATION_ERROR"),
    Case("proof-from-another-key", _foreign_signature, "PROOF_VERIFICATION_ERROR"),
    Case("signed-by-another-did", lambda: sign(unsigned_credential(issuer=ED.key_id.split("#")[0]), signer=ED) | {"issuer": OTHER.key_id.split("#")[0]},
         "kaga:issuer-mismatch", exact=False),
    Case("issuer-not-signer", lambda: raw_sign(unsigned_credential(issuer=OTHER.key_id.split("#")[0]), ED), "kaga:issuer-mismatch"),
    Case("wrong-proof-purpose", lambda: sign(proof_purpose=ProofPurpose.AUTHENTICATION), "MISMATCHED_PROOF_PURPOSE_ERROR"),
    Case("key-not-in-assertionMethod", lambda: raw_sign(unsigned_credential(issuer="did:test:alice"), TEST_SIGNER),
         "MISMATCHED_PROOF_PURPOSE_ERROR"),
    Case("unknown-context", mutate(lambda d: d["@context"].append("https://example.com/contexts/kaga/v1")), "kaga:context-not-bundled"),
    Case("remote-context", mutate(lambda d: d["@context"].append("http://schema.org/")), "kaga:context-not-bundled"),
    Case("undefined-term", _undefined_term, "kaga:undefined-term"),
    Case("undefined-type", _undefined_type, "kaga:undefined-term"),
    Case("expired", lambda: SIGNED, "kaga:credential-expired", {"now": datetime(2031, 1, 1, tzinfo=UTC)}),
    Case("not-yet-valid", lambda: SIGNED, "kaga:credential-not-yet-valid", {"now": datetime(2024, 6, 1, tzinfo=UTC)}),
    Case("no-proof", mutate(lambda d: {k: v for k, v in d.items() if k != "proof"}), "kaga:proof-missing"),
    Case("missing-proofValue", mutate(_set(["proof", "proofValue"], _DELETE)), "MALFORMED_PROOF_ERROR"),
    Case("missing-verificationMethod", mutate(_set(["proof", "verificationMethod"], _DELETE)), "MALFORMED_PROOF_ERROR"),
    Case("missing-proofPurpose", mutate(_set(["proof", "proofPurpose"], _DELETE)), "MALFORMED_PROOF_ERROR"),
    Case("proofValue-not-multibase", mutate(_set(["proof", "proofValue"], "u" + "A" * 86)), "MALFORMED_PROOF_ERROR"),
    Case("proofValue-bad-base58", mutate(_set(["proof", "proofValue"], "z0OIl" + "1" * 80)), "MALFORMED_PROOF_ERROR"),
    Case("proofValue-wrong-length", mutate(_set(["proof", "proofValue"], "z3mJr7AoUXx2Wqd")), "MALFORMED_PROOF_ERROR"),
    Case("proofValue-not-string", mutate(_set(["proof", "proofValue"], 12)), "MALFORMED_PROOF_ERROR"),
    Case("unknown-cryptosuite", mutate(_set(["proof", "cryptosuite"], "eddsa-jcs-2022")), "kaga:unsupported-cryptosuite"),
    Case("ld-signature-2020", mutate(_set(["proof", "type"], "Ed25519Signature2020")), "kaga:unsupported-cryptosuite"),
    Case("suite-for-other-key-type", mutate(_set(["proof", "cryptosuite"], "ecdsa-rdfc-2019")), "INVALID_VERIFICATION_METHOD"),
    Case("malformed-created", mutate(_set(["proof", "created"], "yesterday")), "INVALID_PROOF_CONFIGURATION"),
    Case("proof-expired", lambda: raw_sign(unsigned_credential(issuer=ED.key_id.split("#")[0]), ED,
                                           expires=datetime(2025, 3, 1, tzinfo=UTC)), "kaga:proof-expired"),
    Case("proof-set-one-proof-broken", _proof_set, "PROOF_VERIFICATION_ERROR"),
    Case("previousProof-names-nothing", mutate(_set(["proof", "previousProof"], "urn:uuid:1")), "PROOF_VERIFICATION_ERROR"),
    Case("previousProof-not-a-string", mutate(_set(["proof", "previousProof"], 1)), "MALFORMED_PROOF_ERROR"),
    Case("vm-not-in-document", mutate(lambda d: d["proof"].update(verificationMethod=ED.key_id.split("#")[0] + "#nope")),
         "kaga:verification-method-not-found"),
    Case("vm-not-a-did-url", mutate(_set(["proof", "verificationMethod"], "https://example.com/keys/1")), "INVALID_VERIFICATION_METHOD"),
    Case("did-method-unavailable", mutate(lambda d: d.update(issuer="did:web:example.com") or d["proof"].update(
        verificationMethod="did:web:example.com#key-1")), "methodNotSupported",
         could_not_check=True),
    Case("oversized", lambda: json.dumps({**SIGNED, "pad": "x" * (1024 * 1024 + 1)}), "kaga:document-too-large"),
    Case("deep-json-text", lambda: _deep(200), "kaga:document-too-deep"),
    Case("deep-dict", lambda: _deep_dict(100), "kaga:document-too-deep"),
    Case("duplicate-keys", lambda: json.dumps(SIGNED)[:-1] + ', "issuer": "did:example:evil"}', "kaga:duplicate-json-key"),
    Case("not-json", lambda: "this is not a credential", "PARSING_ERROR"),
    Case("truncated-json", lambda: json.dumps(SIGNED)[:50], "PARSING_ERROR"),
    Case("json-nan", lambda: json.dumps(SIGNED)[:-1] + ', "n": NaN}', "PARSING_ERROR"),
    Case("not-utf8", lambda: b"{\xff\xfe}", "PARSING_ERROR"),
    Case("missing-subject", mutate(_set(["credentialSubject"], _DELETE)), "MALFORMED_VALUE_ERROR"),
    Case("wrong-base-context", mutate(lambda d: d["@context"].reverse()), "MALFORMED_VALUE_ERROR"),
    Case("validFrom-not-a-date", mutate(_set(["validFrom"], "1 January 2025")), "MALFORMED_VALUE_ERROR"),
    Case("presentation-given-as-credential", lambda: PRESENTATION, "MALFORMED_VALUE_ERROR"),
    # presentations
    Case("vp-wrong-challenge", lambda: PRESENTATION, "INVALID_CHALLENGE_ERROR", {"challenge": "other", "domain": "kaga.example"}, True),
    Case("vp-wrong-domain", lambda: PRESENTATION, "INVALID_DOMAIN_ERROR", {"challenge": "n-0001", "domain": "evil.example"}, True),
    Case("vp-no-challenge-in-proof", lambda: create_presentation([SIGNED], signer=ED, domain="kaga.example"),
         "INVALID_CHALLENGE_ERROR", {"challenge": "n-0001", "domain": "kaga.example"}, True),
    Case("vp-assertion-purpose", lambda: raw_sign(
        {"@context": V2_ONLY, "type": ["VerifiablePresentation"], "holder": ED.key_id.split("#")[0]}, ED, challenge="n-0001"),
         "MISMATCHED_PROOF_PURPOSE_ERROR", {"challenge": "n-0001"}, True),
    Case("vp-holder-mismatch", lambda: create_presentation([SIGNED], signer=ED, holder=OTHER.key_id.split("#")[0], challenge="n-0001"),
         "kaga:holder-mismatch", {"challenge": "n-0001"}, True),
    Case("vp-tampered-credential", lambda: _tampered_presentation(), "PROOF_VERIFICATION_ERROR", {"challenge": "n-0001"}, True),
    Case("vp-changed-after-signing", lambda: PRESENTATION | {"id": "urn:uuid:2"}, "PROOF_VERIFICATION_ERROR",
         {"challenge": "n-0001", "domain": "kaga.example"}, True),
]

PRESENTATION = create_presentation([SIGNED], signer=ED, challenge="n-0001", domain="kaga.example")


def _tampered_presentation() -> dict[str, Any]:
    credential = copy.deepcopy(SIGNED)
    credential["credentialSubject"]["name"] = "someone else"
    return create_presentation([credential], signer=ED, challenge="n-0001")


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_negative(case: Case) -> None:
    data = case.build()
    kwargs = {"now": NOW, **case.kwargs}
    if case.presentation:
        result = verify_presentation(data, resolver=RESOLVER, **kwargs)
    else:
        result = verify_credential(data, resolver=RESOLVER, **kwargs)
    assert result.verified is False
    if case.exact:
        assert result.codes == [case.code], result.to_json()
    else:
        assert case.code in result.codes, result.to_json()
    assert result.could_not_check is case.could_not_check
    json.dumps(result.to_json())  # always serialisable


def test_baseline_verifies() -> None:
    assert verify_credential(SIGNED, resolver=RESOLVER, now=NOW).verified
    result = verify_presentation(PRESENTATION, resolver=RESOLVER, challenge="n-0001", domain="kaga.example", now=NOW)
    assert result.verified, result.to_json()
    assert not result.warnings


def test_reordered_but_equal_json_still_verifies() -> None:
    reordered = json.loads(json.dumps(SIGNED, ensure_ascii=False))
    reordered = dict(reversed(list(reordered.items())))
    reordered["credentialSubject"] = dict(reversed(list(reordered["credentialSubject"].items())))
    reordered["proof"] = dict(reversed(list(reordered["proof"].items())))
    reordered["type"] = list(reversed(reordered["type"]))  # @type is a set in JSON-LD
    text = json.dumps(reordered, indent=4, ensure_ascii=True)  # other whitespace and escapes
    assert text != json.dumps(SIGNED)
    result = verify_credential(text, resolver=RESOLVER, now=NOW)
    assert result.verified, result.to_json()


def test_presentation_without_challenge_warns() -> None:
    result = verify_presentation(PRESENTATION, resolver=RESOLVER, now=NOW)
    assert result.verified
    assert [w.code for w in result.warnings] == ["kaga:challenge-not-checked"]


def test_tampered_embedded_credential_names_its_index() -> None:
    result = verify_presentation(_tampered_presentation(), resolver=RESOLVER, challenge="n-0001", now=NOW)
    assert result.problems[0].context["credential"] == 0


def test_issuance_refuses_what_verification_would_refuse() -> None:
    from kaga_vc.errors import KagaError

    with pytest.raises(KagaError) as info:
        sign(unsigned_credential(**{"@context": V2_ONLY}, type=["VerifiableCredential"],
                                 credentialSubject={"id": "did:example:1", "food": "kani"}))
    assert info.value.code == "kaga:undefined-term"
    with pytest.raises(KagaError) as info:
        sign(unsigned_credential(issuer=OTHER.key_id.split("#")[0]))
    assert info.value.code == "kaga:issuer-mismatch"
    with pytest.raises(KagaError) as info:
        sign(unsigned_credential(**{"@context": [*V2_ONLY, "https://example.com/ctx"]}))
    assert info.value.code == "kaga:context-not-bundled"


@pytest.mark.parametrize("context", ["", "0", "contexts/kaga.jsonld"])
def test_relative_context_url_is_a_transformation_error_not_a_crash(context: str) -> None:
    """pyld raises a bare ValueError for a relative context IRI with no base: it must come out as a Problem."""
    document = copy.deepcopy(SIGNED)
    document["@context"] = [*document["@context"], context]
    result = verify_credential(document, resolver=RESOLVER, now=NOW)
    assert not result.verified
    assert "PROOF_TRANSFORMATION_ERROR" in result.codes
