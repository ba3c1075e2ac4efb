"""One SQLite detail every local store shares: switching a database file to WAL safely.

Why: ``PRAGMA journal_mode=WAL`` needs the file to itself, and while another process holds it (two
shop workers, three first opens of one access log) SQLite answers "database is locked" at once —
without its busy handler — so one of several concurrent first opens failed. The mode is persistent:
once a file is WAL every later open only reads it, so the retry costs nothing after the first open.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any


def use_wal(connection: Any, deadline: float = 30.0) -> None:
    """Put the file in WAL mode, retrying a locked switch with a short backoff for ``deadline`` seconds.

    ``connection`` is an ``sqlite3`` connection or cursor (anything with ``execute``).
    """
    give_up = time.monotonic() + deadline
    delay = 0.005
    while True:
        try:
            if str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            if str(connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower() == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        if time.monotonic() > give_up:
            raise sqlite3.OperationalError("database is locked (could not switch it to WAL)")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
