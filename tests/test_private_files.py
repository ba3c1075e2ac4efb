"""ensure_private_file: 0600 databases, never through a symlink, and never at the cost of SQLite's locks.

The regression: it opened and closed the database file on every store open. Closing any descriptor of
a file drops all the POSIX locks the process holds on it, so a second open of the issuance records in
a server (the OpenID4VCI routes open the city a second time) silently removed the locks of the first
engine's live connection. Another process writing to the same database then took itself for the last
user, checkpointed and deleted the WAL: the server went on reading a stale snapshot (new offers were
``kaga:offer-unknown``) and its own later writes landed in a deleted WAL file.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kaga_vc._files import ensure_private_file
from kaga_vc.issuer.records import IssuanceStore


def test_a_new_file_is_created_0600(tmp_path: Path) -> None:
    made = ensure_private_file(tmp_path / "sub" / "db.sqlite3")
    assert made.is_file() and stat.S_IMODE(made.stat().st_mode) == 0o600


def test_an_existing_file_and_its_wal_are_tightened_and_kept(tmp_path: Path) -> None:
    target, wal = tmp_path / "db.sqlite3", tmp_path / "db.sqlite3-wal"
    target.write_bytes(b"kept")
    wal.write_bytes(b"")
    target.chmod(0o644)
    wal.chmod(0o644)
    ensure_private_file(target)
    assert target.read_bytes() == b"kept"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_a_symlink_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("x", encoding="utf-8")
    victim.chmod(0o644)
    planted = tmp_path / "db.sqlite3"
    planted.symlink_to(victim)
    with pytest.raises(OSError):
        ensure_private_file(planted)
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644


def _other_process(db: Path, sql: str) -> list[str]:
    """Run ``sql`` in a separate process with its own SQLite connection (WAL), then close it."""
    code = ("import sqlite3, sys, json; c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30); "
            "c.execute('PRAGMA journal_mode=WAL'); rows = c.execute(sys.argv[2]).fetchall(); c.close(); "
            "print(json.dumps([r[0] for r in rows]))")
    done = subprocess.run([sys.executable, "-c", code, str(db), sql], capture_output=True, text=True,
                          timeout=60, check=True)
    found: list[str] = json.loads(done.stdout)
    return found


def test_a_second_open_in_the_same_process_keeps_the_first_connections_locks(tmp_path: Path) -> None:
    db = tmp_path / "issuance.sqlite3"
    first = IssuanceStore.open(f"sqlite:///{db}")
    try:
        with first.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE probe (x TEXT)")
            conn.exec_driver_sql("INSERT INTO probe VALUES ('server-1')")
        IssuanceStore.open(f"sqlite:///{db}").close()  # what a second open in a server does
        _other_process(db, "INSERT INTO probe VALUES ('other-1')")
        with first.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO probe VALUES ('server-2')")
        _other_process(db, "INSERT INTO probe VALUES ('other-2')")
        with first.engine.connect() as conn:
            seen_here = [row[0] for row in conn.exec_driver_sql("SELECT x FROM probe ORDER BY rowid")]
    finally:
        first.close()
    everything = ["server-1", "other-1", "server-2", "other-2"]
    assert seen_here == everything  # the server sees the other process's writes
    assert _other_process(db, "SELECT x FROM probe ORDER BY rowid") == everything  # and they see its writes
