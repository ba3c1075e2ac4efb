"""Issuance records: what the city keeps about the credentials it issued (SQLite, or PostgreSQL by URL).

Only what status management and audit need is stored: the credential id, its type, the subject's DID,
its status list and index, the format, who issued it and when, and its status with the times it
changed (plus an event per change, and the batch journal). **No** names, birth dates, addresses, or
any other claim: the credential itself is the resident's, and a leak of this database must not be a
leak of the population register (see docs/issuer-records.md).

SQLAlchemy 2 Core; psycopg 3 for ``postgresql://`` URLs. Times are stored as ISO 8601 UTC strings so
SQLite and PostgreSQL read them back identically.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from .._files import ensure_private_file, sqlite_path
from .._home import default_home
from .._migrations import upgrade
from .._sqlite import use_wal
from ..errors import (
    BATCH_IN_PROGRESS,
    CREDENTIAL_ALREADY_RECORDED,
    CREDENTIAL_UNKNOWN,
    MALFORMED_VALUE_ERROR,
    RECORDS_UNAVAILABLE,
    STATUS_TRANSITION_INVALID,
    InputError,
    RecordsError,
    StatusError,
)
from ..status import StatusListInfo

ENV_RECORDS_URL = "KAGA_VC_RECORDS_URL"
SQLITE_NAME = "issuance.sqlite3"

ENV_POOL_SIZE = "KAGA_VC_DB_POOL_SIZE"
ENV_MAX_OVERFLOW = "KAGA_VC_DB_MAX_OVERFLOW"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "kaga_records_alembic_version"
HEAD_REVISION = "0002_issuance_anchors"
"""The newest script in ``migrations/versions``: a new migration updates it (a test checks they agree)."""

ACTIVE, REVOKED, SUSPENDED = "active", "revoked", "suspended"
STATUSES = (ACTIVE, REVOKED, SUSPENDED)

metadata = sa.MetaData()
_TIME = sa.String(40)

status_lists_table = sa.Table(
    "kaga_status_lists", metadata,
    sa.Column("list_id", sa.String(64), primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("allocated", sa.Integer, nullable=False, server_default="0"),
)
allocations_table = sa.Table(
    "kaga_status_allocations", metadata,
    sa.Column("list_id", sa.String(64), sa.ForeignKey("kaga_status_lists.list_id"), primary_key=True),
    sa.Column("status_index", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("allocated_at", _TIME, nullable=False),
)
issued_table = sa.Table(
    "kaga_issued_credentials", metadata,
    sa.Column("credential_id", sa.String(512), primary_key=True),
    sa.Column("type", sa.String(200), nullable=False),
    sa.Column("subject_did", sa.String(512)),
    sa.Column("status_list_id", sa.String(64)),
    sa.Column("status_index", sa.Integer),
    sa.Column("format", sa.String(40), nullable=False),
    sa.Column("staff", sa.String(200), nullable=False),
    sa.Column("issued_at", _TIME, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("revoked_at", _TIME),
    sa.Column("suspended_at", _TIME),
    sa.Column("batch_id", sa.String(64)),
    sa.Column("row_key", sa.String(128)),
    sa.UniqueConstraint("status_list_id", "status_index", name="kaga_issued_status_unique"),
    sa.UniqueConstraint("batch_id", "row_key", name="kaga_issued_row_unique"),
)
sa.Index("kaga_issued_subject", issued_table.c.subject_did)
sa.Index("kaga_issued_list_status", issued_table.c.status_list_id, issued_table.c.status)
events_table = sa.Table(
    "kaga_status_events", metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("credential_id", sa.String(512), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("at", _TIME, nullable=False),
    sa.Column("staff", sa.String(200)),
)
batch_rows_table = sa.Table(
    "kaga_batch_rows", metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("row_key", sa.String(128), primary_key=True),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("credential_id", sa.String(512)),
    sa.Column("code", sa.String(100)),
    sa.Column("at", _TIME, nullable=False),
)
# issuance anchors (migration 0002): every issued credential's digest, and the on-chain batches holding it
digests_table = sa.Table(
    "kaga_issued_digests", metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("credential_id", sa.String(512)),
    sa.Column("verification_method", sa.String(512)),
    sa.Column("issued_at", _TIME),
    sa.Column("recorded_at", _TIME, nullable=False),
)
sa.Index("kaga_issued_digests_method", digests_table.c.verification_method)
sa.Index("kaga_issued_digests_credential", digests_table.c.credential_id)
anchors_table = sa.Table(
    "kaga_issuance_anchors", metadata,
    sa.Column("root", sa.String(64), primary_key=True),
    sa.Column("log_id", sa.String(64), nullable=False),
    sa.Column("tree_size", sa.Integer, nullable=False),
    sa.Column("chain_id", sa.BigInteger, nullable=False),
    sa.Column("contract", sa.String(42), nullable=False),
    sa.Column("anchorer", sa.String(42), nullable=False),
    sa.Column("transaction_hash", sa.String(66), nullable=False),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("anchored_at", _TIME, nullable=False),
)
leaves_table = sa.Table(
    "kaga_issuance_anchor_leaves", metadata,
    sa.Column("root", sa.String(64), primary_key=True),
    sa.Column("leaf_index", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("digest", sa.String(64), nullable=False),
)
sa.Index("kaga_issuance_anchor_leaves_digest", leaves_table.c.digest)
ANCHOR_LOCK = "kaga-vc issuance anchors"
"""The :meth:`IssuanceStore.batch_lock` name that keeps two anchoring runs from anchoring the same digests."""


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise InputError(MALFORMED_VALUE_ERROR, "times must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class IssuanceRecord:
    """One issued credential as the records hold it (no personal claims)."""

    credential_id: str
    type: str
    subject_did: str | None
    status_list_id: str | None
    status_index: int | None
    format: str
    staff: str
    issued_at: datetime
    status: str = ACTIVE
    revoked_at: datetime | None = None
    suspended_at: datetime | None = None
    batch_id: str | None = None
    row_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        def iso(v: datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {
            "credentialId": self.credential_id, "type": self.type, "subject": self.subject_did,
            "statusListId": self.status_list_id, "statusIndex": self.status_index, "format": self.format,
            "staff": self.staff, "issuedAt": iso(self.issued_at), "status": self.status,
            "revokedAt": iso(self.revoked_at), "suspendedAt": iso(self.suspended_at),
            **({"batchId": self.batch_id, "rowKey": self.row_key} if self.batch_id else {}),
        }


@dataclass(frozen=True, slots=True)
class IssuedDigest:
    """An issued credential as the issuance anchors know it: its digest (hex), id, signing key, time."""

    digest: str
    credential_id: str | None
    verification_method: str | None
    issued_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuanceAnchor:
    """One anchored issuance batch: its Merkle root (hex) and where and when the chain holds it."""

    root: str
    log_id: str
    tree_size: int
    chain_id: int
    contract: str
    anchorer: str
    transaction_hash: str
    block_number: int
    anchored_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"root": self.root, "logId": self.log_id, "size": self.tree_size, "chainId": self.chain_id,
                "contract": self.contract, "anchorer": self.anchorer, "transactionHash": self.transaction_hash,
                "blockNumber": self.block_number, "anchoredAt": self.anchored_at.isoformat()}


@dataclass(frozen=True, slots=True)
class BatchRow:
    """The journalled outcome of one batch row: ``issued`` (with its credential id) or ``rejected`` (with a code)."""

    batch_id: str
    row_key: str
    row_number: int
    outcome: str
    credential_id: str | None
    code: str | None
    at: datetime


def _record(row: Any) -> IssuanceRecord:
    m = row._mapping
    return IssuanceRecord(
        m["credential_id"], m["type"], m["subject_did"], m["status_list_id"], m["status_index"], m["format"],
        m["staff"], _dt(m["issued_at"]) or datetime.min.replace(tzinfo=UTC), m["status"], _dt(m["revoked_at"]),
        _dt(m["suspended_at"]), m["batch_id"], m["row_key"],
    )


def pool_settings(pool_size: int | None = None, max_overflow: int | None = None) -> tuple[int, int]:
    """The PostgreSQL pool's size and overflow: the arguments, else the environment, else 5 and 5."""
    def setting(value: int | None, name: str, default: int) -> int:
        if value is None:
            text = os.environ.get(name, "").strip()
            if not text:
                return default
            try:
                value = int(text)
            except ValueError:
                raise InputError(MALFORMED_VALUE_ERROR, f"${name} must be a whole number") from None
        if not 0 <= value <= 1000:
            raise InputError(MALFORMED_VALUE_ERROR, f"{name.lower()} must be between 0 and 1000")
        return value

    size = setting(pool_size, ENV_POOL_SIZE, 5)
    if size == 0:
        raise InputError(MALFORMED_VALUE_ERROR, "the pool size must be at least 1")
    return size, setting(max_overflow, ENV_MAX_OVERFLOW, 5)


def _redacted(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return "<unparseable URL>"


T = TypeVar("T")


class IssuanceStore:
    """The issuance records and the status list allocations, in one database.

    Implements :class:`kaga_vc.status.StatusStore`. Every write is one transaction; a write that
    fails leaves the stored data as it was.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- opening ----------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | None = None, *, home: Path | None = None, pool_size: int | None = None,
             max_overflow: int | None = None) -> IssuanceStore:
        """Open the store at ``url``, migrating its schema to the newest revision if needed (Alembic,
        ``kaga_vc/issuer/migrations``; concurrent first opens are safe, see :mod:`kaga_vc._migrations`).

        ``None`` → ``$KAGA_VC_RECORDS_URL`` if set, else the SQLite file ``$KAGA_VC_HOME/issuance.sqlite3``;
        ``sqlite:///PATH`` or ``postgresql://user@host/db`` (driven by psycopg 3) otherwise. PostgreSQL
        connections are pooled: ``pool_size`` (else ``$KAGA_VC_DB_POOL_SIZE``, default 5) kept open, up
        to ``max_overflow`` (else ``$KAGA_VC_DB_MAX_OVERFLOW``, default 5) more under load.
        Raises ``RecordsError(kaga:records-unavailable)``; the error never shows a password.
        """
        url = url or os.environ.get(ENV_RECORDS_URL) or None
        if url is None:
            directory = home or default_home()
            directory.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{directory / SQLITE_NAME}"
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        try:
            if url.startswith("sqlite"):
                db_file = sqlite_path(url)
                if db_file is not None:  # personal data: 0600 (and so its -wal / -shm files)
                    ensure_private_file(db_file)
                engine = sa.create_engine(url, connect_args={"timeout": 30})
                sa.event.listen(engine, "connect", _sqlite_pragmas)
                sa.event.listen(engine, "begin", _sqlite_begin)
            else:
                size, overflow = pool_settings(pool_size, max_overflow)
                engine = sa.create_engine(url, pool_size=size, max_overflow=overflow, pool_recycle=3600,
                                          pool_pre_ping=True)
            upgrade(engine, MIGRATIONS, VERSION_TABLE, HEAD_REVISION)
        except ModuleNotFoundError as error:
            raise RecordsError(RECORDS_UNAVAILABLE, f"the database driver is not installed ({error.name}); "
                               "pip install 'kaga-vc[postgres]'") from None
        except (SQLAlchemyError, ValueError, OSError) as error:
            raise RecordsError(RECORDS_UNAVAILABLE,
                               f"cannot open the issuance records at {_redacted(url)} ({type(error).__name__})") from None
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One database transaction (committed on success, rolled back on any error)."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except IntegrityError:
            raise
        except OperationalError as error:
            raise RecordsError(RECORDS_UNAVAILABLE, f"issuance records unavailable ({type(error.orig).__name__})") from None

    def _run(self, work: Callable[[Connection], T]) -> T:
        with self.transaction() as conn:
            return work(conn)

    # -- issuance ---------------------------------------------------------------------------------

    def record_issued(
        self,
        credential_id: str,
        type: str,
        subject_did: str | None,
        status_list_id: str | None,
        status_index: int | None,
        staff: str,
        format: str,
        issued_at: datetime,
        *,
        conn: Connection | None = None,
        batch_id: str | None = None,
        row_key: str | None = None,
        digest: bytes | None = None,
        verification_method: str | None = None,
    ) -> IssuanceRecord:
        """Record one issued credential (``kaga:credential-already-recorded`` if its id or status index is taken).

        Pass ``conn`` to write inside a caller's :meth:`transaction` (the batch journal does). ``digest``
        (:func:`kaga_vc.credentials.credential_digest`) and the signing ``verification_method`` go to the
        issuance anchors' table in the same transaction: the credential is then pending anchoring.
        """
        if not credential_id or not type or not staff or not format:
            raise InputError(MALFORMED_VALUE_ERROR, "credential id, type, staff and format are required")
        record = IssuanceRecord(credential_id, type, subject_did, status_list_id, status_index, format, staff,
                                datetime.fromisoformat(_iso(issued_at)), ACTIVE, None, None, batch_id, row_key)
        values = {
            "credential_id": credential_id, "type": type, "subject_did": subject_did,
            "status_list_id": status_list_id, "status_index": status_index, "format": format, "staff": staff,
            "issued_at": _iso(issued_at), "status": ACTIVE, "batch_id": batch_id, "row_key": row_key,
        }

        def work(c: Connection) -> IssuanceRecord:
            c.execute(issued_table.insert().values(**values))
            c.execute(events_table.insert().values(credential_id=credential_id, status="issued",
                                                   at=_iso(issued_at), staff=staff))
            if digest is not None:
                c.execute(digests_table.insert().values(digest=digest.hex(), credential_id=credential_id,
                                                        verification_method=verification_method,
                                                        issued_at=_iso(issued_at), recorded_at=_iso(datetime.now(UTC))))
            return record

        try:
            return work(conn) if conn is not None else self._run(work)
        except IntegrityError:
            raise RecordsError(CREDENTIAL_ALREADY_RECORDED,
                               "a credential with this id or status list index is already recorded",
                               credential_id=credential_id) from None

    def get(self, credential_id: str) -> IssuanceRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(issued_table).where(issued_table.c.credential_id == credential_id)).first()
        return _record(row) if row is not None else None

    def list(
        self,
        *,
        status: str | None = None,
        type: str | None = None,
        subject_did: str | None = None,
        staff: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[IssuanceRecord]:
        """Records, oldest first, filtered by any of the given fields."""
        query = sa.select(issued_table)
        for column, value in (("status", status), ("type", type), ("subject_did", subject_did), ("staff", staff)):
            if value is not None:
                query = query.where(issued_table.c[column] == value)
        query = query.order_by(issued_table.c.issued_at, issued_table.c.credential_id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def count(self, *, status: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(issued_table)
        if status is not None:
            query = query.where(issued_table.c.status == status)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def mark(self, credential_id: str, status: str, at: datetime | None = None, *,
             staff: str | None = None) -> IssuanceRecord:
        """Change a credential's status: ``revoked`` (final), ``suspended``, or ``active`` (unsuspend).

        Refused with ``kaga:status-transition-invalid``: anything after revocation, suspending a suspended
        credential, unsuspending one that is not suspended; ``kaga:credential-unknown`` if not recorded.
        """
        if status not in STATUSES:
            raise InputError(MALFORMED_VALUE_ERROR, f"status must be one of {', '.join(STATUSES)}")
        when = _iso(at or datetime.now(UTC))

        def work(c: Connection) -> IssuanceRecord:
            row = c.execute(sa.select(issued_table).where(issued_table.c.credential_id == credential_id)
                            .with_for_update()).first()
            if row is None:
                raise StatusError(CREDENTIAL_UNKNOWN, "no issued credential with this id", credential_id=credential_id)
            current = row._mapping["status"]
            if current == REVOKED:
                raise StatusError(STATUS_TRANSITION_INVALID, "the credential is revoked; revocation is final",
                                  credential_id=credential_id, status=current)
            if current == status or (status == ACTIVE and current != SUSPENDED):
                raise StatusError(STATUS_TRANSITION_INVALID, f"the credential is {current}; cannot make it {status}",
                                  credential_id=credential_id, status=current)
            changes: dict[str, Any] = {"status": status}
            if status == REVOKED:
                changes["revoked_at"] = when
            elif status == SUSPENDED:
                changes["suspended_at"] = when
            else:
                changes["suspended_at"] = None
            c.execute(issued_table.update().where(issued_table.c.credential_id == credential_id).values(**changes))
            c.execute(events_table.insert().values(credential_id=credential_id, status=status, at=when, staff=staff))
            return _record(c.execute(sa.select(issued_table)
                                     .where(issued_table.c.credential_id == credential_id)).one())

        return self._run(work)

    def events(self, credential_id: str) -> builtins.list[tuple[str, datetime, str | None]]:
        """The audit trail of one credential: ``(status, at, staff)``, oldest first."""
        query = (sa.select(events_table.c.status, events_table.c.at, events_table.c.staff)
                 .where(events_table.c.credential_id == credential_id).order_by(events_table.c.event_id))
        with self.engine.connect() as conn:
            return [(s, datetime.fromisoformat(a), st) for s, a, st in conn.execute(query)]

    # -- status lists (kaga_vc.status.StatusStore) -------------------------------------------------

    def current_status_list(self, *, conn: Connection | None = None) -> StatusListInfo | None:
        query = sa.select(status_lists_table).order_by(status_lists_table.c.seq.desc()).limit(1)
        if conn is not None:
            row = conn.execute(query).first()
        else:
            with self.engine.connect() as c:
                row = c.execute(query).first()
        return None if row is None else StatusListInfo(row.list_id, row.size, int(row.allocated),
                                                        datetime.fromisoformat(row.created_at))

    def create_status_list(self, list_id: str, size: int, created_at: datetime, *,
                           conn: Connection | None = None) -> StatusListInfo:
        def work(c: Connection) -> StatusListInfo:
            seq = c.execute(sa.select(sa.func.coalesce(sa.func.max(status_lists_table.c.seq), 0))).scalar_one() + 1
            c.execute(status_lists_table.insert().values(list_id=list_id, size=size, created_at=_iso(created_at),
                                                         seq=seq))
            return StatusListInfo(list_id, size, 0, created_at)

        return work(conn) if conn is not None else self._run(work)

    def claim_status_index(self, list_id: str, index: int, at: datetime, *, conn: Connection | None = None) -> bool:
        """Claim ``index`` of ``list_id`` (False if already claimed); with ``conn``, inside that transaction.

        A taken index is skipped with ``ON CONFLICT DO NOTHING`` rather than an error, so a collision
        does not abort the caller's transaction (PostgreSQL would refuse every later statement).
        """
        def work(c: Connection) -> bool:
            insert = _dialect_insert(c)(allocations_table).values(
                list_id=list_id, status_index=index, allocated_at=_iso(at),
            ).on_conflict_do_nothing().returning(allocations_table.c.status_index)
            if c.execute(insert).first() is None:  # (rowcount is not reliable here under psycopg)
                return False
            c.execute(status_lists_table.update().where(status_lists_table.c.list_id == list_id)
                      .values(allocated=status_lists_table.c.allocated + 1))
            return True

        try:
            return work(conn) if conn is not None else self._run(work)
        except IntegrityError:  # no such list
            if conn is not None:
                raise
            return False

    def status_lists(self, *, newest_only: bool = False) -> builtins.list[StatusListInfo]:
        query = sa.select(status_lists_table).order_by(
            status_lists_table.c.seq.desc() if newest_only else status_lists_table.c.seq)
        if newest_only:
            query = query.limit(1)
        with self.engine.connect() as conn:
            return [StatusListInfo(r.list_id, r.size, int(r.allocated), datetime.fromisoformat(r.created_at))
                    for r in conn.execute(query)]

    def allocated_indices(self, list_id: str) -> builtins.list[int]:
        query = sa.select(allocations_table.c.status_index).where(allocations_table.c.list_id == list_id)
        with self.engine.connect() as conn:
            return [int(i) for (i,) in conn.execute(query)]

    def flagged_indices(self, list_id: str, purpose: str) -> builtins.list[int]:
        status = {"revocation": REVOKED, "suspension": SUSPENDED}.get(purpose)
        if status is None:
            raise InputError(MALFORMED_VALUE_ERROR, f"unknown status purpose {purpose!r}")
        query = sa.select(issued_table.c.status_index).where(
            issued_table.c.status_list_id == list_id, issued_table.c.status == status,
            issued_table.c.status_index.is_not(None))
        with self.engine.connect() as conn:
            return [int(i) for (i,) in conn.execute(query)]

    # -- the batch journal (kaga_vc.issuer.batch) ----------------------------------------------------

    def claim_status_indices(self, conn: Connection, list_id: str, indices: builtins.list[int],
                             at: datetime) -> set[int]:
        """Claim many reserved indices of ``list_id`` in the caller's transaction: the ones claimed now
        (an index another process took meanwhile is left out, without aborting the transaction).

        One statement for the group, written for the driver (a compiled multi-row INSERT costs more
        to build than the database takes to run it)."""
        if not indices:
            return set()
        when = _iso(at)
        table = allocations_table.name
        if conn.dialect.name == "postgresql":
            sql = (f"INSERT INTO {table} (list_id, status_index, allocated_at) SELECT %s, i, %s "
                   "FROM unnest(%s::integer[]) AS i ON CONFLICT DO NOTHING RETURNING status_index")
            result = conn.exec_driver_sql(sql, (list_id, when, list(indices)))
            claimed = {int(i) for (i,) in result}
        else:
            claimed = set()
            for start in range(0, len(indices), _SQLITE_ROWS):
                chunk = indices[start:start + _SQLITE_ROWS]
                sql = (f"INSERT INTO {table} (list_id, status_index, allocated_at) VALUES "
                       + ",".join(["(?, ?, ?)"] * len(chunk)) + " ON CONFLICT DO NOTHING RETURNING status_index")
                params = tuple(value for i in chunk for value in (list_id, i, when))
                claimed.update(int(i) for (i,) in conn.exec_driver_sql(sql, params))
        if claimed:
            conn.execute(status_lists_table.update().where(status_lists_table.c.list_id == list_id)
                         .values(allocated=status_lists_table.c.allocated + len(claimed)))
        return claimed

    def record_group(self, conn: Connection, records: builtins.list[dict[str, Any]],
                     rows: builtins.list[BatchRow]) -> None:
        """Record many issued credentials and journal their batch rows in the caller's transaction (one
        statement per table, through the driver: the group commit of :mod:`kaga_vc.issuer.batch`)."""
        if not records and not rows:
            return
        if records:
            stamps = [_iso(r["issued_at"]) for r in records]
            issued = [tuple(r[name] for name in _ISSUED_COLUMNS[:7]) + (stamp, ACTIVE, r["batch_id"], r["row_key"])
                      for r, stamp in zip(records, stamps, strict=True)]
            try:
                _insert_many(conn, issued_table, _ISSUED_COLUMNS, issued)
            except IntegrityError:
                raise RecordsError(CREDENTIAL_ALREADY_RECORDED,
                                   "a credential of this group (id, status index or batch row) is already recorded") from None
            _insert_many(conn, events_table, ("credential_id", "status", "at", "staff"),
                         [(r["credential_id"], "issued", stamp, r["staff"]) for r, stamp in zip(records, stamps, strict=True)])
            now = _iso(datetime.now(UTC))
            _insert_many(conn, digests_table, ("digest", "credential_id", "verification_method", "issued_at", "recorded_at"),
                         [(r["digest"], r["credential_id"], r.get("verification_method"), stamp, now)
                          for r, stamp in zip(records, stamps, strict=True) if r.get("digest")])
        if rows:
            _insert_many(conn, batch_rows_table, ("batch_id", "row_key", "row_number", "outcome", "credential_id", "code", "at"),
                         [(r.batch_id, r.row_key, r.row_number, r.outcome, r.credential_id, r.code, _iso(r.at)) for r in rows])

    @contextmanager
    def batch_lock(self, batch_id: str, *, timeout: float = 10.0) -> Iterator[None]:
        """Exclude other runs of the batch ``batch_id`` on these records (any process, any output folder).

        PostgreSQL: a session advisory lock on a connection held for the run (released if the process
        dies); SQLite: an ``fcntl`` byte-range lock on ``<database>.batch-lock``. Waits up to ``timeout``
        seconds, then ``kaga:batch-in-progress``.
        """
        key = int(hashlib.sha256(batch_id.encode()).hexdigest()[:15], 16)
        busy = RecordsError(BATCH_IN_PROGRESS, f"another run of this batch ({batch_id[:12]}…) is in progress; "
                            f"waited {timeout:g} s. Let it finish (or stop it), then run again: the rerun resumes")
        deadline = time.monotonic() + max(timeout, 0.0)
        if self.dialect == "postgresql":
            try:
                conn = self.engine.connect()
            except OperationalError as error:
                raise RecordsError(RECORDS_UNAVAILABLE, f"issuance records unavailable ({type(error.orig).__name__})") from None
            try:
                while not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one():
                    conn.rollback()
                    if time.monotonic() >= deadline:
                        raise busy
                    time.sleep(0.05)
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
            finally:
                conn.close()
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            yield
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fd = os.open(f"{database}.batch-lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        offset = key % (1 << 31)
        try:
            while True:
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
                    break
                except OSError:
                    if time.monotonic() >= deadline:
                        raise busy from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)


    def journal_row(self, conn: Connection, row: BatchRow) -> None:
        """Write one batch row's outcome inside the caller's transaction (with its issuance record)."""
        conn.execute(batch_rows_table.insert().values(
            batch_id=row.batch_id, row_key=row.row_key, row_number=row.row_number, outcome=row.outcome,
            credential_id=row.credential_id, code=row.code, at=_iso(row.at)))

    def batch_rows(self, batch_id: str) -> dict[str, BatchRow]:
        query = sa.select(batch_rows_table).where(batch_rows_table.c.batch_id == batch_id)
        with self.engine.connect() as conn:
            return {r.row_key: BatchRow(r.batch_id, r.row_key, r.row_number, r.outcome, r.credential_id, r.code,
                                        datetime.fromisoformat(r.at)) for r in conn.execute(query)}


    # -- issuance anchors (kaga_vc.accesslog.issuance) ----------------------------------------------

    def record_digests(self, items: builtins.list[IssuedDigest]) -> int:
        """Record digests of issued credentials not recorded yet (``city anchor FILE`` of a credential
        issued before digests were kept); the number newly recorded."""
        now = _iso(datetime.now(UTC))

        def work(c: Connection) -> int:
            added = 0
            for item in items:
                insert = _dialect_insert(c)(digests_table).values(
                    digest=item.digest, credential_id=item.credential_id,
                    verification_method=item.verification_method,
                    issued_at=_iso(item.issued_at) if item.issued_at else None, recorded_at=now,
                ).on_conflict_do_nothing().returning(digests_table.c.digest)
                added += c.execute(insert).first() is not None
            return added

        return self._run(work)

    def pending_digests(self, *, limit: int | None = None) -> builtins.list[IssuedDigest]:
        """Issued credentials in no anchored batch yet, oldest first."""
        anchored = sa.select(leaves_table.c.digest).where(leaves_table.c.digest == digests_table.c.digest)
        query = (sa.select(digests_table).where(~anchored.exists())
                 .order_by(digests_table.c.recorded_at, digests_table.c.digest))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [IssuedDigest(r.digest, r.credential_id, r.verification_method, _dt(r.issued_at))
                    for r in conn.execute(query)]

    def count_pending(self) -> int:
        anchored = sa.select(leaves_table.c.digest).where(leaves_table.c.digest == digests_table.c.digest)
        query = sa.select(sa.func.count()).select_from(digests_table).where(~anchored.exists())
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def record_anchor(self, anchor: IssuanceAnchor, leaves: builtins.list[str]) -> None:
        """Record an anchored batch and its leaves (digests, hex, in tree order) in one transaction; a
        batch already recorded (same root, so the same leaves) is left as it is."""
        if len(leaves) != anchor.tree_size:
            raise InputError(MALFORMED_VALUE_ERROR, "an anchor's leaves must number its tree size")

        def work(c: Connection) -> None:
            if c.execute(sa.select(anchors_table.c.root).where(anchors_table.c.root == anchor.root)).first():
                return  # the same batch anchored again (its leaves are its root's): already recorded
            c.execute(anchors_table.insert().values(
                root=anchor.root, log_id=anchor.log_id, tree_size=anchor.tree_size, chain_id=anchor.chain_id,
                contract=anchor.contract, anchorer=anchor.anchorer, transaction_hash=anchor.transaction_hash,
                block_number=anchor.block_number, anchored_at=_iso(anchor.anchored_at)))
            _insert_many(c, leaves_table, ("root", "leaf_index", "digest"),
                         [(anchor.root, i, d) for i, d in enumerate(leaves)])

        try:
            self._run(work)
        except IntegrityError:
            raise RecordsError(CREDENTIAL_ALREADY_RECORDED, "this issuance anchor is already recorded",
                               root=anchor.root) from None

    def anchors_of(self, digest: str) -> builtins.list[tuple[IssuanceAnchor, int]]:
        """Every anchored batch holding ``digest`` (hex) and its leaf index there, earliest first."""
        query = (sa.select(anchors_table, leaves_table.c.leaf_index)
                 .join(leaves_table, leaves_table.c.root == anchors_table.c.root)
                 .where(leaves_table.c.digest == digest).order_by(anchors_table.c.anchored_at))
        with self.engine.connect() as conn:
            return [(_anchor(r), int(r.leaf_index)) for r in conn.execute(query)]

    def anchor_leaves(self, root: str) -> builtins.list[str]:
        """The digests (hex) of one anchored batch, in tree order."""
        query = sa.select(leaves_table.c.digest).where(leaves_table.c.root == root).order_by(leaves_table.c.leaf_index)
        with self.engine.connect() as conn:
            return [d for (d,) in conn.execute(query)]

    def anchored_digests(self, verification_method: str) -> builtins.list[tuple[str, datetime]]:
        """The digests (hex) signed by ``verification_method`` that were anchored, each with the chain
        time of its earliest anchor, ordered by digest."""
        return [(d, t) for d, t, _issued in self.anchored_issuances(verification_method)]

    def anchored_issuances(self, verification_method: str) -> builtins.list[tuple[str, datetime, datetime | None]]:
        """:meth:`anchored_digests` with each credential's stated issuance time (what ``bundle sync`` lists)."""
        query = (sa.select(digests_table.c.digest, sa.func.min(anchors_table.c.anchored_at),
                           sa.func.min(digests_table.c.issued_at))
                 .join(leaves_table, leaves_table.c.digest == digests_table.c.digest)
                 .join(anchors_table, anchors_table.c.root == leaves_table.c.root)
                 .where(digests_table.c.verification_method == verification_method)
                 .group_by(digests_table.c.digest).order_by(digests_table.c.digest))
        with self.engine.connect() as conn:
            return [(d, datetime.fromisoformat(t), _dt(i)) for d, t, i in conn.execute(query)]

    def signing_methods(self) -> builtins.list[str]:
        """Every verification method that signed a recorded credential."""
        query = (sa.select(digests_table.c.verification_method).distinct()
                 .where(digests_table.c.verification_method.is_not(None)))
        with self.engine.connect() as conn:
            return sorted(m for (m,) in conn.execute(query))


def _anchor(row: Any) -> IssuanceAnchor:
    return IssuanceAnchor(row.root, row.log_id, int(row.tree_size), int(row.chain_id), row.contract, row.anchorer,
                          row.transaction_hash, int(row.block_number), datetime.fromisoformat(row.anchored_at))


_ISSUED_COLUMNS = ("credential_id", "type", "subject_did", "status_list_id", "status_index", "staff", "format",
                   "issued_at", "status", "batch_id", "row_key")
_SQLITE_ROWS = 3000
"""Rows per multi-row statement on SQLite (3 values each: well under its 32,766 variables)."""


def _insert_many(conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: builtins.list[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (value tuples in ``columns`` order) in the caller's transaction, through the driver:
    SQLite's executemany (a loop in C), PostgreSQL's ``unnest`` of one array per column (one statement,
    one round trip, whatever the group's size). A duplicate key raises ``IntegrityError`` as before."""
    if not rows:
        return
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        casts = ", ".join(f"%s::{_PG_ARRAY[type(table.c[name].type)]}" for name in columns)
        arrays = tuple(list(values) for values in zip(*rows, strict=True))
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({casts})", arrays)
        return
    marks = ", ".join("?" * len(columns))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)


_PG_ARRAY: dict[type[Any], str] = {sa.String: "text[]", sa.Integer: "integer[]"}


def _dialect_insert(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL + FULL: a committed issuance survives a power cut (docs/issuer-records.md); the driver's own
    # transaction handling is switched off so that BEGIN IMMEDIATE below is the only one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    use_wal(cursor)
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # take the write lock up front: no deadlock between two writers that both read first
    conn.exec_driver_sql("BEGIN IMMEDIATE")


__all__ = ["ACTIVE", "ANCHOR_LOCK", "REVOKED", "STATUSES", "SUSPENDED", "BatchRow", "IssuanceAnchor", "IssuanceRecord",
           "IssuanceStore", "IssuedDigest"]
