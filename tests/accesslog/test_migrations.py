"""Schema migrations of the access log (issue 12): a fresh log is at the head revision, a log made before
migrations (``create_all``) is adopted with its entries, and concurrent first opens — real processes, on
SQLite and on a real PostgreSQL — all succeed on one schema."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from kaga_vc._migrations import current_revision
from kaga_vc.accesslog import AccessLog
from kaga_vc.accesslog._store import HEAD_REVISION, VERSION_TABLE, metadata

from .conftest import LOG_KEY, Party, entry

ROOT = Path(__file__).resolve().parents[2]
OPEN = ("import sys, time; from kaga_vc.accesslog import AccessLog\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "with AccessLog.open(sys.argv[1], log_key=bytes(range(32))) as log: print(log.log_id)\n")


def test_a_fresh_log_is_at_the_head_revision(tmp_path: Path) -> None:
    with AccessLog.open(str(tmp_path / "new.db"), log_key=LOG_KEY) as log:
        assert current_revision(log.engine, VERSION_TABLE) == HEAD_REVISION == "0003_consumed_nonces"
        assert {t.name for t in metadata.sorted_tables} <= set(sa.inspect(log.engine).get_table_names())


def test_a_log_made_before_migrations_is_adopted_with_its_entries(tmp_path: Path, ryokan: Party,
                                                                   alice: Party) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    metadata.create_all(engine)  # what every earlier version did
    engine.dispose()
    with AccessLog.open(url, log_key=LOG_KEY, signer=ryokan.signer) as log:
        log.record(entry(ryokan, alice))
        log_id = log.log_id
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # as an older version would have left it: no version table
        conn.execute(sa.text(f'DROP TABLE "{VERSION_TABLE}"'))
    engine.dispose()
    with AccessLog.open(url, log_key=LOG_KEY) as log:
        assert (log.log_id, len(log)) == (log_id, 1) and log.verify().ok
        assert current_revision(log.engine, VERSION_TABLE) == HEAD_REVISION


def _concurrent_first_opens(target: str) -> list[str]:
    start = str(time.time() + 3.0)  # all three processes open at the same instant
    processes = [subprocess.Popen([sys.executable, "-c", OPEN, target, start], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err for _out, err in results]
    return [out.strip() for out, _err in results]


def test_three_concurrent_first_opens_on_sqlite(tmp_path: Path) -> None:
    ids = _concurrent_first_opens(str(tmp_path / "race.db"))
    assert len(set(ids)) == 1 and len(ids[0]) == 64  # one log, not three


def test_three_concurrent_first_opens_on_postgresql(postgres_database: str) -> None:
    ids = _concurrent_first_opens(postgres_database)
    assert len(set(ids)) == 1
    with AccessLog.open(postgres_database, log_key=LOG_KEY) as log:
        assert current_revision(log.engine, VERSION_TABLE) == HEAD_REVISION
