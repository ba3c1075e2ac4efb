"""Durable storage of the access log: SQLite (default) or PostgreSQL, through SQLAlchemy 2 Core.

Schema by Alembic migrations (``migrations/``, version table ``kaga_accesslog_alembic_version``).
Tables: ``log_meta`` (log id, key check, the log's identity), ``log_head`` (one row: last seq and hash, the
append lock), ``entries`` (seq, record hash, keyed subject index, canonical record), ``tree_heads`` (the
signed tree heads this log anchored, and their transactions; the chain holds the authoritative copy),
``anchors`` (batches anchored on the first contract, before issue 12: read-only), ``challenges``
(subject-access nonces, consumed once), ``consumed_nonces`` (the SHA-256 of each
presentation-request nonce an entry consumed, unique: written with the entry, so a retry after a crash
between the log's commit and the nonce store's is refused, not logged twice).

Durability: SQLite runs in WAL mode with ``synchronous=FULL`` (a committed append survives a crash
of the process and of the machine); PostgreSQL commits are durable by default. Appends are
serialised by updating the head row first in each transaction, which takes SQLite's write lock at
once and PostgreSQL's row lock, so concurrent writers queue instead of forking the chain.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.exc import SQLAlchemyError

from .._files import ensure_private_file, sqlite_path
from .._migrations import upgrade
from .._sqlite import use_wal
from ..errors import LOG_UNAVAILABLE, MALFORMED_VALUE_ERROR, AccessLogError, InputError

ENV_LOG_URL = "KAGA_VC_ACCESSLOG_URL"
DEFAULT_FILE = "accesslog.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "kaga_accesslog_alembic_version"  # its own: the log may share a database with the records
HEAD_REVISION = "0003_consumed_nonces"

metadata = MetaData()

log_meta = Table(
    "log_meta", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
log_head = Table(
    "log_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),  # next seq to write
    Column("hash", String(64), nullable=False),  # hash of the last record (or the genesis value)
)
entries = Table(
    "entries", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("subject_index", String(64), nullable=True, index=True),
    Column("record", Text, nullable=False),
)
anchors = Table(
    "anchors", metadata,
    Column("first_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("chain_id", BigInteger, nullable=False),
    Column("contract", String(42), nullable=False),
    Column("anchorer", String(42), nullable=False),
    Column("transaction_hash", String(66), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("gas_used", BigInteger, nullable=False),
)
tree_heads = Table(
    "tree_heads", metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("head_index", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("chain_id", BigInteger, nullable=False),
    Column("contract", String(42), nullable=False),
    Column("anchorer", String(42), nullable=False),
    Column("transaction_hash", String(66), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("gas_used", BigInteger, nullable=False),
)
challenges = Table(
    "challenges", metadata,
    Column("nonce", String(64), primary_key=True),
    Column("expires", Float, nullable=False),
    Column("used", Float, nullable=True),
)
consumed_nonces = Table(
    "consumed_nonces", metadata,
    Column("nonce_digest", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)


class NonceLogged(Exception):
    """An entry for this nonce is in the log already (raised inside the append's transaction)."""


def lock_head(conn: Any) -> tuple[int, str, str | None]:
    """(next seq, last record hash, the log's verifier or None) under the append lock, in one statement.

    The head row's no-op update takes SQLite's write lock / PostgreSQL's row lock before anything is read,
    so concurrent appenders queue (the second reads the head the first committed); RETURNING reads the
    head and the verifier's meta row in the same round trip. PostgreSQL reads that row in the snapshot the
    statement began with, before it waited for the lock: a log's first appenders may read no verifier
    while one was committed meanwhile, so an absent one is read again (a statement of its own, a new
    snapshot) before the caller writes it."""
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    row = conn.exec_driver_sql(
        "UPDATE log_head SET seq = seq WHERE id = 1 RETURNING seq, hash, "
        f"(SELECT value FROM log_meta WHERE name = {mark})", ("verifier",)).one()
    verifier = row[2]
    if verifier is None:
        verifier = conn.exec_driver_sql(f"SELECT value FROM log_meta WHERE name = {mark}", ("verifier",)).scalar()
    return int(row[0]), str(row[1]), None if verifier is None else str(verifier)


def append_entries(conn: Any, rows: Sequence[tuple[int, str, str | None, str]], digests: Sequence[str | None],
                   head: tuple[int, str]) -> None:
    """Write entries (seq, hash, subject index, record text), the nonces they consumed and the new head
    (next seq, last hash) in the caller's transaction, through the driver.

    SQLite: executemany (a loop in C). PostgreSQL: psycopg's executemany, which pipelines the rows in one
    round trip (an ``unnest`` of text arrays was three times slower: psycopg escapes every quote of a
    record's JSON for the array literal, and COPY is kept out of a path that must fail whole on a duplicate
    nonce). :class:`NonceLogged` if a nonce was consumed by an entry before (the caller's transaction is
    rolled back as the error leaves it: no entry, no head move)."""
    from sqlalchemy.exc import IntegrityError

    postgres = conn.dialect.name == "postgresql"
    if postgres and len(rows) == 1:
        _append_one_postgres(conn, rows[0], digests[0], head)
        return
    if rows:
        marks = "%s, %s, %s, %s" if postgres else "?, ?, ?, ?"
        conn.exec_driver_sql(f"INSERT INTO entries (seq, hash, subject_index, record) VALUES ({marks})",
                             rows[0] if len(rows) == 1 else list(rows))
    nonces = [(digest, row[0]) for digest, row in zip(digests, rows, strict=True) if digest is not None]
    if nonces:
        try:
            conn.exec_driver_sql("INSERT INTO consumed_nonces (nonce_digest, seq) VALUES "
                                 + ("(%s, %s)" if postgres else "(?, ?)"), nonces[0] if len(nonces) == 1 else nonces)
        except IntegrityError:
            raise NonceLogged() from None
    conn.exec_driver_sql("UPDATE log_head SET seq = %s, hash = %s WHERE id = 1" if postgres
                         else "UPDATE log_head SET seq = ?, hash = ? WHERE id = 1", head)


def _append_one_postgres(conn: Any, row: tuple[int, str, str | None, str], digest: str | None,
                         head: tuple[int, str]) -> None:
    """One entry, its nonce and the head in one statement (data-modifying CTEs, one round trip instead
    of three: what a single append costs beyond a bare INSERT is mostly round trips). A duplicate nonce
    fails the whole statement: :class:`NonceLogged`, nothing of it written."""
    from sqlalchemy.exc import IntegrityError

    sql = "WITH e AS (INSERT INTO entries (seq, hash, subject_index, record) VALUES (%s, %s, %s, %s))"
    params: list[Any] = list(row)
    if digest is not None:
        sql += ", n AS (INSERT INTO consumed_nonces (nonce_digest, seq) VALUES (%s, %s))"
        params += [digest, row[0]]
    sql += " UPDATE log_head SET seq = %s, hash = %s WHERE id = 1"
    try:
        conn.exec_driver_sql(sql, (*params, *head))
    except IntegrityError as exc:
        if digest is not None and getattr(getattr(exc.orig, "diag", None), "table_name", None) == "consumed_nonces":
            raise NonceLogged() from None
        raise


def log_url(target: str | os.PathLike[str] | None = None, *, home: str | os.PathLike[str] | None = None) -> str:
    """The SQLAlchemy URL of a log: a URL as given, a file path as SQLite, else ``$KAGA_VC_ACCESSLOG_URL``,
    else ``$KAGA_VC_HOME/accesslog.db``. ``postgresql://`` means psycopg 3."""
    text = os.fspath(target) if target is not None else os.environ.get(ENV_LOG_URL) or None
    if text is None:
        if home is None:
            from .._home import default_home

            home = default_home()
        text = str(Path(home) / DEFAULT_FILE)
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix):]
    if "://" in text:
        if not text.startswith(("sqlite", "postgresql+psycopg://")):
            raise InputError(MALFORMED_VALUE_ERROR, "an access log URL is sqlite:///PATH or postgresql://…")
        return text
    path = Path(text).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def open_engine(url: str) -> Engine:
    """An engine with the durability settings of this module; tables created if missing."""
    try:
        if url.startswith("sqlite"):
            db_file = sqlite_path(url)
            if db_file is not None:  # who presented what, where: 0600 (and so its -wal / -shm files)
                ensure_private_file(db_file)
            engine = create_engine(url, connect_args={"timeout": 30})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA busy_timeout=30000")
                use_wal(cursor)
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.close()

            _migrate_sqlite(url)
        else:
            engine = create_engine(url, pool_pre_ping=True)
            upgrade(engine, MIGRATIONS, VERSION_TABLE, HEAD_REVISION)  # pg_advisory_xact_lock: first opens queue
        return engine
    except SQLAlchemyError as exc:
        raise AccessLogError(LOG_UNAVAILABLE, f"cannot open the access log: {_describe(exc)}") from None


def _migrate_sqlite(url: str) -> None:
    """Run the migrations on SQLite through an engine of their own whose transactions begin with
    ``BEGIN IMMEDIATE`` (the write lock, the lock :func:`kaga_vc._migrations.upgrade` relies on), so that
    concurrent first opens queue; the log's own engine keeps WAL's lock-free reads."""
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _autocommit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _immediate(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        upgrade(engine, MIGRATIONS, VERSION_TABLE, HEAD_REVISION)
    finally:
        engine.dispose()


def _describe(exc: SQLAlchemyError) -> str:
    """The database's message without the statement and parameters SQLAlchemy appends."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else type(exc).__name__
    return text.splitlines()[0][:300] if text else type(exc).__name__
