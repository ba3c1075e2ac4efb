"""Issue 11 crash regressions: bad input to a verify path gives a typed problem, never an exception."""

from __future__ import annotations

from typing import Any

from kaga_vc.credentials import issue_credential
from kaga_vc.proofs import ProofPurpose, default_document_loader, default_suites, verify_proof
from kaga_vc.proofs.jose import verify_sd_jwt
from tests.di.conftest import NOW, make_signer, unsigned_credential


class _Broken:
    def resolve_document(self, did: Any) -> Any:
        raise RuntimeError("plug-in failure")


def test_non_ascii_sd_jwt_is_a_parsing_problem() -> None:
    result = verify_sd_jwt("eyJhbGciOiJFZERTQSJ9.e30.c2ln~WyLDqSJd~é.é.é", resolver=_Broken(), now=NOW)  # type: ignore[arg-type]
    assert result.verified is False
    assert result.codes == ["PARSING_ERROR"]


def test_resolver_plug_in_failure_is_could_not_check_in_data_integrity() -> None:
    signer = make_signer(seed=7)
    credential = issue_credential(unsigned_credential(issuer=signer.key_id.split("#")[0]), signer=signer, created=NOW)
    check = verify_proof(credential, suites=default_suites(), resolver=_Broken(),  # type: ignore[arg-type]
                         expected_purpose=ProofPurpose.ASSERTION_METHOD, loader=default_document_loader(), now=NOW)
    assert not check.errors
    assert [e.code for e in check.could_not_check] == ["kaga:resolver-failed"]


# -- a lone surrogate ("\ud800") in a Data Integrity document ---------------------------------------
def _signed_text_with_lone_surrogate() -> str:
    import json

    signer = make_signer(seed=7)
    credential = issue_credential(unsigned_credential(issuer=signer.key_id.split("#")[0]), signer=signer, created=NOW)
    text = json.dumps(credential)  # ensure_ascii: 加 is written \u52a0
    assert "\\u52a0" in text
    return text.replace("\\u52a0", "\\ud800")


def test_lone_surrogate_in_a_data_integrity_document_is_a_parsing_problem() -> None:
    import json

    from kaga_vc import verify_credential, verify_presentation
    from kaga_vc.did import KeyMethod, Resolver

    resolver = Resolver({"key": KeyMethod()})
    text = _signed_text_with_lone_surrogate()
    for data in (text, text.encode("ascii"), json.loads(text)):
        assert verify_credential(data, resolver=resolver, now=NOW).codes == ["PARSING_ERROR"]
        assert verify_presentation(data, resolver=resolver, now=NOW).codes == ["PARSING_ERROR"]


def test_lone_surrogate_cannot_be_signed_or_canonicalised() -> None:
    import pytest

    from kaga_vc.errors import KagaError
    from kaga_vc.proofs import canonize

    document = unsigned_credential(issuer="did:example:city")
    document["credentialSubject"]["name"] = "\ud800"
    for attempt in (lambda: issue_credential(document, signer=make_signer(seed=7)), lambda: canonize(document)):
        with pytest.raises(KagaError) as refused:
            attempt()
        assert refused.value.code == "PARSING_ERROR"


# -- a did:key whose Ed25519 key is a point of small order ------------------------------------------
_P = 2**255 - 19
_SMALL_ORDER_Y = (1, 0, _P - 1,  # the identity, the point of order 2, the two of order 4 (y = 0)
                  2707385501144840649318225287225658788936804267575313519463743609750303402022,  # order 8
                  _P - 2707385501144840649318225287225658788936804267575313519463743609750303402022)


def _small_order_did(y: int) -> str:
    from kaga_vc._encoding import multibase_encode, multicodec_wrap

    return "did:key:" + multibase_encode(multicodec_wrap("ed25519-pub", y.to_bytes(32, "little")))


def test_small_order_ed25519_keys_are_refused_and_forge_nothing() -> None:
    import pytest
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from kaga_vc.did import KeyMethod, Resolver
    from kaga_vc.errors import KagaError
    from kaga_vc.keys import KeyType, PublicKey

    identity = (1).to_bytes(32, "little")
    # the danger is real: with the identity as public key, (R = identity, S = 0) verifies any message
    ed25519.Ed25519PublicKey.from_public_bytes(identity).verify(identity + bytes(32), b"any message")
    for y in _SMALL_ORDER_Y:
        with pytest.raises(KagaError) as refused:
            PublicKey.from_raw(KeyType.ED25519, y.to_bytes(32, "little"))
        assert refused.value.code == "kaga:invalid-key"
        with pytest.raises(KagaError) as unresolved:
            Resolver({"key": KeyMethod()}).resolve_document(_small_order_did(y))
        assert unresolved.value.code == "invalidDid"


def test_forged_credential_of_the_identity_key_is_refused() -> None:
    from kaga_vc import verify_credential
    from kaga_vc._encoding import multibase_encode
    from kaga_vc.did import KeyMethod, Resolver

    did = _small_order_did(1)
    forged = unsigned_credential(issuer=did)
    forged["proof"] = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2025-01-02T00:00:00Z",
                       "verificationMethod": f"{did}#{did.rsplit(':', 1)[-1]}", "proofPurpose": "assertionMethod",
                       "proofValue": multibase_encode((1).to_bytes(32, "little") + bytes(32))}
    result = verify_credential(forged, resolver=Resolver({"key": KeyMethod()}), now=NOW)
    assert result.verified is False
    assert result.codes == ["invalidDid"]


def test_access_log_entry_of_a_small_order_subject_is_recorded_unsealed(tmp_path: Any) -> None:
    from kaga_vc._encoding import multibase_encode, multicodec_wrap
    from kaga_vc.accesslog import AccessEntry, AccessLog

    verifier = make_signer(seed=8)
    low_x25519 = "did:key:" + multibase_encode(multicodec_wrap("x25519-pub", bytes(32)))  # u = 0
    log = AccessLog.open(str(tmp_path / "log.db"), log_key=bytes(range(32)), signer=verifier)
    try:
        seqs = [log.record(AccessEntry(verifier=verifier.key_id.split("#")[0], subject=subject, purpose="check-in",
                                       result="refused", reason="kaga:holder-not-subject", claims=["ageOver18"])).seq
                for subject in (_small_order_did(1), _small_order_did(_SMALL_ORDER_Y[3]), low_x25519)]
        assert seqs == [0, 1, 2] and len(log) == 3
    finally:
        log.close()


def test_non_ascii_anywhere_in_any_part_of_an_sd_jwt_is_refused_with_a_code() -> None:
    from kaga_vc import verify_credential, verify_presentation
    from kaga_vc.did import KeyMethod, Resolver
    from kaga_vc.proofs.jose import issue_sd_jwt, present_sd_jwt

    issuer, holder = make_signer(seed=5), make_signer(seed=6)
    resolver = Resolver({"key": KeyMethod()})
    issued = issue_sd_jwt({"iss": issuer.key_id.split("#")[0], "vct": "https://kaga.example/vct/Test",
                           "iat": int(NOW.timestamp()), "ageOver18": True},
                          signer=issuer, disclosable=["ageOver18"], holder_key=holder.key.public_key)
    shown = present_sd_jwt(issued, disclose=["ageOver18"], holder_signer=holder, audience="did:web:shop.example",
                           nonce="n-1", now=NOW)
    parts = shown.split("~")  # issuer JWT, the disclosure, the KB-JWT
    for index, part in enumerate(parts):
        for position in (0, len(part) // 2, len(part) - 1):
            for char in ("é", "加", "\ud800", "\x00"):
                changed = list(parts)
                changed[index] = part[:position] + char + part[position + 1:]
                text = "~".join(changed)
                for result in (verify_credential(text, resolver=resolver, now=NOW),
                               verify_presentation(text, resolver=resolver, now=NOW, challenge="n-1",
                                                   domain="did:web:shop.example")):
                    assert result.verified is False and result.codes, (index, position, char)


# -- a VC 1.1 JWT whose exp / nbf lies past year 9999 --------------------------------------------
def test_vc11_jwt_with_a_numeric_date_past_year_9999_is_a_problem_not_a_crash() -> None:
    # normalise_credential turned exp into an expirationDate with datetime.fromtimestamp, which raised
    # ValueError out of verify_credential (found by tests/test_jose_differential.py)
    from kaga_vc.credentials import verify_credential
    from kaga_vc.proofs.jose import sign_compact
    from tests._jose_support import ED, NOW, did_of, resolver

    for claim in ("exp", "nbf"):
        payload = {"iss": did_of(ED), claim: 10**12, "vc": {"@context": ["https://www.w3.org/2018/credentials/v1"],
                                                         "type": ["VerifiableCredential"], "credentialSubject": {}}}
        token = sign_compact({"alg": "EdDSA", "typ": "JWT", "kid": ED.key_id}, payload, ED)
        result = verify_credential(token, resolver=resolver(), now=NOW)
        assert not result.verified
        assert "MALFORMED_VALUE_ERROR" in result.codes and "signature" in result.checks
