"""Schema migrations of the access log (issue 12): a fresh log is at the head revision, a log made before
migrations (``create_all``) is adopted with its entries, and concurrent first opens — real processes, on
SQLite and on a real PostgreSQL — all succeed on one schema."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kaga_vc._migrations import current_revision
from kaga_vc.accesslog import AccessLog, canonical
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


def test_a_log_at_revision_0001_with_an_anchored_batch_is_upgraded_and_stays_readable(
        tmp_path: Path, ryokan: Party, anchorer: Any) -> None:
    """As the first release left a log: entries signed by the verifier, a batch on the first anchor contract.
    Migration 0002 adds tree_heads; the old batch's root is still checked; the log key signs from then on."""
    import json
    import secrets
    from datetime import UTC, datetime

    from kaga_vc._migrations import upgrade
    from kaga_vc.accesslog._entry import build_body, record_hash, sign_body
    from kaga_vc.accesslog._store import MIGRATIONS
    from kaga_vc.accesslog._subject import key_check
    from kaga_vc.accesslog.merkle import MerkleTree, leaf_hash
    from kaga_vc.errors import ANCHOR_MISMATCH

    url = f"sqlite:///{tmp_path / 'v1.db'}"
    engine = sa.create_engine(url)
    upgrade(engine, MIGRATIONS, VERSION_TABLE, "0001_accesslog")
    log_id, previous, records = secrets.token_hex(32), "0" * 64, []
    for seq in range(3):
        body = build_body(entry(ryokan, None), log_id=log_id, seq=seq, previous=previous, now=datetime.now(UTC),
                          subject_index=None, subject_data=None, verification_method=ryokan.signer.key_id)
        record = sign_body(body, ryokan.signer)
        previous = record_hash(record)
        records.append(record)
    root = MerkleTree([leaf_hash(canonical(r)) for r in records]).root.hex()
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO log_meta VALUES ('log_id', :i), ('key_check', :k)"),
                     {"i": log_id, "k": key_check(LOG_KEY)})
        conn.execute(sa.text("INSERT INTO log_head VALUES (1, 3, :h)"), {"h": previous})
        for seq, record in enumerate(records):
            conn.execute(sa.text("INSERT INTO entries (seq, hash, record) VALUES (:s, :h, :r)"),
                         {"s": seq, "h": record_hash(record), "r": canonical(record).decode()})
        conn.execute(sa.text("INSERT INTO anchors VALUES (0, 3, :r, 1337, :c, :c, :t, 5, 48000)"),
                     {"r": root, "c": "0x" + "11" * 20, "t": "0x" + "22" * 32})
    engine.dispose()
    with AccessLog.open(url, log_key=LOG_KEY, signer=ryokan.signer) as log:
        assert current_revision(log.engine, VERSION_TABLE) == HEAD_REVISION == "0003_consumed_nonces"
        assert [(b.first_seq, b.size, b.root) for b in log.legacy_batches()] == [(0, 3, root)]
        assert log.batches() == [] and log.verify().ok
        log.record(entry(ryokan, None))
        identity = log.identity()
        assert identity is not None and identity.since == 3
        head = log.anchor(anchorer)
        assert (head.first_seq, head.tree_size) == (0, 4)  # the first head covers the old entries too
        assert log.verify(anchorer=anchorer).ok
    changed: dict[str, Any] = json.loads(json.dumps(records[1]))
    changed["entry"]["purpose"] = "marketing"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE entries SET record = :r, hash = :h WHERE seq = 1"),
                     {"r": canonical(changed).decode(), "h": record_hash(changed)})
    engine.dispose()
    with AccessLog.open(url, log_key=LOG_KEY) as log:
        codes = {(f.kind, f.code) for f in log.verify(anchorer=anchorer).findings}
    assert ("anchor", ANCHOR_MISMATCH) in codes and ("rewritten", "kaga:log-rewritten") in codes
