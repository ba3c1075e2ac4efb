"""The newest status list a verifier has seen, per list URL: an older one is a rollback, refused.

A status list read from a directory or a file (``kaga-vc verify --status-lists``) is only as fresh as
whoever copied it there: replaying the list from before a revocation would make a revoked credential
verify again. Like :class:`kaga_vc.verifier.BundleMemory` for bundles, :class:`StatusListMemory`
keeps, per list URL, the signed ``validFrom`` of the newest list that *verified* (signature, issuer,
type, id and purpose all checked first) and a digest of its content, and refuses with
``kaga:status-list-rollback``:

* a list whose ``validFrom`` is earlier than the newest seen;
* another list content under the same ``validFrom`` (a fork: the order cannot be told, so it fails closed);
* a list without ``validFrom`` once a dated one was seen for that URL.

Nothing is recorded for a list that did not verify, so a forged "newer" list cannot lock out the real one.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

from .._sqlite import use_wal
from ..errors import STATUS_LIST_ROLLBACK, StatusError
from ._source import StatusListDocument, StatusListSource

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StatusListMemory:
    """Per status list URL, the newest verified list seen (SQLite, WAL, ``synchronous=FULL``)."""

    _SCHEMA = ("CREATE TABLE IF NOT EXISTS newest_status_lists (url TEXT PRIMARY KEY, valid_from_ms INTEGER NOT NULL, "
               "digest TEXT NOT NULL, seen_at INTEGER NOT NULL)")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from .._files import ensure_private_file

        self.path = Path(path)
        ensure_private_file(self.path)
        self._conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        use_wal(self._conn)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(self._SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def newest(self, url: str) -> tuple[int, str] | None:
        row = self._conn.execute("SELECT valid_from_ms, digest FROM newest_status_lists WHERE url = ?", (url,)).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def remember(self, url: str, valid_from: datetime | None, encoded_list: str, purposes: list[str]) -> None:
        """Record a verified list, or raise StatusError ``kaga:status-list-rollback`` (one transaction)."""
        digest = hashlib.sha256("\n".join([encoded_list, *sorted(purposes)]).encode("utf-8")).hexdigest()
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            newest = self.newest(url)
            if valid_from is None:
                if newest is not None:
                    raise StatusError(STATUS_LIST_ROLLBACK, f"status list {url} has no validFrom, but a dated one "
                                                            "was already seen: refusing a rollback", url=url)
                self._conn.execute("COMMIT")
                return
            # milliseconds: a city may publish twice in one second (revoke, publish, revoke, publish)
            moment = (valid_from.astimezone(UTC) - _EPOCH) // timedelta(milliseconds=1)
            if newest is not None and (moment < newest[0] or (moment == newest[0] and digest != newest[1])):
                seen = (_EPOCH + timedelta(milliseconds=newest[0])).isoformat()
                raise StatusError(STATUS_LIST_ROLLBACK, f"status list {url} (validFrom {valid_from.isoformat()}) is not "
                                                        f"newer than one already seen (validFrom {seen}): refusing a "
                                                        "rollback", url=url)
            if newest is None or moment > newest[0]:
                self._conn.execute(
                    "INSERT INTO newest_status_lists (url, valid_from_ms, digest, seen_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(url) DO UPDATE SET valid_from_ms = excluded.valid_from_ms, digest = excluded.digest, "
                    "seen_at = excluded.seen_at", (url, moment, digest, int(time.time())))
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def guard(self, source: StatusListSource) -> RememberingStatusListSource:
        """``source``, with this memory consulted for every list that verifies."""
        return RememberingStatusListSource(source, self)


class RememberingStatusListSource:
    """A :class:`StatusListSource` whose verified lists go through a :class:`StatusListMemory`."""

    def __init__(self, source: StatusListSource, memory: StatusListMemory) -> None:
        self.source = source
        self.memory = memory

    def fetch(self, url: str) -> StatusListDocument:
        return self.source.fetch(url)

    def remember_verified(self, url: str, valid_from: datetime | None, encoded_list: str, purposes: list[str]) -> None:
        self.memory.remember(url, valid_from, encoded_list, purposes)


def default_status_memory_path(home: str | os.PathLike[str] | None = None) -> Path:
    """``$KAGA_VC_HOME/verifier/status-lists.sqlite3``, beside the bundle memory and the nonce store."""
    from .._home import default_home

    return Path(default_home() if home is None else home) / "verifier" / "status-lists.sqlite3"
