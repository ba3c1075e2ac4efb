"""Presentations made by independent implementations verify with our offline verifier, given their issuer in the bundle.

* did-jwt-vc (npm): a VC 1.1 JWT presentation (``jwt-vc11``) of a VC 1.1 JWT credential, issuer did:key
  (EdDSA) or did:ethr (ES256K, an identity that never changed on its registry: an empty history);
* Digital Bazaar ``@digitalbazaar/vc`` 7: a Data Integrity (``eddsa-rdfc-2022``) presentation of a
  credential it issued.

The peers answer our signed request (its nonce and our verifier DID as domain / audience); the
bare presentation is the response. Node runs in its own process; our verification runs with
sockets refused.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.contexts import bundled_contexts
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.did.ethr import DIDHistory
from kaga_vc.keys import KeySigner
from kaga_vc.verifier import (
    CredentialQuery,
    NonceStore,
    Policy,
    TrustedIssuer,
    build_bundle,
    create_request,
    verify_response,
)
from tests._jose_support import ED, ETHR, HOLDER_ED, credential_v11, did_of

from .conftest import did_key_signer

INTEROP = Path(__file__).resolve().parent.parent / "interop"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.node


def _run(script: Path, request: dict[str, Any]) -> dict[str, Any]:
    if shutil.which("node") is None or not (script.parent / "node_modules").is_dir():
        pytest.skip(f"Node.js interop packages not installed in {script.parent.name} (scripts/test.sh runs npm ci)")
    done = subprocess.run(["node", str(script)], input=json.dumps(request, ensure_ascii=False), capture_output=True,
                          text=True, timeout=60, cwd=script.parent, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    answer: dict[str, Any] = json.loads(done.stdout)
    assert "exception" not in answer and "error" not in answer, answer
    return answer


def _bundle(issuer: str, kind: str, histories: tuple[DIDHistory, ...] = ()) -> Any:
    city = did_key_signer()  # a did:key city keeps this test off the chain
    return build_bundle(signer=city, issuers=[TrustedIssuer(issuer, (kind,))], histories=histories, now=NOW)


def _verify(response: Any, request: Any, bundle: Any, tmp_path: Path) -> Any:
    with NonceStore(tmp_path / "nonces.sqlite3") as store:
        return verify_response(response if isinstance(response, str) else json.dumps(response), request=request.token,
                               bundle=bundle.token, nonce_store=store, now=NOW,
                               policy=Policy(trusted_cities=(bundle.city,)))


@pytest.mark.parametrize(("issuer", "alg"), [(ED, "EdDSA"), (ETHR, "ES256K")], ids=["did:key", "did:ethr"])
def test_did_jwt_vc_presentation(issuer: KeySigner, alg: str, tmp_path: Path, no_network: None) -> None:
    verifier = did_key_signer()
    request = create_request(signer=verifier, purpose="bar", now=NOW,
                             credentials=[CredentialQuery("KagaResidentCredential", ("residentOf",))])
    script = INTEROP / "jose" / "didjwtvc.mjs"

    def sign(op: str, signer: KeySigner, signer_alg: str, payload: dict[str, Any], **options: Any) -> str:
        return str(_run(script, {"op": op, "did": did_of(signer), "kid": signer.key_id, "alg": signer_alg,
                                 "privateKeyHex": signer.key.to_bytes().hex(), "payload": payload,
                                 "options": options})["jwt"])

    credential = sign("sign-vc", issuer, alg, credential_v11(did_of(issuer), subject=did_of(HOLDER_ED)))
    presentation = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiablePresentation"],
                    "holder": did_of(HOLDER_ED), "verifiableCredential": [credential]}
    vp = sign("sign-vp", HOLDER_ED, "EdDSA", presentation, challenge=request.nonce, domain=request.verifier)
    histories = (DIDHistory(did_of(issuer), 0x4B6, "", (), 0, 0),) if issuer is ETHR else ()
    result = _verify(vp, request, _bundle(did_of(issuer), "KagaResidentCredential", histories), tmp_path)
    assert result.verified, result.to_json()
    assert result.details["credentials"][0]["format"] == "jwt-vc11"
    assert result.details["claims"]["residentOf"] == "Kaga"
    # the same presentation is refused when its issuer is not in the bundle
    other = _verify(vp, create_request(signer=verifier, purpose="bar", now=NOW, credentials=request.credentials),
                    _bundle(did_of(ED if issuer is ETHR else ETHR), "KagaResidentCredential",
                            histories), tmp_path)
    assert "kaga:issuer-not-trusted" in other.codes


def test_digital_bazaar_presentation(tmp_path: Path, no_network: None) -> None:
    verifier, issuer, holder = did_key_signer(), did_key_signer(), did_key_signer()
    request = create_request(signer=verifier, purpose="bar", now=NOW,
                             credentials=[CredentialQuery("ResidentCredential", ("residentOf",))])
    resolver = Resolver({"key": KeyMethod()})
    contexts = bundled_contexts()
    documents: dict[str, Any] = {url: contexts.get(url) for url in contexts.urls()}
    for signer in (issuer, holder):
        documents[did_of(signer)] = resolver.resolve(did_of(signer)).did_document

    def key(signer: KeySigner) -> dict[str, str]:
        return {"id": signer.key_id, "controller": did_of(signer), "publicKeyMultibase": signer.key.public_key.to_multikey(),
                "secretKeyMultibase": signer.key.to_multikey()}

    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "ResidentCredential"], "issuer": did_of(issuer),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": did_of(holder), "residentOf": "加賀市"},
    }
    script = INTEROP / "di" / "di.mjs"
    credential = _run(script, {"op": "issue", "credential": unsigned, "key": key(issuer), "documents": documents,
                               "date": "2026-06-01T11:00:00Z"})["credential"]
    presentation = _run(script, {"op": "present", "credentials": [credential], "holder": did_of(holder),
                                 "key": key(holder), "challenge": request.nonce, "domain": request.verifier,
                                 "documents": documents, "date": "2026-06-01T11:59:00Z"})["presentation"]
    assert presentation["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    result = _verify(presentation, request, _bundle(did_of(issuer), "ResidentCredential"), tmp_path)
    assert result.verified, result.to_json()
    assert result.details["claims"] == {"residentOf": "加賀市"}
    replay = _verify(presentation, request, _bundle(did_of(issuer), "ResidentCredential"), tmp_path)
    assert replay.codes == ["kaga:nonce-replayed"]
