"""A durable single-use nonce store (SQLite), so a replayed presentation is refused across restarts.

A nonce is consumed by inserting it under a primary key in one committed transaction
(WAL, ``synchronous=FULL``): two verifiers racing on the same nonce cannot both win, and a crash
after the answer was given cannot forget it. :meth:`reserve` holds the insert uncommitted while the
caller records the outcome (the access-log entry): the nonce is used only if that record was written,
so a failure before the end of a verification leaves it usable (issue 13). Entries are kept until their request expired (plus
the clock skew); after that the request's expiry refuses a replay anyway, so they may be purged.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

from .._home import default_home
from .._sqlite import use_wal
from ..errors import NONCE_REPLAYED, ProofError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS used_nonces (
    nonce      TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    used_at    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
)
"""


def default_nonce_path(home: str | os.PathLike[str] | None = None) -> Path:
    """``$KAGA_VC_HOME/verifier/nonces.sqlite3`` (the user data directory by default)."""
    return Path(default_home() if home is None else home) / "verifier" / "nonces.sqlite3"


class NonceStore:
    """Used nonces in an SQLite file; :meth:`consume` is atomic."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        use_wal(self._conn)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(_SCHEMA)
        try:
            os.chmod(self.path, 0o600)
        except OSError:
            pass

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_used(self, nonce: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM used_nonces WHERE nonce = ?", (nonce,)).fetchone()
        return row is not None

    def consume(self, nonce: str, *, request_id: str, expires_at: datetime, now: datetime | None = None) -> None:
        """Mark ``nonce`` used; ProofError ``kaga:nonce-replayed`` if it already was."""
        used_at = int((now or datetime.now(UTC)).timestamp())
        try:
            self._conn.execute(
                "INSERT INTO used_nonces (nonce, request_id, used_at, expires_at) VALUES (?, ?, ?, ?)",
                (nonce, request_id, used_at, int(expires_at.timestamp())),
            )
        except sqlite3.IntegrityError:
            raise ProofError(NONCE_REPLAYED, "this request's nonce was already used: a replayed presentation",
                             request=request_id) from None

    def reserve(self, nonce: str, *, request_id: str, expires_at: datetime,
                now: datetime | None = None) -> NonceReservation:
        """Insert ``nonce`` in an open write transaction; :meth:`NonceReservation.commit` makes it used.

        ProofError ``kaga:nonce-replayed`` (nothing held) if it already was used. While held, another
        verifier consuming the same nonce waits for this one (SQLite's write lock), then is refused.
        """
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self.consume(nonce, request_id=request_id, expires_at=expires_at, now=now)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        return NonceReservation(self._conn)

    def purge(self, *, now: datetime | None = None, keep: timedelta = timedelta(minutes=10)) -> int:
        """Forget nonces whose request expired more than ``keep`` ago; return how many."""
        limit = int(((now or datetime.now(UTC)) - keep).timestamp())
        cursor = self._conn.execute("DELETE FROM used_nonces WHERE expires_at < ?", (limit,))
        return cursor.rowcount


class NonceReservation:
    """A nonce inserted but not yet committed: :meth:`commit` uses it, :meth:`rollback` leaves it usable."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn: sqlite3.Connection | None = conn

    def commit(self) -> None:
        if self._conn is not None:
            self._conn.execute("COMMIT")
            self._conn = None

    def rollback(self) -> None:
        if self._conn is not None:
            self._conn.execute("ROLLBACK")
            self._conn = None


__all__ = ["NonceReservation", "NonceStore", "default_nonce_path"]
