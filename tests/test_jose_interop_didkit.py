"""Interop with didkit (SpruceID, Rust, PyPI ``didkit``): EdDSA JWT VCs and VPs, both directions."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from kaga_vc.proofs.jose import sign_jwt_vc11, sign_jwt_vp11
from kaga_vc.proofs.jose.jwt_vc11 import verify_jwt_vc11, verify_jwt_vp11
from tests._jose_support import ED, HOLDER_ED, NOW, credential_v11, did_of, resolver

didkit = pytest.importorskip("didkit")
RESOLVER = resolver()
AUD, NONCE = "did:web:ryokan.example", "Zm9vYmFyYmF6"


def run(call: Callable[[], Any]) -> Any:
    """didkit's Python functions must be called with an event loop running."""

    async def wrapper() -> Any:
        return await call()

    return asyncio.run(wrapper())


def didkit_issue(credential: dict[str, Any]) -> str:
    jwk = json.dumps(ED.key.to_jwk())
    method = run(lambda: didkit.key_to_verification_method("key", jwk))
    options = {"proofFormat": "jwt", "verificationMethod": method, "proofPurpose": "assertionMethod"}
    return str(run(lambda: didkit.issue_credential(json.dumps(credential), json.dumps(options), jwk)))


def didkit_verify(token: str, **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run(lambda: didkit.verify_credential(token, json.dumps({"proofFormat": "jwt", **options}))))
    return result


def test_didkit_derives_the_same_did_key() -> None:
    assert didkit.key_to_did("key", json.dumps(ED.key.to_jwk())) == did_of(ED)


def test_didkit_jwt_vc_verifies_with_ours(no_network: None) -> None:
    credential = credential_v11(did_of(ED), subject=did_of(HOLDER_ED))
    token = didkit_issue(credential)
    result = verify_jwt_vc11(token, resolver=RESOLVER, now=NOW)
    assert result.verified, result.codes
    assert result.issuer == did_of(ED)
    assert result.subject == did_of(HOLDER_ED)


def test_tampered_didkit_jwt_vc_fails_with_ours() -> None:
    token = didkit_issue(credential_v11(did_of(ED)))
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["vc"]["credentialSubject"]["residentOf"] = "Kanazawa"
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    result = verify_jwt_vc11(f"{head}.{forged_body}.{sig}", resolver=RESOLVER, now=NOW)
    assert result.codes == ["PROOF_VERIFICATION_ERROR"]


def test_our_jwt_vc_verifies_with_didkit() -> None:
    token = sign_jwt_vc11(credential_v11(did_of(ED)), ED)  # with a kid: didkit refuses JWTs without one
    result = didkit_verify(token)
    assert result["errors"] == [], result
    assert result["checks"] == ["JWS"]


def test_didkit_refuses_our_jwt_vc_when_tampered() -> None:
    head, body, sig = sign_jwt_vc11(credential_v11(did_of(ED)), ED).split(".")
    flipped = ("B" if sig[5] == "A" else "A")
    result = didkit_verify(f"{head}.{body}.{sig[:5]}{flipped}{sig[6:]}")
    assert result["errors"], result


def test_our_jwt_vp_verifies_with_didkit() -> None:
    credential = sign_jwt_vc11(credential_v11(did_of(ED), subject=did_of(HOLDER_ED)), ED)
    presentation = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "holder": did_of(HOLDER_ED),
        "verifiableCredential": [credential],
    }
    token = sign_jwt_vp11(presentation, HOLDER_ED, audience=AUD, nonce=NONCE)
    options = {"proofFormat": "jwt", "challenge": NONCE, "domain": AUD, "proofPurpose": "authentication"}
    result = json.loads(run(lambda: didkit.verify_presentation(token, json.dumps(options))))
    assert result["errors"] == [], result


def test_didkit_jwt_vp_verifies_with_ours(no_network: None) -> None:
    credential = didkit_issue(credential_v11(did_of(ED), subject=did_of(HOLDER_ED)))
    jwk = json.dumps(HOLDER_ED.key.to_jwk())
    method = run(lambda: didkit.key_to_verification_method("key", jwk))
    presentation = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "holder": did_of(HOLDER_ED),
        "verifiableCredential": [credential],
    }
    options = {
        "proofFormat": "jwt",
        "verificationMethod": method,
        "proofPurpose": "authentication",
        "challenge": NONCE,
        "domain": AUD,
    }
    token = str(run(lambda: didkit.issue_presentation(json.dumps(presentation), json.dumps(options), jwk)))
    result = verify_jwt_vp11(token, resolver=RESOLVER, audience=AUD, nonce=NONCE, now=NOW)
    assert result.verified, result.codes
    wrong = verify_jwt_vp11(token, resolver=RESOLVER, audience=AUD, nonce="other", now=NOW)
    assert wrong.codes == ["INVALID_CHALLENGE_ERROR"]
