"""Schema migrations of the issuance records: concurrent first opens on a fresh real PostgreSQL database,
an adopted pre-migration database, the head revision, and the pool sized from settings.

Regression of issue 13: "two of three concurrent first opens fail in create_all (duplicate key …
pg_type_typname_nsp_index); there are no schema migrations".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from kaga_vc._migrations import current_revision
from kaga_vc.errors import RecordsError
from kaga_vc.issuer.records import (
    HEAD_REVISION,
    MIGRATIONS,
    VERSION_TABLE,
    IssuanceStore,
    metadata,
)

ROOT = Path(__file__).resolve().parents[2]
OPEN = ("import sys, time; from kaga_vc.issuer.records import IssuanceStore\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "with IssuanceStore.open(sys.argv[1]) as s: print(s.count())\n")


def test_three_concurrent_first_opens_on_a_fresh_postgresql_database_all_succeed(postgres_database: str) -> None:
    import time

    start = str(time.time() + 3.0)  # all three processes open at the same instant
    processes = [subprocess.Popen([sys.executable, "-c", OPEN, postgres_database, start], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err for _out, err in results]
    assert [out.strip() for out, _err in results] == ["0", "0", "0"]
    with IssuanceStore.open(postgres_database) as store:
        assert current_revision(store.engine, VERSION_TABLE) == HEAD_REVISION
        tables = set(sa.inspect(store.engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables


def test_a_database_made_before_migrations_is_adopted_with_its_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    metadata.create_all(engine)  # what every earlier version did
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO kaga_status_lists (list_id, size, created_at, seq, allocated) "
                             "VALUES ('L', 131072, '2026-01-01T00:00:00+00:00', 1, 0)"))
    engine.dispose()
    with IssuanceStore.open(url) as store:
        assert [info.list_id for info in store.status_lists()] == ["L"]
        assert current_revision(store.engine, VERSION_TABLE) == HEAD_REVISION


def test_the_head_revision_is_the_newest_script() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_the_pool_is_sized_from_settings(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGA_VC_DB_POOL_SIZE", "7")
    monkeypatch.setenv("KAGA_VC_DB_MAX_OVERFLOW", "3")
    with IssuanceStore.open(postgres_url) as store:
        assert (store.engine.pool.size(), store.engine.pool._max_overflow) == (7, 3)  # type: ignore[attr-defined]
    with IssuanceStore.open(postgres_url, pool_size=2, max_overflow=0) as store:
        assert store.engine.pool.size() == 2
    monkeypatch.setenv("KAGA_VC_DB_POOL_SIZE", "lots")
    with pytest.raises(RecordsError):
        IssuanceStore.open(postgres_url)


def test_three_concurrent_first_opens_of_the_access_log_on_fresh_postgresql_all_succeed(
    postgres_database: str,
) -> None:
    import time

    code = ("import sys, time; from kaga_vc.accesslog._store import log_url, open_engine\n"
            "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
            "open_engine(log_url(sys.argv[1])).dispose(); print('ok')\n")
    start = str(time.time() + 3.0)
    processes = [subprocess.Popen([sys.executable, "-c", code, postgres_database, start], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err for _out, err in results]
