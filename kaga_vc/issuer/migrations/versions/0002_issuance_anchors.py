"""Issuance anchors (issue 12): the digest of every issued credential and the on-chain batches that hold it.

``kaga_issued_digests``: per issued credential (written in its issuance transaction) its digest
(:func:`kaga_vc.credentials.credential_digest`, hex, primary key), credential id, signing verification
method and issuance time. ``kaga_issuance_anchors``: per anchored batch its Merkle root (primary key),
log id, size, chain, contract, anchoring account, transaction, block and the block's time.
``kaga_issuance_anchor_leaves``: which digest is leaf ``i`` of which batch, enough to rebuild every
inclusion proof. A digest with no leaf is issued but not yet anchored (``kaga-vc city anchor --pending``).

Revision ID: 0002_issuance_anchors
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_issuance_anchors"
down_revision = "0001_records"
branch_labels = None
depends_on = None

_TIME = sa.String(40)


def _tables() -> sa.MetaData:
    md = sa.MetaData()
    digests = sa.Table(
        "kaga_issued_digests", md,
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("credential_id", sa.String(512)),
        sa.Column("verification_method", sa.String(512)),
        sa.Column("issued_at", _TIME),
        sa.Column("recorded_at", _TIME, nullable=False),
    )
    sa.Index("kaga_issued_digests_method", digests.c.verification_method)
    sa.Index("kaga_issued_digests_credential", digests.c.credential_id)
    sa.Table(
        "kaga_issuance_anchors", md,
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
    leaves = sa.Table(
        "kaga_issuance_anchor_leaves", md,
        sa.Column("root", sa.String(64), primary_key=True),
        sa.Column("leaf_index", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String(64), nullable=False),
    )
    sa.Index("kaga_issuance_anchor_leaves_digest", leaves.c.digest)
    return md


def upgrade() -> None:
    _tables().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _tables().drop_all(op.get_bind(), checkfirst=True)
