"""Alembic environment of the issuance records: always on the connection the store opened."""

from __future__ import annotations

from alembic import context

from kaga_vc._migrations import run_env

run_env(context)
