"""Interop with did-jwt-vc (npm; the library Veramo uses): VC 1.1 JWT credentials and presentations, both
directions, ES256K and ES256K-R from a did:ethr and EdDSA from a did:key.

The Node side (tests/interop/jose/didjwtvc.mjs) resolves did:key with key-did-resolver and did:ethr as the
implicit document (what ethr-did-resolver returns for a DID with no registry history), since
ethr-did-resolver itself needs a JSON-RPC node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.did.ethr_implicit import implicit_document
from kaga_vc.keys import KeySigner
from kaga_vc.proofs.jose import sign_jwt_vc11, sign_jwt_vp11
from kaga_vc.proofs.jose.jwt_vc11 import verify_jwt_vc11, verify_jwt_vp11
from tests._jose_support import ED, ETHR, HOLDER_ED, NOW, credential_v11, did_of, resolver

HERE = Path(__file__).parent / "interop" / "jose"
pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(
        shutil.which("node") is None or not (HERE / "node_modules" / "did-jwt-vc").is_dir(),
        reason="Node.js interop packages not installed (scripts/test.sh runs npm ci)",
    ),
]
RESOLVER = resolver()
AUD, NONCE = "did:web:ryokan.example", "bm9uY2UtZnJvbS12ZXJpZmllcg"


def node(request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(HERE / "didjwtvc.mjs")], input=json.dumps(request), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def node_sign(op: str, signer: KeySigner, alg: str, payload: dict[str, Any], **options: Any) -> str:
    answer = node(
        {
            "op": op,
            "did": did_of(signer),
            "kid": signer.key_id,
            "alg": alg,
            "privateKeyHex": signer.key.to_bytes().hex(),
            "payload": payload,
            "options": options,
        }
    )
    assert "jwt" in answer, answer
    return str(answer["jwt"])


def node_verify(op: str, jwt: str, **options: Any) -> dict[str, Any]:
    return node({"op": op, "jwt": jwt, "now": int(NOW.timestamp()), "options": options})


def test_node_and_python_build_the_same_implicit_did_ethr_document() -> None:
    answer = node({"op": "resolve", "did": did_of(ETHR)})
    ours = implicit_document(did_of(ETHR))
    assert answer["didDocument"]["verificationMethod"] == ours["verificationMethod"]
    assert answer["didDocument"]["assertionMethod"] == ours["assertionMethod"]


@pytest.mark.parametrize(("signer", "alg"), [(ETHR, "ES256K"), (ETHR, "ES256K-R"), (ED, "EdDSA")])
def test_did_jwt_vc_credentials_verify_with_ours(signer: KeySigner, alg: str, no_network: None) -> None:
    credential = credential_v11(did_of(signer))
    jwt = node_sign("sign-vc", signer, alg, credential)
    result = verify_jwt_vc11(jwt, resolver=RESOLVER, now=NOW)
    assert result.verified, result.codes
    normalised = dict(result.credential or {})
    normalised.pop("proof")
    assert normalised == credential


@pytest.mark.parametrize(
    ("signer", "recoverable", "include_kid"),
    [(ETHR, False, True), (ETHR, True, True), (ETHR, False, False), (ED, False, True), (ED, False, False)],
    ids=["ES256K", "ES256K-R", "ES256K-no-kid", "EdDSA", "EdDSA-no-kid"],
)
def test_our_credentials_verify_with_did_jwt_vc(signer: KeySigner, recoverable: bool, include_kid: bool) -> None:
    jwt = sign_jwt_vc11(credential_v11(did_of(signer)), signer, recoverable=recoverable, include_kid=include_kid)
    answer = node_verify("verify-vc", jwt)
    assert answer.get("verified") is True, answer
    assert answer["issuer"] == did_of(signer)
    assert answer["signer"] == signer.key_id


def test_did_jwt_vc_refuses_our_credential_when_tampered() -> None:
    head, body, sig = sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR).split(".")
    flipped = "B" if sig[7] == "A" else "A"
    answer = node_verify("verify-vc", f"{head}.{body}.{sig[:7]}{flipped}{sig[8:]}")
    assert "error" in answer and answer.get("verified") is not True


def presentation_of(holder: KeySigner, credential: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "holder": did_of(holder),
        "verifiableCredential": [credential],
    }


@pytest.mark.parametrize(("holder", "alg"), [(HOLDER_ED, "EdDSA"), (ETHR, "ES256K")])
def test_our_presentations_verify_with_did_jwt_vc(holder: KeySigner, alg: str) -> None:
    credential = sign_jwt_vc11(credential_v11(did_of(ETHR), subject=did_of(holder)), ETHR)
    jwt = sign_jwt_vp11(presentation_of(holder, credential), holder, audience=AUD, nonce=NONCE, now=NOW)
    answer = node_verify("verify-vp", jwt, challenge=NONCE, domain=AUD, audience=AUD)
    assert answer.get("verified") is True, answer
    refused = node_verify("verify-vp", jwt, challenge="another", domain=AUD, audience=AUD)
    assert "challenge" in refused.get("error", ""), refused


@pytest.mark.parametrize(("holder", "alg"), [(HOLDER_ED, "EdDSA"), (ETHR, "ES256K-R")])
def test_did_jwt_vc_presentations_verify_with_ours(holder: KeySigner, alg: str, no_network: None) -> None:
    credential = node_sign("sign-vc", ETHR, "ES256K", credential_v11(did_of(ETHR), subject=did_of(holder)))
    jwt = node_sign("sign-vp", holder, alg, presentation_of(holder, credential), challenge=NONCE, domain=AUD)
    result = verify_jwt_vp11(jwt, resolver=RESOLVER, audience=AUD, nonce=NONCE, now=NOW)
    assert result.verified, result.codes
    wrong = verify_jwt_vp11(jwt, resolver=RESOLVER, audience="did:web:elsewhere.example", nonce=NONCE, now=NOW)
    assert wrong.codes == ["INVALID_DOMAIN_ERROR"]
