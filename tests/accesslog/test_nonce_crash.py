"""Issue 13: a crash between the access-log entry's commit and the nonce store's must not let a retry count twice.

The entry and the nonce it consumed are one step: the log keeps the nonce's SHA-256 under a unique key
in the entry's own transaction, so a retry of a presentation whose entry is already durable is refused
``kaga:nonce-replayed`` without a second entry — whatever the (separate) nonce store says. Tested on
the log alone (SQLite and a real PostgreSQL), and end to end: a real ``kaga-vc verify`` process killed
right after the log write, then the retry.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from kaga_vc._migrations import current_revision
from kaga_vc.accesslog import AccessLog
from kaga_vc.accesslog._store import HEAD_REVISION, VERSION_TABLE
from kaga_vc.cli._common import ExitCode
from kaga_vc.errors import NONCE_REPLAYED, ProofError

from .conftest import LOG_KEY, Party, entry
from .test_cli_log import _nonce_used, _presented, invoke

ROOT = Path(__file__).resolve().parents[2]
DIGEST = hashlib.sha256(b"a request nonce").hexdigest()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_entry_for_a_logged_nonce_is_refused_and_nothing_is_written(backend: str, request: pytest.FixtureRequest,
                                                                       tmp_path: Path, ryokan: Party,
                                                                       alice: Party) -> None:
    url = str(tmp_path / "n.db") if backend == "sqlite" else request.getfixturevalue("postgres_database")
    with AccessLog.open(url, log_key=LOG_KEY, signer=ryokan.signer) as log:
        first = log.record(entry(ryokan, alice, nonce_digest=DIGEST))
        log.record(entry(ryokan, alice))  # entries without a nonce (refusals before binding) are not limited
        log.record(entry(ryokan, alice))
        with pytest.raises(ProofError) as info:
            log.record(entry(ryokan, alice, nonce_digest=DIGEST))
        assert info.value.code == NONCE_REPLAYED
        other = hashlib.sha256(b"another nonce").hexdigest()
        with pytest.raises(ProofError):  # one of a batch logged already: none of the batch is written
            log.record_many([entry(ryokan, alice, nonce_digest=other), entry(ryokan, alice, nonce_digest=DIGEST)])
        assert len(log) == 3 and log.verify().ok
        assert log.record(entry(ryokan, alice, nonce_digest=other)).seq == 3  # the chain went on unharmed
        assert first.seq == 0


def test_a_log_at_the_first_revision_is_upgraded(tmp_path: Path, ryokan: Party, alice: Party) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with AccessLog.open(url, log_key=LOG_KEY, signer=ryokan.signer) as log:
        log.record(entry(ryokan, alice))
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # as the previous release left it: revision 0002, no consumed_nonces
        conn.execute(sa.text("DROP TABLE consumed_nonces"))
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '0002_tree_heads'"))
    assert current_revision(engine, VERSION_TABLE) == "0002_tree_heads"
    engine.dispose()
    with AccessLog.open(url, log_key=LOG_KEY, signer=ryokan.signer) as log:
        assert current_revision(log.engine, VERSION_TABLE) == HEAD_REVISION == "0003_consumed_nonces"
        assert len(log) == 1 and log.verify().ok  # its entries kept
        log.record(entry(ryokan, alice, nonce_digest=DIGEST))
        with pytest.raises(ProofError):
            log.record(entry(ryokan, alice, nonce_digest=DIGEST))


# a real `kaga-vc verify` process that dies the instant the nonce store would commit: after the log entry
CRASH_AFTER_LOG_WRITE = """
import os, sys
from kaga_vc.verifier import nonces
nonces.NonceReservation.commit = lambda self: os._exit(9)
from kaga_vc.cli._app import app
app(sys.argv[1:])
"""


def test_a_crash_between_the_log_write_and_the_nonce_commit_is_not_counted_twice(tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch
                                                                                 ) -> None:
    city, bundle, request, response = _presented(tmp_path, monkeypatch)
    args = ["verify", str(response), "--request", str(request), "--bundle", str(bundle), "--city", city, "--json"]
    crashed = subprocess.run([sys.executable, "-c", CRASH_AFTER_LOG_WRITE, *args], cwd=ROOT, capture_output=True,
                             text=True, timeout=300, check=False)
    assert crashed.returncode == 9, crashed.stderr  # killed at that point, nothing printed
    assert not _nonce_used(tmp_path, request)  # the nonce store's transaction died with the process
    shown = json.loads(invoke("log", "show", "--json").stdout)
    assert [e["record"]["entry"]["result"] for e in shown["shown"]] == ["accepted"]  # the entry is durable
    retry = invoke(*args)
    assert retry.exit_code == ExitCode.INVALID, retry.output
    result = json.loads(retry.stdout)
    assert result["verified"] is False and NONCE_REPLAYED in [p["code"] for p in result["problems"]]
    shown = json.loads(invoke("log", "show", "--json").stdout)
    assert [e["record"]["entry"]["result"] for e in shown["shown"]] == ["accepted"]  # not logged twice
    assert _nonce_used(tmp_path, request)  # the nonce store caught up with the log
    again = invoke(*args)  # and from now on the store itself refuses it (a refusal, logged as one)
    assert again.exit_code == ExitCode.INVALID
    assert NONCE_REPLAYED in [p["code"] for p in json.loads(again.stdout)["problems"]]
