"""Negative suite: every way a JOSE credential or presentation can be wrong gets its stable code.

All verifications here run with sockets refused (the ``no_network`` fixture is autoused).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from kaga_vc._encoding import b64url_decode, b64url_encode
from kaga_vc.credentials import verify_credential, verify_presentation
from kaga_vc.credentials._result import VerificationResult
from kaga_vc.did.ethr_implicit import did_ethr_from_public_key
from kaga_vc.keys import KeySigner, KeyType
from kaga_vc.proofs.jose import JOSELimits
from kaga_vc.proofs.jose._jws import canonical_json, sign_compact
from kaga_vc.proofs.jose.jwt_vc11 import sign_jwt_vc11, sign_jwt_vp11, verify_jwt_vc11, verify_jwt_vp11
from kaga_vc.proofs.jose.sd_jwt import (
    Disclosure,
    digest_of,
    issue_sd_jwt,
    present_sd_jwt,
    verify_sd_jwt,
)
from kaga_vc.proofs.jose.vc_jose import envelope, sign_vc_jwt, sign_vp_jwt, verify_vc_jwt, verify_vp_jwt
from tests._jose_support import (
    ED,
    ETHR,
    HOLDER,
    HOLDER_ED,
    NOW,
    OTHER_ED,
    P256,
    credential_v2,
    credential_v11,
    did_of,
    key,
    resolver,
)

RESOLVER = resolver()
AUD, NONCE = "did:web:ryokan.example", "n-0S6_WzA2Mj"


@pytest.fixture(autouse=True)
def _offline(no_network: None) -> None:
    return None


def seg(value: Any) -> str:
    return b64url_encode(canonical_json(value))


def forge(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{seg(header)}.{seg(payload)}"
    return signing_input + "." + b64url_encode(sign(signing_input.encode()))


def vc_header(signer: KeySigner = ED, **extra: Any) -> dict[str, Any]:
    return {"alg": "EdDSA", "kid": signer.key_id, "typ": "vc+jwt", "cty": "vc", **extra}


def vc_payload(**extra: Any) -> dict[str, Any]:
    return {**credential_v2(did_of(ED)), **extra}


def vc(**extra: Any) -> VerificationResult:
    return verify_vc_jwt(forge(vc_header(), vc_payload(**extra), ED.sign), resolver=RESOLVER, now=NOW)


def codes_of(result: VerificationResult) -> set[str]:
    assert not result.verified
    return set(result.codes)


# -- JOSE header hygiene ------------------------------------------------------------------------
def test_alg_none_is_refused() -> None:
    token = f"{seg({'alg': 'none', 'typ': 'vc+jwt', 'kid': ED.key_id})}.{seg(vc_payload())}."
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:algorithm-not-allowed"}


def test_hs256_with_the_public_key_as_secret_is_refused() -> None:
    secret = ED.key.public_key.raw
    token = forge(vc_header(alg="HS256"), vc_payload(), lambda data: hmac.new(secret, data, hashlib.sha256).digest())
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:algorithm-not-allowed"}


@pytest.mark.parametrize("alg", ["RS256", "PS256", "HS512", "Ed448", "none ", "EDDSA", "ES256K-R ", "Ed25519"])
def test_algorithms_outside_the_allow_list_are_refused(alg: str) -> None:
    token = forge(vc_header(alg=alg), vc_payload(), ED.sign)
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:algorithm-not-allowed"}


def test_header_alg_disagreeing_with_the_key_type_is_refused() -> None:
    # An Ed25519 signature under a header claiming ES256K: the key's type decides, never the header.
    token = forge(vc_header(alg="ES256K"), vc_payload(), ED.sign)
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:algorithm-key-mismatch"}


def test_missing_alg_is_a_parsing_error() -> None:
    header = vc_header()
    del header["alg"]
    assert codes_of(verify_vc_jwt(forge(header, vc_payload(), ED.sign), resolver=RESOLVER, now=NOW)) == {"PARSING_ERROR"}


@pytest.mark.parametrize("extra", [{"crit": ["exp"], "exp": 1}, {"crit": ["b64"], "b64": False}, {"b64": False}])
def test_critical_and_unencoded_payload_headers_are_refused(extra: dict[str, Any]) -> None:
    token = forge(vc_header(**extra), vc_payload(), ED.sign)
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:unsupported-critical-header"}


def test_duplicate_header_member_is_refused() -> None:
    header = '{"alg":"EdDSA","kid":"' + ED.key_id + '","typ":"vc+jwt","alg":"none"}'
    signing_input = f"{b64url_encode(header.encode())}.{seg(vc_payload())}"
    token = signing_input + "." + b64url_encode(ED.sign(signing_input.encode()))
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:duplicate-json-key"}


def test_wrong_typ_is_refused() -> None:
    token = forge(vc_header(typ="JWT"), vc_payload(), ED.sign)
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:invalid-typ"}


# -- kid and keys -------------------------------------------------------------------------------
def test_kid_of_another_did_is_refused() -> None:
    token = forge(vc_header(OTHER_ED), vc_payload(), OTHER_ED.sign)
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:kid-issuer-mismatch"}


def test_kid_without_fragment_is_refused() -> None:
    token = forge(vc_header(kid=did_of(ED)), vc_payload(), ED.sign)
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:invalid-kid"}


def test_missing_kid_is_refused_for_vc_jwt() -> None:
    header = vc_header()
    del header["kid"]
    assert codes_of(verify_vc_jwt(forge(header, vc_payload(), ED.sign), resolver=RESOLVER, now=NOW)) == {"kaga:invalid-kid"}


def test_kid_naming_no_method_of_the_document_is_refused() -> None:
    token = forge(vc_header(kid=did_of(ED) + "#key-99"), vc_payload(), ED.sign)
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:verification-method-not-found"}


def test_signature_of_another_key_is_refused() -> None:
    token = forge(vc_header(), vc_payload(), OTHER_ED.sign)
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"PROOF_VERIFICATION_ERROR"}


def test_unconfigured_did_method_is_could_not_check() -> None:
    payload = vc_payload(issuer="did:web:city.kaga.example")
    token = forge(vc_header(kid="did:web:city.kaga.example#key-1"), payload, ED.sign)
    result = verify_vc_jwt(token, resolver=RESOLVER, now=NOW)
    assert codes_of(result) == {"methodNotSupported"}
    assert result.could_not_check


# -- payload integrity, claims and time --------------------------------------------------------
def test_tampered_payload_is_refused() -> None:
    header, _, signature = sign_vc_jwt(credential_v2(did_of(ED)), ED).split(".")
    tampered = vc_payload()
    tampered["credentialSubject"]["residentOf"] = "Kanazawa"
    token = f"{header}.{seg(tampered)}.{signature}"
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"PROOF_VERIFICATION_ERROR"}


def test_iss_differing_from_issuer_is_refused() -> None:
    assert codes_of(vc(iss=did_of(OTHER_ED))) == {"kaga:issuer-mismatch"}


def test_sub_differing_from_subject_is_refused() -> None:
    assert codes_of(vc(sub=did_of(OTHER_ED))) == {"kaga:subject-mismatch"}


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"validUntil": "2026-05-01T00:00:00Z"}, "kaga:credential-expired"),
        ({"exp": int((NOW - timedelta(hours=1)).timestamp())}, "kaga:credential-expired"),
        ({"validFrom": "2026-07-01T00:00:00Z"}, "kaga:credential-not-yet-valid"),
        ({"nbf": int((NOW + timedelta(hours=1)).timestamp())}, "kaga:credential-not-yet-valid"),
        ({"iat": int((NOW + timedelta(hours=1)).timestamp())}, "kaga:issued-in-future"),
        ({"exp": "tomorrow"}, "MALFORMED_VALUE_ERROR"),
        ({"validUntil": "2027-01-01T00:00:00"}, "MALFORMED_VALUE_ERROR"),
    ],
)
def test_validity_claims(claims: dict[str, Any], code: str) -> None:
    assert codes_of(vc(**claims)) == {code}


def test_clock_skew_is_a_parameter() -> None:
    token = forge(vc_header(), vc_payload(nbf=int((NOW + timedelta(minutes=3)).timestamp())), ED.sign)
    assert verify_vc_jwt(token, resolver=RESOLVER, now=NOW).verified  # default skew: 5 minutes
    strict = verify_vc_jwt(token, resolver=RESOLVER, now=NOW, max_clock_skew=timedelta(seconds=30))
    assert codes_of(strict) == {"kaga:credential-not-yet-valid"}


# -- malformed input ----------------------------------------------------------------------------
def test_oversized_token_is_refused() -> None:
    token = forge(vc_header(), vc_payload(padding="x" * 70_000), ED.sign)
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:document-too-large"}
    small = JOSELimits(max_token_bytes=512)
    assert codes_of(verify_vc_jwt(sign_vc_jwt(credential_v2(did_of(ED)), ED), resolver=RESOLVER, now=NOW, limits=small)) == {
        "kaga:document-too-large"
    }


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace(".", "+", 1),  # not base64url
        lambda t: "=" + t,  # padding
        lambda t: t + ".extra",  # four segments
        lambda t: t.rsplit(".", 1)[0],  # two segments
        lambda t: "ey.ey.ey",  # truncated
        lambda t: t.split(".")[0] + "." + seg([1, 2]) + "." + t.split(".")[2],  # payload JSON not an object
        lambda t: seg("header") + "." + ".".join(t.split(".")[1:]),  # header JSON not an object
        lambda t: t.split(".")[0] + "." + b64url_encode(b'{"a":NaN}') + "." + t.split(".")[2],  # NaN
        lambda t: t.split(".")[0] + "." + b64url_encode(b"\xff\xfe") + "." + t.split(".")[2],  # not UTF-8
        lambda t: t.rsplit(".", 1)[0] + ".",  # empty signature
        lambda t: "\u00e9" + t,  # non-ASCII
    ],
)
def test_malformed_tokens_are_parsing_errors(mangle: Callable[[str], str]) -> None:
    token = mangle(sign_vc_jwt(credential_v2(did_of(ED)), ED))
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"PARSING_ERROR"}


def test_deeply_nested_json_is_refused() -> None:
    deep: Any = "x"
    for _ in range(60):
        deep = [deep]
    token = forge(vc_header(), vc_payload(deep=deep), ED.sign)
    assert codes_of(verify_vc_jwt(token, resolver=RESOLVER, now=NOW)) == {"kaga:document-too-deep"}


# -- VC 1.1 JWT and did:ethr --------------------------------------------------------------------
def v11_payload(**extra: Any) -> dict[str, Any]:
    from kaga_vc.proofs.jose.jwt_vc11 import credential_to_jwt_payload

    return {**credential_to_jwt_payload(credential_v11(did_of(ETHR))), **extra}


def test_vc11_vc_issuer_differing_from_iss_is_refused() -> None:
    payload = v11_payload()
    payload["vc"]["issuer"] = did_of(ED)
    token = sign_compact({"alg": "ES256K", "typ": "JWT"}, payload, ETHR)
    assert codes_of(verify_jwt_vc11(token, resolver=RESOLVER, now=NOW)) == {"kaga:issuer-mismatch"}


def test_vc11_sub_differing_from_subject_id_is_refused() -> None:
    payload = v11_payload()
    payload["vc"]["credentialSubject"]["id"] = did_of(ED)
    token = sign_compact({"alg": "ES256K", "typ": "JWT"}, payload, ETHR)
    assert codes_of(verify_jwt_vc11(token, resolver=RESOLVER, now=NOW)) == {"kaga:subject-mismatch"}


def test_vc11_without_vc_claim_is_refused() -> None:
    token = sign_compact({"alg": "ES256K", "typ": "JWT"}, {"iss": did_of(ETHR)}, ETHR)
    assert codes_of(verify_jwt_vc11(token, resolver=RESOLVER, now=NOW)) == {"MALFORMED_VALUE_ERROR"}


def test_did_ethr_signed_by_another_secp256k1_key_is_refused() -> None:
    intruder = KeySigner(key(KeyType.SECP256K1, 99), ETHR.key_id)
    token = sign_jwt_vc11(credential_v11(did_of(ETHR)), intruder)
    assert codes_of(verify_jwt_vc11(token, resolver=RESOLVER, now=NOW)) == {"PROOF_VERIFICATION_ERROR"}


def test_did_ethr_high_s_signature_is_refused() -> None:
    token = sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR)
    head, body, sig = token.split(".")
    raw = b64url_decode(sig)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = (n - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    forged = f"{head}.{body}.{b64url_encode(raw[:32] + high_s)}"
    assert codes_of(verify_jwt_vc11(forged, resolver=RESOLVER, now=NOW)) == {"PROOF_VERIFICATION_ERROR"}


def test_did_key_secp256k1_high_s_signature_is_refused() -> None:
    from tests._jose_support import K1_KEY

    head, body, sig = sign_vc_jwt(credential_v2(did_of(K1_KEY)), K1_KEY).split(".")
    raw = b64url_decode(sig)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    forged = f"{head}.{body}.{b64url_encode(raw[:32] + (n - int.from_bytes(raw[32:], 'big')).to_bytes(32, 'big'))}"
    assert codes_of(verify_vc_jwt(forged, resolver=RESOLVER, now=NOW)) == {"PROOF_VERIFICATION_ERROR"}


def test_es256k_r_with_flipped_recovery_id_is_refused() -> None:
    token = sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR, recoverable=True)
    head, body, sig = token.split(".")
    raw = bytearray(b64url_decode(sig))
    raw[64] ^= 1
    forged = f"{head}.{body}.{b64url_encode(bytes(raw))}"
    assert codes_of(verify_jwt_vc11(forged, resolver=RESOLVER, now=NOW)) == {"PROOF_VERIFICATION_ERROR"}


def test_did_ethr_of_another_chain_id_still_names_its_account() -> None:
    # The DID (with its chain id) is what is resolved; the kid of another did:ethr is refused.
    other = did_ethr_from_public_key(key(KeyType.SECP256K1, 10).public_key, network="0x1")
    signer = KeySigner(ETHR.key, other + "#controller")
    payload = v11_payload()
    token = sign_compact({"alg": "ES256K", "typ": "JWT", "kid": signer.key_id}, payload, signer)
    assert codes_of(verify_jwt_vc11(token, resolver=RESOLVER, now=NOW)) == {"kaga:kid-issuer-mismatch"}


# -- presentations -------------------------------------------------------------------------------
def vp_jwt(**kwargs: Any) -> str:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_of(HOLDER),
        "verifiableCredential": [envelope(sign_vc_jwt(credential_v2(did_of(ED)), ED))],
    }
    return sign_vp_jwt(presentation, HOLDER, **kwargs)


def test_vp_jwt_wrong_audience_and_nonce() -> None:
    result = verify_vp_jwt(vp_jwt(audience="did:web:other.example", nonce="old"), resolver=RESOLVER, audience=AUD, nonce=NONCE, now=NOW)
    assert codes_of(result) == {"INVALID_DOMAIN_ERROR", "INVALID_CHALLENGE_ERROR"}


def test_vp_jwt_missing_nonce_when_one_was_asked_for() -> None:
    result = verify_vp_jwt(vp_jwt(audience=AUD), resolver=RESOLVER, audience=AUD, nonce=NONCE, now=NOW)
    assert codes_of(result) == {"INVALID_CHALLENGE_ERROR"}


def test_vp_jwt_bad_inner_credential_is_reported_with_its_index() -> None:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_of(HOLDER),
        "verifiableCredential": [envelope(forge(vc_header(), vc_payload(), OTHER_ED.sign))],
    }
    token = sign_vp_jwt(presentation, HOLDER, audience=AUD, nonce=NONCE)
    result = verify_vp_jwt(token, resolver=RESOLVER, audience=AUD, nonce=NONCE, now=NOW)
    assert codes_of(result) == {"PROOF_VERIFICATION_ERROR"}
    assert result.problems[0].context["credential"] == 0


def test_vp_jwt_signed_by_someone_else_than_the_holder() -> None:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_of(HOLDER),
        "verifiableCredential": [],
    }
    token = forge({"alg": "ES256", "kid": HOLDER.key_id, "typ": "vp+jwt"}, {**presentation, "aud": AUD, "nonce": NONCE}, P256.sign)
    assert codes_of(verify_vp_jwt(token, resolver=RESOLVER, audience=AUD, nonce=NONCE, now=NOW)) == {"PROOF_VERIFICATION_ERROR"}


def test_vp11_wrong_nonce_and_holder_mismatch() -> None:
    credential = sign_jwt_vc11(credential_v11(did_of(ETHR), subject=did_of(HOLDER_ED)), ETHR)
    presentation = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiablePresentation"], "holder": did_of(HOLDER_ED), "verifiableCredential": [credential]}
    token = sign_jwt_vp11(presentation, HOLDER_ED, audience=AUD, nonce="stale", now=NOW)
    assert codes_of(verify_jwt_vp11(token, resolver=RESOLVER, audience=AUD, nonce=NONCE, now=NOW)) == {"INVALID_CHALLENGE_ERROR"}
    body = json.loads(b64url_decode(token.split(".")[1]))
    body["vp"]["holder"] = did_of(ED)
    forged = sign_compact({"alg": "EdDSA", "typ": "JWT", "kid": HOLDER_ED.key_id}, body, HOLDER_ED)
    assert codes_of(verify_jwt_vp11(forged, resolver=RESOLVER, audience=AUD, nonce="stale", now=NOW)) == {"kaga:holder-mismatch"}


# -- SD-JWT --------------------------------------------------------------------------------------
CLAIMS = {
    "iss": did_of(ED),
    "vct": "urn:kaga:vct:KagaResidentCredential",
    "iat": int((NOW - timedelta(days=1)).timestamp()),
    "sub": did_of(HOLDER),
    "given_name": "Hanako",
    "family_name": "Kaga",
    "address": {"locality": "Kaga", "region": "Ishikawa"},
    "nationalities": ["JP", "FR"],
}
PATHS = ["given_name", "family_name", "address", "address.locality", "nationalities[*]"]


def issued(**kwargs: Any) -> str:
    return issue_sd_jwt(CLAIMS, signer=ED, disclosable=PATHS, holder_key=HOLDER.key.public_key, **kwargs)


def sd_verify(text: str, **kwargs: Any) -> VerificationResult:
    options: dict[str, Any] = {"resolver": RESOLVER, "now": NOW, "require_key_binding": True, "audience": AUD, "nonce": NONCE}
    options.update(kwargs)
    return verify_sd_jwt(text, **options)


def presented(sd: str | None = None, **kwargs: Any) -> str:
    options: dict[str, Any] = {"holder_signer": HOLDER, "audience": AUD, "nonce": NONCE, "now": NOW}
    options.update(kwargs)
    return present_sd_jwt(sd or issued(), **options)


def parts(text: str) -> list[str]:
    return text.split("~")


def test_sd_jwt_baseline_verifies() -> None:
    result = sd_verify(presented())
    assert result.verified, result.codes
    assert result.credential is not None and result.credential["address"] == {"locality": "Kaga", "region": "Ishikawa"}


def test_tampered_disclosure_is_unreferenced() -> None:
    items = parts(issued())
    name_index = next(i for i, d in enumerate(items[1:-1], 1) if Disclosure.decode(d).name == "given_name")
    salt = Disclosure.decode(items[name_index]).salt
    items[name_index] = Disclosure.make(salt, "given_name", "Taro").encoded
    assert codes_of(sd_verify("~".join(items), require_key_binding=False, audience=None, nonce=None)) == {"kaga:sd-disclosure-unreferenced"}


def test_duplicate_disclosure_is_refused() -> None:
    items = parts(issued())
    items.insert(2, items[1])
    assert codes_of(sd_verify("~".join(items), require_key_binding=False)) == {"kaga:sd-disclosure-duplicate"}


def test_disclosure_of_another_sd_jwt_is_unreferenced() -> None:
    foreign = parts(issued())[1]
    items = parts(issued())
    items.insert(1, foreign)
    assert codes_of(sd_verify("~".join(items), require_key_binding=False)) == {"kaga:sd-disclosure-unreferenced"}


def test_non_base64_disclosure_is_invalid() -> None:
    items = parts(issued())
    items.insert(1, "not+base64")
    assert codes_of(sd_verify("~".join(items), require_key_binding=False)) == {"kaga:sd-disclosure-invalid"}


def test_empty_disclosure_segment_is_a_parsing_error() -> None:
    items = parts(issued())
    items.insert(1, "")
    assert codes_of(sd_verify("~".join(items), require_key_binding=False)) == {"PARSING_ERROR"}


def test_too_many_disclosures_are_refused() -> None:
    assert codes_of(sd_verify(issued(), require_key_binding=False, limits=JOSELimits(max_disclosures=2))) == {"kaga:document-too-large"}


def signed_sd(payload: dict[str, Any], disclosures: list[str], typ: str = "dc+sd-jwt") -> str:
    jwt = sign_compact({"alg": "EdDSA", "typ": typ, "kid": ED.key_id}, payload, ED)
    return "~".join([jwt, *disclosures]) + "~"


@pytest.mark.parametrize("alg", ["md5", "sha-1", "sha-256-64", "SHA-256"])
def test_disclosure_hash_algorithm_not_allowed(alg: str) -> None:
    payload = {**{k: v for k, v in CLAIMS.items() if k != "given_name"}, "_sd_alg": alg}
    assert codes_of(sd_verify(signed_sd(payload, []), require_key_binding=False)) == {"kaga:sd-hash-algorithm-not-allowed"}


@pytest.mark.parametrize("alg", [["sha-256"], {"name": "sha-256"}, 256, None])
def test_sd_alg_of_another_json_type_is_a_problem(alg: Any) -> None:
    payload = {**{k: v for k, v in CLAIMS.items() if k != "given_name"}, "_sd_alg": alg}
    token = signed_sd(payload, [])
    assert codes_of(sd_verify(token, require_key_binding=False)) == {"kaga:sd-hash-algorithm-not-allowed"}
    assert codes_of(verify_presentation(token, resolver=RESOLVER, now=NOW)) >= {"kaga:sd-hash-algorithm-not-allowed"}


@pytest.mark.parametrize("name", ["status", "cnf", "exp"])
def test_claims_that_stay_in_the_clear_cannot_be_disclosures(name: str) -> None:
    """A holder could drop a disclosable ``status`` (and with it the revocation check): refused."""
    value = {"status": {"type": "BitstringStatusListEntry"}, "cnf": {"jwk": HOLDER.key.public_key.to_jwk()},
             "exp": int((NOW + timedelta(days=1)).timestamp())}[name]
    disclosure = Disclosure.make("c2FsdHNhbHRzYWx0", name, value)
    payload = {**{k: v for k, v in CLAIMS.items() if k != "given_name"}, "_sd": [digest_of(disclosure.encoded)],
               "_sd_alg": "sha-256"}
    result = sd_verify(signed_sd(payload, [disclosure.encoded]), require_key_binding=False)
    assert codes_of(result) == {"kaga:sd-disclosure-invalid"}
    assert not result.verified and result.credential is None
    # nested members of these names are ordinary claims
    inner = Disclosure.make("c2FsdHNhbHRzYWx0", name, "x")
    nested = {**{k: v for k, v in CLAIMS.items() if k != "given_name"}, "address": {"_sd": [digest_of(inner.encoded)]},
              "_sd_alg": "sha-256"}
    assert sd_verify(signed_sd(nested, [inner.encoded]), require_key_binding=False).verified


def test_sha_512_can_be_refused_by_policy() -> None:
    sd = issued(sd_alg="sha-512")
    assert sd_verify(sd, require_key_binding=False).verified
    assert codes_of(sd_verify(sd, require_key_binding=False, allowed_sd_algs=("sha-256",))) == {"kaga:sd-hash-algorithm-not-allowed"}


def test_digest_appearing_twice_is_refused() -> None:
    disclosure = Disclosure.make("c2FsdHNhbHRzYWx0", "given_name", "Hanako")
    digest = digest_of(disclosure.encoded)
    payload = {"iss": did_of(ED), "vct": "urn:x", "_sd": [digest], "address": {"_sd": [digest]}, "_sd_alg": "sha-256"}
    assert codes_of(sd_verify(signed_sd(payload, [disclosure.encoded]), require_key_binding=False)) == {"kaga:sd-digest-duplicate"}


@pytest.mark.parametrize(
    "disclosure",
    [
        Disclosure.make("c2FsdA", "_sd", "x"),  # reserved name
        Disclosure.make("c2FsdA", "...", "x"),  # reserved name
        Disclosure.make("c2FsdA", None, "x"),  # array-element form referenced from _sd
        Disclosure.make("c2FsdA", "iss", "did:key:z6Mkattacker"),  # claim already present
    ],
)
def test_invalid_disclosures_for_their_place(disclosure: Disclosure) -> None:
    payload = {"iss": did_of(ED), "vct": "urn:x", "_sd": [digest_of(disclosure.encoded)], "_sd_alg": "sha-256"}
    assert codes_of(sd_verify(signed_sd(payload, [disclosure.encoded]), require_key_binding=False)) == {"kaga:sd-disclosure-invalid"}


def test_object_disclosure_used_as_array_element_is_invalid() -> None:
    disclosure = Disclosure.make("c2FsdA", "name", "x")
    payload = {"iss": did_of(ED), "vct": "urn:x", "list": [{"...": digest_of(disclosure.encoded)}], "_sd_alg": "sha-256"}
    assert codes_of(sd_verify(signed_sd(payload, [disclosure.encoded]), require_key_binding=False)) == {"kaga:sd-disclosure-invalid"}


def test_wrong_sd_jwt_typ_is_refused() -> None:
    payload = {"iss": did_of(ED), "vct": "urn:x", "_sd_alg": "sha-256"}
    assert codes_of(sd_verify(signed_sd(payload, [], typ="JWT"), require_key_binding=False)) == {"kaga:invalid-typ"}


def test_sd_jwt_vc_without_vct_is_refused() -> None:
    payload = {"iss": did_of(ED), "_sd_alg": "sha-256"}
    assert codes_of(sd_verify(signed_sd(payload, []), require_key_binding=False)) == {"MALFORMED_VALUE_ERROR"}


def test_missing_kb_jwt_when_required() -> None:
    assert codes_of(sd_verify(present_sd_jwt(issued()))) == {"kaga:kb-jwt-missing"}


def test_wrong_kb_nonce_and_aud() -> None:
    assert codes_of(sd_verify(presented(nonce="replayed"))) == {"INVALID_CHALLENGE_ERROR"}
    assert codes_of(sd_verify(presented(audience="did:web:elsewhere.example"))) == {"INVALID_DOMAIN_ERROR"}


def test_kb_jwt_over_a_different_sd_hash() -> None:
    sd = issued()
    full = presented(sd)
    fewer = presented(sd, disclose=["given_name"])
    kb_of_full = parts(full)[-1]
    reattached = "~".join(parts(fewer)[:-1] + [kb_of_full])
    assert codes_of(sd_verify(reattached)) == {"kaga:kb-jwt-sd-hash-mismatch"}


def test_disclosure_added_after_key_binding() -> None:
    sd = issued()
    fewer = parts(presented(sd, disclose=["given_name"]))
    extra = next(d for d in parts(sd)[1:-1] if d not in fewer)
    assert codes_of(sd_verify("~".join([fewer[0], extra, *fewer[1:]]))) == {"kaga:kb-jwt-sd-hash-mismatch"}


def test_kb_jwt_with_wrong_typ() -> None:
    presentation = parts(present_sd_jwt(issued()))
    sd_hash = b64url_encode(hashlib.sha256(("~".join(presentation[:-1]) + "~").encode()).digest())
    kb = sign_compact({"alg": "ES256", "typ": "JWT"}, {"iat": int(NOW.timestamp()), "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash}, HOLDER)
    assert codes_of(sd_verify("~".join(presentation[:-1]) + "~" + kb)) == {"kaga:kb-jwt-invalid"}


def test_kb_jwt_signed_by_another_key() -> None:
    impostor = KeySigner(key(KeyType.P256, 77), HOLDER.key_id)
    assert codes_of(sd_verify(presented(holder_signer=impostor))) == {"PROOF_VERIFICATION_ERROR"}


def test_kb_jwt_with_alg_none() -> None:
    presentation = parts(present_sd_jwt(issued()))
    kb = f"{seg({'alg': 'none', 'typ': 'kb+jwt'})}.{seg({'iat': int(NOW.timestamp()), 'aud': AUD, 'nonce': NONCE})}."
    assert codes_of(sd_verify("~".join(presentation[:-1]) + "~" + kb)) == {"kaga:algorithm-not-allowed"}


def test_stale_and_future_kb_jwt() -> None:
    assert codes_of(sd_verify(presented(now=NOW - timedelta(hours=2)))) == {"kaga:kb-jwt-expired"}
    assert codes_of(sd_verify(presented(now=NOW + timedelta(hours=2)))) == {"kaga:issued-in-future"}


def test_expired_sd_jwt() -> None:
    claims = {**CLAIMS, "exp": int((NOW - timedelta(days=1)).timestamp())}
    sd = issue_sd_jwt(claims, signer=ED, disclosable=["given_name"], holder_key=HOLDER.key.public_key)
    assert codes_of(sd_verify(presented(sd))) == {"kaga:credential-expired"}


def test_sd_jwt_signed_by_someone_else() -> None:
    payload = {"iss": did_of(ED), "vct": "urn:x", "_sd_alg": "sha-256"}
    jwt = forge({"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": ED.key_id}, payload, OTHER_ED.sign)
    assert codes_of(sd_verify(jwt + "~", require_key_binding=False)) == {"PROOF_VERIFICATION_ERROR"}


def test_issuer_refuses_to_make_validity_claims_disclosable() -> None:
    from kaga_vc.errors import InputError

    for path in ("iss", "vct", "cnf", "exp", "status"):
        with pytest.raises(InputError):
            issue_sd_jwt(CLAIMS | {"exp": 1, "cnf": {}, "status": {}}, signer=ED, disclosable=[path])
    with pytest.raises(InputError):
        issue_sd_jwt(CLAIMS, signer=ED, disclosable=["no_such_claim"])


class _NoLists:
    """A status source that has no list at all: every status check is "could not check"."""

    def fetch(self, url: str) -> Any:
        from kaga_vc.errors import STATUS_LIST_UNAVAILABLE, StatusError

        raise StatusError(STATUS_LIST_UNAVAILABLE, "no lists here", url=url)


@pytest.mark.parametrize("kind", ["vp+jwt", "jwt-vp11"])
def test_status_of_credentials_inside_a_jwt_presentation_is_checked(kind: str) -> None:
    """``status_source`` reached Data Integrity and SD-JWT presentations but not the JWT ones: a revoked
    credential inside a ``vp+jwt`` verified with no status problem and no warning."""
    status = {"id": "https://city.example/status/1#7", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
              "statusListIndex": "7", "statusListCredential": "https://city.example/status/1"}
    holder = did_of(HOLDER)
    if kind == "vp+jwt":
        vc = sign_vc_jwt(credential_v2(did_of(ED), credentialStatus=status), ED)
        vp = sign_vp_jwt({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "holder": holder,
                          "verifiableCredential": [envelope(vc)]}, HOLDER, audience=AUD, nonce=NONCE)
    else:
        vc = sign_jwt_vc11(credential_v11(did_of(ETHR), subject=holder, credentialStatus=status), ETHR)
        vp = sign_jwt_vp11({"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiablePresentation"],
                            "holder": holder, "verifiableCredential": [vc]}, HOLDER, audience=AUD, nonce=NONCE, now=NOW)
    checked = verify_presentation(vp, resolver=RESOLVER, challenge=NONCE, domain=AUD, now=NOW, status_source=_NoLists())
    assert "kaga:status-list-unavailable" in checked.codes and not checked.verified
    assert checked.could_not_check
    unchecked = verify_presentation(vp, resolver=RESOLVER, challenge=NONCE, domain=AUD, now=NOW)
    assert unchecked.verified, unchecked.codes
    assert "kaga:status-not-checked" in [w.code for w in unchecked.warnings]


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_dates_outside_the_utc_range_are_malformed_not_a_crash(instant: str) -> None:
    """A valid dateTimeStamp whose UTC instant is outside Python's range raised OverflowError."""
    from kaga_vc.verifier import issuance_of

    for fmt in ("vc+jwt", "data-integrity"):
        unsigned = credential_v2(did_of(ED), validFrom=instant)
        unsigned.pop("validUntil")
        if fmt == "vc+jwt":
            token: Any = sign_vc_jwt(unsigned, ED)
        else:  # the data model is read before the proof
            token = {**unsigned, "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}}
        result = verify_credential(token, resolver=RESOLVER, now=NOW)
        assert "MALFORMED_VALUE_ERROR" in result.codes, (fmt, result.codes)
        assert issuance_of(unsigned) == (did_of(ED), None)
