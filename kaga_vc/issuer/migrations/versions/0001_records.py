"""The issuance records as first released: status lists and allocations, issued credentials, status
events and the batch journal.

Idempotent (``checkfirst``): a database created before migrations existed (``create_all``) is adopted
as it is. The tables are spelled out here, frozen, not taken from the live metadata.

Revision ID: 0001_records
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_records"
down_revision = None
branch_labels = None
depends_on = None

_TIME = sa.String(40)


def _tables() -> sa.MetaData:
    md = sa.MetaData()
    sa.Table(
        "kaga_status_lists", md,
        sa.Column("list_id", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("allocated", sa.Integer, nullable=False, server_default="0"),
    )
    sa.Table(
        "kaga_status_allocations", md,
        sa.Column("list_id", sa.String(64), sa.ForeignKey("kaga_status_lists.list_id"), primary_key=True),
        sa.Column("status_index", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("allocated_at", _TIME, nullable=False),
    )
    issued = sa.Table(
        "kaga_issued_credentials", md,
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
    sa.Index("kaga_issued_subject", issued.c.subject_did)
    sa.Index("kaga_issued_list_status", issued.c.status_list_id, issued.c.status)
    sa.Table(
        "kaga_status_events", md,
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("credential_id", sa.String(512), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("staff", sa.String(200)),
    )
    sa.Table(
        "kaga_batch_rows", md,
        sa.Column("batch_id", sa.String(64), primary_key=True),
        sa.Column("row_key", sa.String(128), primary_key=True),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("credential_id", sa.String(512)),
        sa.Column("code", sa.String(100)),
        sa.Column("at", _TIME, nullable=False),
    )
    return md


def upgrade() -> None:
    _tables().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _tables().drop_all(op.get_bind(), checkfirst=True)
