"""Interop with independent implementations: Digital Bazaar (Node) both ways, didkit (Rust)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.contexts import bundled_contexts
from kaga_vc.credentials import issue_credential, verify_credential
from kaga_vc.did import KeyMethod, Resolver

from .conftest import NOW, make_signer, unsigned_credential

INTEROP = Path(__file__).resolve().parent.parent / "interop" / "di"
RESOLVER = Resolver({"key": KeyMethod()})

node_ready = pytest.mark.skipif(
    shutil.which("node") is None or not (INTEROP / "node_modules" / "@digitalbazaar" / "vc").is_dir(),
    reason="Node interop packages not installed (scripts/test.sh runs npm ci in tests/interop/di)",
)


def _documents(did: str) -> dict[str, Any]:
    bundle = bundled_contexts()
    documents: dict[str, Any] = {url: bundle.get(url) for url in bundle.urls()}
    documents[did] = RESOLVER.resolve(did).did_document
    return documents


def _node(request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(INTEROP / "di.mjs")], input=json.dumps(request, ensure_ascii=False), capture_output=True,
        text=True, timeout=60, cwd=INTEROP, check=False,
    )
    answer = json.loads(done.stdout or "{}")
    assert "exception" not in answer, answer.get("exception")
    return answer


@pytest.mark.node
@node_ready
def test_digital_bazaar_verifies_ours() -> None:
    signer = make_signer(seed=21)
    did = signer.key_id.split("#")[0]
    signed = issue_credential(unsigned_credential(), signer=signer)
    answer = _node({"op": "verify", "credential": signed, "documents": _documents(did)})
    assert answer["verified"] is True, answer
    # and a tampered one is refused by them too
    signed["credentialSubject"]["name"] = "someone else"
    assert _node({"op": "verify", "credential": signed, "documents": _documents(did)})["verified"] is False


@pytest.mark.node
@node_ready
def test_we_verify_digital_bazaars(no_network: None) -> None:
    """Node runs in its own process (the socket guard is ours); our verification stays offline."""
    signer = make_signer(seed=22)
    did = signer.key_id.split("#")[0]
    key = {
        "id": signer.key_id,
        "controller": did,
        "publicKeyMultibase": signer.key.public_key.to_multikey(),
        "secretKeyMultibase": signer.key.to_multikey(),
    }
    answer = _node({"op": "issue", "credential": unsigned_credential(issuer=did), "key": key, "documents": _documents(did)})
    theirs = answer["credential"]
    assert theirs["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    result = verify_credential(theirs, resolver=RESOLVER, now=NOW)
    assert result.verified, result.to_json()
    theirs["validUntil"] = "2040-01-01T00:00:00Z"
    assert verify_credential(theirs, resolver=RESOLVER, now=NOW).codes == ["PROOF_VERIFICATION_ERROR"]


# -- didkit 0.3.3 (PyPI): Ed25519Signature2018 / 2020 over VC 1.1 -------------------------------
def _didkit_issue(proof_type: str) -> dict[str, Any]:
    didkit = pytest.importorskip("didkit")

    async def run() -> str:
        jwk = didkit.generate_ed25519_key()
        did = didkit.key_to_did("key", jwk)
        vm = await didkit.key_to_verification_method("key", jwk)
        credential = {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiableCredential"],
            "issuer": did,
            "issuanceDate": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:resident"},
        }
        options = {"proofPurpose": "assertionMethod", "verificationMethod": vm, "type": proof_type}
        return str(await didkit.issue_credential(json.dumps(credential), json.dumps(options), jwk))

    return json.loads(asyncio.run(run()))


@pytest.mark.parametrize("proof_type", ["Ed25519Signature2018", "Ed25519Signature2020"])
def test_didkit_ld_signatures_are_refused_as_unsupported_suites(proof_type: str) -> None:
    credential = _didkit_issue(proof_type)
    assert credential["proof"]["type"] == proof_type
    result = verify_credential(credential, resolver=RESOLVER, now=NOW)
    assert result.verified is False
    assert result.codes == ["kaga:unsupported-cryptosuite"]
    assert result.could_not_check is False


def test_vc11_credentials_with_data_integrity_round_trip(no_network: None) -> None:
    """What didkit signs (VC 1.1) we can secure with eddsa-rdfc-2022 instead, and read back."""
    signer = make_signer(seed=23)
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/security/data-integrity/v2"],
        "type": ["VerifiableCredential"],
        "issuer": signer.key_id.split("#")[0],
        "issuanceDate": "2025-01-01T00:00:00Z",
        "expirationDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:resident"},
    }
    signed = issue_credential(credential, signer=signer, created=datetime(2025, 1, 2, tzinfo=UTC))
    result = verify_credential(signed, resolver=RESOLVER, now=NOW)
    assert result.verified, result.to_json()
    assert result.details["version"] == "1.1"
    assert result.valid_until == datetime(2026, 1, 1, tzinfo=UTC)
    expired = verify_credential(signed, resolver=RESOLVER, now=datetime(2027, 1, 1, tzinfo=UTC))
    assert expired.codes == ["kaga:credential-expired"]


@pytest.mark.node
@node_ready
def test_digital_bazaar_verifies_our_vc_1_1_with_data_integrity() -> None:
    """VC-DI 1.0 §2.4.2: a 1.1 credential gets the Data Integrity context; Digital Bazaar refuses it without."""
    signer = make_signer(seed=23)
    did = signer.key_id.split("#")[0]
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": "urn:uuid:4f0c3c1e-6d2b-4a8e-9b1d-2e7f5a6c8d90",
        "type": ["VerifiableCredential"],
        "issuer": did,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:resident-1"},
    }
    signed = issue_credential(credential, signer=signer)
    assert _node({"op": "verify", "credential": signed, "documents": _documents(did)})["verified"] is True
    signed["issuanceDate"] = "2025-01-02T00:00:00Z"
    assert _node({"op": "verify", "credential": signed, "documents": _documents(did)})["verified"] is False


@pytest.mark.node
@node_ready
def test_digital_bazaar_verifies_our_proof_chain() -> None:
    from kaga_vc.proofs import EddsaRdfc2022, add_proof, default_document_loader

    issuer, witness = make_signer(seed=24), make_signer(seed=25)
    did = issuer.key_id.split("#")[0]
    first = add_proof(unsigned_credential(issuer=did), suite=EddsaRdfc2022(), signer=issuer,
                      proof_id="urn:uuid:proof-1", loader=default_document_loader())
    chain = add_proof(first, suite=EddsaRdfc2022(), signer=witness, previous_proof="urn:uuid:proof-1",
                      loader=default_document_loader())
    documents = {**_documents(did), **_documents(witness.key_id.split("#")[0])}
    answer = _node({"op": "verify", "credential": chain, "documents": documents})
    assert answer["verified"] is True, answer
    assert verify_credential(chain, resolver=RESOLVER, now=NOW).verified
    chain["proof"][0]["created"] = "2025-01-05T00:00:00Z"
    assert _node({"op": "verify", "credential": chain, "documents": documents})["verified"] is False
