"""Schema migrations (Alembic) for the project's databases, safe when several processes open at once.

Each store keeps its migration scripts in a package of its own (``kaga_vc/issuer/migrations``, ``kaga_vc/accesslog/migrations``) and
its own version table, so the issuance records and the access log can share one database. Opening a
store calls :func:`upgrade`: when the version table already names the newest revision (every open
but the first) it costs one SELECT and Alembic is not even imported; otherwise the migration runs in
one transaction under a lock — ``pg_advisory_xact_lock`` on PostgreSQL, the write lock taken by
``BEGIN IMMEDIATE`` on SQLite — so concurrent first opens queue, and the later ones find the schema
done instead of racing to create the same tables and types.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError


def current_revision(engine: Engine, version_table: str) -> str | None:
    """The revision recorded in ``version_table``, or None (no table yet, or empty)."""
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(f'SELECT version_num FROM "{version_table}"')).first()
    except SQLAlchemyError:
        return None
    return None if row is None else str(row[0])


def upgrade(engine: Engine, scripts: Path, version_table: str, head: str) -> None:
    """Bring the database of ``engine`` to ``head`` with the Alembic scripts in ``scripts``."""
    if current_revision(engine, version_table) == head:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.attributes["version_table"] = version_table
    key = int(hashlib.sha256(version_table.encode()).hexdigest()[:15], 16)
    with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE (the store's "begin" listener) is the lock
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def run_env(context: Any) -> None:
    """The body of every ``env.py``: migrate on the connection :func:`upgrade` holds, in its transaction."""
    config = context.config
    conn = config.attributes["connection"]
    context.configure(connection=conn, version_table=config.attributes["version_table"],
                      transaction_per_migration=False)
    context.run_migrations()

