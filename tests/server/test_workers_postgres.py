"""Several uvicorn workers sharing one PostgreSQL records database (a real server, tests/_postgres.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kaga_vc.issuer.records import IssuanceStore

from ._harness import start_server
from .conftest import Keys
from .test_vcapi import admin, unsigned


def test_two_workers_issue_revoke_and_verify_against_postgres(keys: Keys, tmp_path: Path,
                                                              postgres_database: str) -> None:
    args = ["--issuer-key", f"bitstring={keys.ed25519}", "--status", f"bitstring={postgres_database}",
            "--admin-tokens", str(keys.tokens), "--no-city", "--workers", "2"]
    server = start_server(args, workdir=tmp_path, name="workers")
    try:
        ids = [f"urn:uuid:00000000-0000-4000-8000-{i:012d}" for i in range(12)]

        def issue(credential_id: str) -> dict:
            with server.client() as client:
                response = client.post("/issuers/bitstring/credentials/issue", headers=admin(keys),
                                       json={"credential": unsigned(keys.ed25519_did, id=credential_id)})
                assert response.status_code == 201, response.text
                return response.json()["verifiableCredential"]

        with ThreadPoolExecutor(6) as pool:
            issued = list(pool.map(issue, ids))
        indices = {(c["credentialStatus"][0]["statusListCredential"], c["credentialStatus"][0]["statusListIndex"])
                   for c in issued}
        assert len(indices) == len(ids)  # no index handed out twice across the workers
        log = server.log()
        assert log.count("Started server process") >= 2  # really two workers

        with server.client() as client:
            changed = client.post("/credentials/status", headers=admin(keys), json={
                "credentialId": ids[3], "credentialStatus": [{"type": "BitstringStatusListCredential",
                                                              "status": "revoked"}]})
            assert changed.status_code == 200, changed.text
        # every worker sees the revocation at once (the bits come from the shared database), on new connections
        for _ in range(8):
            with server.client() as client:
                refused = client.post("/credentials/verify", json={"verifiableCredential": issued[3]})
                assert refused.status_code == 422
                assert "kaga:credential-revoked" in [p["code"] for p in refused.json()["problemDetails"]]
                fine = client.post("/credentials/verify", json={"verifiableCredential": issued[4]})
                assert fine.status_code == 200, fine.text
    finally:
        server.terminate()
    store = IssuanceStore.open(postgres_database)
    try:
        assert {r.credential_id for r in store.list()} == set(ids)
        assert store.get(ids[3]).status == "revoked"  # type: ignore[union-attr]
    finally:
        store.close()
