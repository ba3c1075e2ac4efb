"""A server is one verifier (issue 12): it never writes into another verifier's access log — a real
``kaga-vc serve`` process on a real port, the log on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaga_vc.accesslog import AccessEntry, AccessLog, Challenge, answer_challenge
from kaga_vc.errors import LOG_VERIFIER_MISMATCH

from ._harness import start_server
from .test_subject_access import LOG_KEY, party, verifier_keystore


def _home(workdir: Path) -> Path:
    home = workdir / "home"
    home.mkdir()
    (home / "accesslog.key").write_text(LOG_KEY.hex())
    (home / "accesslog.key").chmod(0o600)
    return home


def test_a_server_does_not_start_on_another_verifiers_log(tmp_path: Path) -> None:
    home = _home(tmp_path)
    ryokan, clinic, alice = party(), party(), party()
    with AccessLog.open(None, log_key=LOG_KEY, home=str(home), signer=ryokan.signer) as log:
        log.record(AccessEntry(verifier=ryokan.did, subject=alice.did, purpose="stay", result="accepted"))
        before = [e.record for e in log.entries()]
    for extra in (["--verifier-key", str(verifier_keystore(tmp_path, clinic))], []):  # the clinic's; a new key
        with pytest.raises(RuntimeError) as info:
            start_server(["--role", "verifier", *extra], workdir=tmp_path, name="refused")
        assert LOG_VERIFIER_MISMATCH in str(info.value) and ryokan.did in str(info.value)
    assert not (home / "verifier" / "verifier-key.json").exists()  # it stopped before making a key
    with AccessLog.open(None, log_key=LOG_KEY, home=str(home)) as log:
        assert [e.record for e in log.entries()] == before and log.verify().ok


def test_a_running_server_whose_log_became_another_verifiers_refuses_and_writes_nothing(tmp_path: Path) -> None:
    """Started on an empty log, the server's log is then taken by another verifier's first entry: the
    server's subject-access record is refused (503, the code), the resident gets nothing, the log keeps
    only the other verifier's entry."""
    home = _home(tmp_path)
    ryokan, shop, alice = party(), party(), party()
    server = start_server(["--role", "verifier", "--verifier-key", str(verifier_keystore(tmp_path, shop))],
                          workdir=tmp_path)
    try:
        with server.client() as client:
            challenge = Challenge.from_json(client.post("/subject-access/challenge").json())  # opens the log
        with AccessLog.open(None, log_key=LOG_KEY, home=str(home), signer=ryokan.signer) as log:
            log.record(AccessEntry(verifier=ryokan.did, subject=alice.did, purpose="stay", result="accepted"))
        response = answer_challenge(challenge, did=alice.did, signer=alice.signer)
        with server.client() as client:
            answer = client.post("/subject-access/history", json={"response": response})
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == LOG_VERIFIER_MISMATCH and "entries" not in answer.json()
    finally:
        server.terminate()
    with AccessLog.open(None, log_key=LOG_KEY, home=str(home)) as log:
        assert [e.body["verifier"] for e in log.entries()] == [ryokan.did] and log.verify().ok
