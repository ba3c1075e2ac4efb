"""Issue 11: the verify entry points take one frozen ``VerifyParameters``; nothing is silently ignored."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

import kaga_vc
from kaga_vc import VerifyParameters, verify_credential, verify_presentation
from kaga_vc.proofs.jose import envelope, sign_vc_jwt, sign_vp_jwt
from tests._jose_support import ED, HOLDER, NOW, credential_v2, did_of, resolver

AUD, NONCE = "did:web:ryokan.example", "bm9uY2U"
TOKEN = sign_vc_jwt(credential_v2(did_of(ED)), ED)


def _vp() -> str:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_of(HOLDER),
        "verifiableCredential": [envelope(TOKEN)],
    }
    return sign_vp_jwt(presentation, HOLDER, audience=AUD, nonce=NONCE)


def test_public_name() -> None:
    assert kaga_vc.VerifyParameters is VerifyParameters
    assert "VerifyParameters" in kaga_vc.__all__


@pytest.mark.parametrize("entry", [verify_credential, verify_presentation])
def test_a_misspelled_option_is_a_type_error(entry: object) -> None:
    with pytest.raises(TypeError):
        entry(TOKEN, resolver=resolver(), now=NOW, status_sorce=object())  # type: ignore[operator]


def test_no_resolver_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="resolver"):
        verify_credential(TOKEN, now=NOW)


def test_parameters_are_frozen_and_keyword_only() -> None:
    params = VerifyParameters(resolver=resolver(), now=NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.now = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        VerifyParameters(resolver(), None)  # type: ignore[misc]
    with pytest.raises(TypeError):
        VerifyParameters(resolver=resolver(), status_sorce=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="skew"):
        VerifyParameters(resolver=resolver(), max_clock_skew=timedelta(seconds=-1))


def test_parameters_object_and_keywords_agree() -> None:
    params = VerifyParameters(resolver=resolver(), now=NOW)
    by_object = verify_credential(TOKEN, params)
    by_keywords = verify_credential(TOKEN, resolver=resolver(), now=NOW)
    assert by_object.verified and by_keywords.verified
    assert by_object.to_json() == by_keywords.to_json()
    # a keyword replaces the object's field: years later the credential has expired
    later = verify_credential(TOKEN, params, now=NOW + timedelta(days=3 * 365))
    assert not later.verified and "kaga:credential-expired" in later.codes


def test_the_clock_is_read_when_no_instant_is_fixed() -> None:
    seen = []

    def clock() -> object:
        seen.append(1)
        return NOW

    result = verify_credential(TOKEN, VerifyParameters(resolver=resolver(), clock=clock))  # type: ignore[arg-type]
    assert result.verified, result.codes
    assert result.checked_at == NOW and seen == [1]


def test_algorithms_restrict_the_jws_alg() -> None:
    refused = verify_credential(TOKEN, resolver=resolver(), now=NOW, algorithms=frozenset({"ES256"}))
    assert not refused.verified and refused.codes == ["kaga:algorithm-not-allowed"]
    assert not refused.could_not_check
    accepted = verify_credential(TOKEN, resolver=resolver(), now=NOW, algorithms=frozenset({"EdDSA", "ES256"}))
    assert accepted.verified, accepted.codes


def test_algorithms_apply_to_embedded_credentials_too() -> None:
    vp = _vp()  # holder signs with ES256 (P-256), the credential is EdDSA
    ok = verify_presentation(vp, resolver=resolver(), now=NOW, challenge=NONCE, domain=AUD)
    assert ok.verified, ok.codes
    refused = verify_presentation(vp, resolver=resolver(), now=NOW, challenge=NONCE, domain=AUD,
                                  algorithms=frozenset({"ES256"}))
    assert not refused.verified
    assert [p.context.get("credential") for p in refused.problems] == [0]
    assert refused.codes == ["kaga:algorithm-not-allowed"]
