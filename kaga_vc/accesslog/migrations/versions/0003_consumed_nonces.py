"""The nonces entries consumed: ``consumed_nonces`` (SHA-256 of a presentation-request nonce, primary key;
the seq of the entry that consumed it), written in the entry's own transaction (issue 13).

Revision ID: 0003_consumed_nonces
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_consumed_nonces"
down_revision = "0002_tree_heads"
branch_labels = None
depends_on = None


def _tables() -> sa.MetaData:
    md = sa.MetaData()
    sa.Table(
        "consumed_nonces", md,
        sa.Column("nonce_digest", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    return md


def upgrade() -> None:
    _tables().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _tables().drop_all(op.get_bind(), checkfirst=True)
