"""Alembic environment of the access log: always on the connection the log opened."""

from __future__ import annotations

from alembic import context

from kaga_vc._migrations import run_env

run_env(context)
