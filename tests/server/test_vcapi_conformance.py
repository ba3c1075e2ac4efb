"""What the W3C suites check of the VC-API, against a real ``kaga-vc serve`` (scripts/conformance.sh runs the suites).

Each case is one the suites send (vc-api-issuer, vc-di-eddsa / ecdsa); the numbers per suite are in
docs/conformance.md.
"""

from __future__ import annotations

import json

from kaga_vc.proofs.data_integrity import DATA_INTEGRITY_CONTEXT

from ._harness import Server
from .conftest import Keys
from .test_vcapi import issue, unsigned

VC_V1 = "https://www.w3.org/2018/credentials/v1"


def test_issue_refuses_a_credential_without_issuer(server: Server, keys: Keys) -> None:
    credential = unsigned(keys.ed25519_did)
    del credential["issuer"]
    with server.client() as client:
        response = issue(client, keys, "eddsa", credential)
    assert response.status_code in (400, 422), response.text
    assert response.json()["code"] == "MALFORMED_VALUE_ERROR"


def test_verify_refuses_a_credential_sent_as_json_text(server: Server, keys: Keys) -> None:
    with server.client() as client:
        secured = issue(client, keys, "eddsa", unsigned(keys.ed25519_did)).json()["verifiableCredential"]
        assert client.post("/credentials/verify", json={"verifiableCredential": secured}).status_code == 200
        as_text = client.post("/credentials/verify", json={"verifiableCredential": json.dumps(secured)})
        assert as_text.status_code == 400, as_text.text
        assert as_text.json()["code"] == "PARSING_ERROR"
        vp_text = client.post("/presentations/verify", json={"verifiablePresentation": json.dumps(secured)})
        assert vp_text.status_code == 400


def test_vc_1_1_issued_with_the_data_integrity_context_and_verified(server: Server, keys: Keys) -> None:
    credential = {
        "@context": [VC_V1],
        "id": "urn:uuid:7d0c2f3e-1b2a-4c5d-8e9f-0a1b2c3d4e5f",
        "type": ["VerifiableCredential"],
        "issuer": keys.p384_did,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:resident-1"},
    }
    with server.client() as client:
        response = issue(client, keys, "p384", credential)
        assert response.status_code == 201, response.text
        secured = response.json()["verifiableCredential"]
        assert secured["@context"] == [VC_V1, DATA_INTEGRITY_CONTEXT]
        assert client.post("/credentials/verify", json={"verifiableCredential": secured}).status_code == 200
        secured["issuanceDate"] = "2025-01-02T00:00:00Z"
        assert client.post("/credentials/verify", json={"verifiableCredential": secured}).status_code == 422


def test_status_list_media_type_follows_accept(server: Server, keys: Keys) -> None:
    """application/vc by default; JSON(-LD) for clients that accept only that (the W3C status list suite)."""
    with server.client() as client:
        secured = issue(client, keys, "bitstring", unsigned(keys.ed25519_did)).json()["verifiableCredential"]
        entries = secured["credentialStatus"]
        url = (entries[0] if isinstance(entries, list) else entries)["statusListCredential"]
        cases = {
            None: "application/vc",
            "*/*": "application/vc",
            "application/vc, application/json": "application/vc",
            "application/ld+json, application/json": "application/ld+json",
            "application/json": "application/json",
            "application/vc;q=0, application/json": "application/json",
        }
        bodies = set()
        for accept, expected in cases.items():
            response = client.get(url, headers={"Accept": accept} if accept else {})
            assert response.status_code == 200
            assert response.headers["content-type"].split(";")[0] == expected, accept
            assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]  # (and Accept-Encoding: gzip)
            bodies.add(response.content)
        assert len(bodies) == 1  # the same signed bytes whatever the type
