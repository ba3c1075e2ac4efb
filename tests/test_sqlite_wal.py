"""Switching a store's file to WAL while other processes hold it (kaga_vc._sqlite.use_wal).

Three concurrent first opens of one access log failed one of three with "database is locked": the
WAL switch does not wait on SQLite's busy handler. These tests hold the file with a real lock.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kaga_vc._sqlite import use_wal

ROOT = Path(__file__).resolve().parents[1]


def _hold_exclusive(path: Path, seconds: float, ready: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN EXCLUSIVE")
    ready.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def test_the_switch_waits_for_a_lock_held_by_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    ready = threading.Event()
    holder = threading.Thread(target=_hold_exclusive, args=(path, 0.5, ready))
    holder.start()
    ready.wait()
    conn = sqlite3.connect(path, timeout=0.01, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        conn.execute("PRAGMA journal_mode=WAL")  # what every store did: fails at once
    use_wal(conn)
    holder.join()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_switch_gives_up_after_its_deadline(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    ready = threading.Event()
    holder = threading.Thread(target=_hold_exclusive, args=(path, 1.0, ready))
    holder.start()
    ready.wait()
    conn = sqlite3.connect(path, timeout=0.01, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="could not switch"):
        use_wal(conn, deadline=0.2)
    holder.join()


OPEN = ("import sys, time; from kaga_vc.verifier import NonceStore\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "with NonceStore(sys.argv[1]) as store: print('ok')\n")


def test_six_concurrent_first_opens_of_a_nonce_store(tmp_path: Path) -> None:
    """A shop's workers open the nonce store together at start: every one of them must succeed."""
    target, start = str(tmp_path / "nonces.db"), str(time.time() + 3.0)
    processes = [subprocess.Popen([sys.executable, "-c", OPEN, target, start], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * 6, [err for _out, err in results]
    assert sqlite3.connect(target).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
