"""Signed tree heads (issue 12): the table of the heads this log anchored, one per (tree size, root) over the
whole log, as the new ``KagaAccessAnchor`` keeps them on chain.

The ``anchors`` table of revision 0001 (batches with their own roots on the first anchor contract) is kept
as it is, read-only: ``log verify`` still recomputes those batch roots, and the next head covers those
entries again from entry 0. The log's identity lives in ``log_meta`` (name/value rows): no change there.

Revision ID: 0002_tree_heads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_tree_heads"
down_revision = "0001_accesslog"
branch_labels = None
depends_on = None


def _tables() -> sa.MetaData:
    md = sa.MetaData()
    sa.Table(
        "tree_heads", md,
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("head_index", sa.BigInteger, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("contract", sa.String(42), nullable=False),
        sa.Column("anchorer", sa.String(42), nullable=False),
        sa.Column("transaction_hash", sa.String(66), nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("gas_used", sa.BigInteger, nullable=False),
    )
    return md


def upgrade() -> None:
    _tables().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _tables().drop_all(op.get_bind(), checkfirst=True)
