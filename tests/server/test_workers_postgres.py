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


def test_subject_access_across_workers_on_a_postgres_log(tmp_path: Path, postgres_database: str) -> None:
    """A challenge made by one worker is answered at another (challenges live in the shared log)."""
    from kaga_vc.accesslog import AccessEntry, AccessLog, Challenge, answer_challenge

    from .test_subject_access import LOG_KEY, party, verifier_keystore

    home = tmp_path / "home"
    home.mkdir()
    (home / "accesslog.key").write_text(LOG_KEY.hex())
    ryokan, alice = party(), party()
    with AccessLog.open(postgres_database, log_key=LOG_KEY, signer=ryokan.signer) as log:
        log.record(AccessEntry(verifier=ryokan.did, subject=alice.did, purpose="stay", result="accepted"))
    server = start_server(["--role", "verifier", "--log", postgres_database, "--workers", "2",
                           "--verifier-key", str(verifier_keystore(tmp_path, ryokan))], workdir=tmp_path,
                          name="subject-workers")
    try:
        responses = []
        for _ in range(6):
            with server.client() as client:  # a new connection each time: either worker may answer
                challenge = Challenge.from_json(client.post("/subject-access/challenge").json())
            response = answer_challenge(challenge, did=alice.did, signer=alice.signer)
            with server.client() as client:
                answer = client.post("/subject-access/history", json={"response": response})
                assert answer.status_code == 200, answer.text
                assert answer.json()["subject"] == alice.did
            responses.append(response)
        for response in responses[:3]:
            with server.client() as client:
                assert client.post("/subject-access/history", json={"response": response}).status_code == 403
    finally:
        server.terminate()
    with AccessLog.open(postgres_database, log_key=LOG_KEY) as log:
        purposes = [e.body["purpose"] for e in log.entries()]
        assert purposes.count("subject access") == 9  # 6 granted + 3 replays refused, each recorded
        assert log.verify().ok
