"""The same log on a real PostgreSQL server: appends, tamper detection, anchoring, subject access; concurrent
writers on both backends."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from kaga_vc.accesslog import AccessLog, answer_challenge, log_url, read_history

from .conftest import LOG_KEY, Party, entry


def test_postgresql_log_end_to_end(postgres_database: str, ryokan: Party, alice: Party, bob: Party,
                                   anchorer: Any) -> None:
    assert log_url(postgres_database).startswith("postgresql+psycopg://")
    with AccessLog.open(postgres_database, log_key=LOG_KEY, signer=ryokan.signer) as log:
        for i in range(5):
            log.record(entry(ryokan, alice if i % 2 else bob))
        log.record(entry(ryokan, alice, verifier_category="healthcare"))
        batch = log.anchor(anchorer)
        assert batch.size == 6 and log.verify(anchorer=anchorer).ok
        did, entries = log.subject_history(answer_challenge(log.create_challenge(), did=alice.did, signer=alice.signer))
        items = read_history(did, entries, alice.key, anchorer=anchorer)
        assert [i.seq for i in items] == [1, 3, 5] and all(i.proven for i in items)
    # edit a row behind the library's back
    engine = create_engine(log_url(postgres_database))
    with engine.begin() as conn:
        record = json.loads(conn.execute(text("SELECT record FROM entries WHERE seq = 2")).scalar_one())
        record["entry"]["purpose"] = "marketing"
        conn.execute(text("UPDATE entries SET record = :r WHERE seq = 2"), {"r": json.dumps(record)})
        conn.execute(text("DELETE FROM entries WHERE seq = 4"))
    engine.dispose()
    with AccessLog.open(postgres_database, log_key=LOG_KEY) as log:
        found = [(f.kind, f.seq) for f in log.verify(anchorer=anchorer).findings]
    assert ("edited", 2) in found and ("deleted", 4) in found


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_writers_keep_one_chain(backend: str, request: pytest.FixtureRequest, tmp_path: Path,
                                           ryokan: Party, alice: Party) -> None:
    url = str(tmp_path / "c.db") if backend == "sqlite" else request.getfixturevalue("postgres_database")
    logs = [AccessLog.open(url, log_key=LOG_KEY, signer=ryokan.signer) for _ in range(4)]
    errors: list[Exception] = []

    def write(log: AccessLog) -> None:
        try:
            for _ in range(15):
                log.record(entry(ryokan, alice))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(log,)) for log in logs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(logs[0]) == 60 and logs[0].verify().ok
    for log in logs:
        log.close()
