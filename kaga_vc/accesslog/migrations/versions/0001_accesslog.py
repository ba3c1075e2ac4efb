"""The access log as first released: meta (log id, key check), the head row, entries, anchored batches and
subject-access challenges.

Idempotent (``checkfirst``): a log created before migrations existed (``create_all``) is adopted as it
is. The tables are spelled out here, frozen, not taken from the live metadata.

Revision ID: 0001_accesslog
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_accesslog"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> sa.MetaData:
    md = sa.MetaData()
    sa.Table(
        "log_meta", md,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    sa.Table(
        "log_head", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    entries = sa.Table(
        "entries", md,
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("subject_index", sa.String(64), nullable=True),
        sa.Column("record", sa.Text, nullable=False),
    )
    sa.Index("ix_entries_subject_index", entries.c.subject_index)
    sa.Table(
        "anchors", md,
        sa.Column("first_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("contract", sa.String(42), nullable=False),
        sa.Column("anchorer", sa.String(42), nullable=False),
        sa.Column("transaction_hash", sa.String(66), nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("gas_used", sa.BigInteger, nullable=False),
    )
    sa.Table(
        "challenges", md,
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("expires", sa.Float, nullable=False),
        sa.Column("used", sa.Float, nullable=True),
    )
    return md


def upgrade() -> None:
    _tables().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _tables().drop_all(op.get_bind(), checkfirst=True)
