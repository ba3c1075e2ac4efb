"""Batch issuance survives SIGKILL at random points: the final run issues every row exactly once.

The process killed is the real thing: the city issuer (keys from its keystores, SD-JWT VC with status
entries) over the batch engine and the issuance records, on SQLite and on a PostgreSQL server.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from kaga_vc._encoding import b64url_decode
from kaga_vc.did.key import did_key_from_public_key
from kaga_vc.issuer import init_city
from kaga_vc.issuer.batch import batch_id_of, read_csv_rows
from kaga_vc.issuer.records import IssuanceStore, batch_rows_table, issued_table
from kaga_vc.keys import KeyType, PrivateKey

from ._batch_worker import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ROWS = 240
BAD = {7, 58, 121, 200}  # rows with an invalid birth date


def _subject(n: int) -> str:
    key = PrivateKey.from_bytes(KeyType.ED25519, n.to_bytes(4, "big") * 8)
    return did_key_from_public_key(key.public_key)


def _write_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["type", "subject", "fullName", "fullNameKana", "birthDate", "address", "residentSince",
                         "evidence"])
        for n in range(1, ROWS + 1):
            birth = "2999-01-01" if n in BAD else f"19{50 + n % 50}-0{1 + n % 9}-1{n % 10}"
            writer.writerow(["residency", _subject(n), f"加賀 太郎{n}", "カガ タロウ", birth,
                             "石川県 加賀市 大聖寺南町 ニ41", "2001-04-01", "residenceCard"])


@pytest.fixture(scope="module")
def city_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("batch-city")
    init_city(PASSWORD, home=home, scrypt_n=2**10)
    return home


def _run(args: list[str], kill_after: int | None) -> tuple[int, list[str]]:
    """Run the worker; SIGKILL it after ``kill_after`` rows are done (None: let it finish)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tests.status._batch_worker", *args], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    assert process.stdout is not None
    try:
        for line in process.stdout:
            lines.append(line.strip())
            if kill_after is not None and len(lines) >= kill_after:
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if kill_after is None and process.returncode != 0:
        raise AssertionError(process.stderr.read() if process.stderr else "worker failed")
    return process.returncode, lines


@pytest.mark.parametrize(("backend", "workers"), [("sqlite", "1"), ("postgresql", "2")])
def test_kill_at_random_points_then_finish(backend: str, workers: str, tmp_path: Path, city_home: Path,
                                           request: pytest.FixtureRequest) -> None:
    csv_path, out = tmp_path / "residents.csv", tmp_path / "out"
    result = out / "results.csv"
    _write_csv(csv_path)
    url = (f"sqlite:///{tmp_path / 'records.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("postgres_database"))
    args = [str(csv_path), str(out), str(city_home), url, workers, "7"]
    rng = random.Random(20260401)
    kills = 0
    for _ in range(5):  # each run gets a little further, then dies at a random row
        code, lines = _run(args, kill_after=rng.randint(5, 45))
        if lines and lines[-1].startswith("done"):
            break
        assert code == -signal.SIGKILL
        kills += 1
    assert kills >= 3
    code, lines = _run(args, kill_after=None)
    assert lines[-1].startswith("done")

    valid = [n for n in range(1, ROWS + 1) if n not in BAD]
    batch = batch_id_of(read_csv_rows(csv_path))
    with IssuanceStore.open(url) as store, store.engine.connect() as conn:
        records = conn.execute(sa.select(issued_table)).all()
        journal = conn.execute(sa.select(batch_rows_table).where(batch_rows_table.c.batch_id == batch)).all()
    # the records: exactly one per valid row, each with its own status index
    assert len(records) == len(valid)
    assert sorted(int(r.row_key.split(":")[0]) for r in records) == valid
    assert len({(r.status_list_id, r.status_index) for r in records}) == len(valid)
    # the journal agrees with the records
    assert sorted(j.row_number for j in journal) == valid
    by_row = {j.row_number: j.credential_id for j in journal}
    assert {r.credential_id for r in records} == set(by_row.values())

    # the output files: one per valid row, nothing else, each the credential that was recorded
    files = sorted(p.name for p in out.iterdir() if p.name not in ("results.csv", ".kaga-batch"))
    assert files == [f"row-{n:06d}.jwt" for n in valid]
    for n in valid:
        token = (out / f"row-{n:06d}.jwt").read_text()
        payload = json.loads(b64url_decode(token.split("~")[0].split(".")[1]))
        assert payload["jti"] == by_row[n] and payload["status"]
        assert payload["sub"] == _subject(n)

    # the result file: one line per row, in order; rejected rows with their code
    with result.open(encoding="utf-8") as handle:
        lines_out = list(csv.DictReader(handle))
    assert [int(line["row"]) for line in lines_out] == list(range(1, ROWS + 1))
    assert {int(line["row"]) for line in lines_out if line["outcome"] == "rejected"} == BAD
    assert all(line["code"] for line in lines_out if line["outcome"] == "rejected")
    assert {line["credentialId"] for line in lines_out if line["outcome"] == "issued"} == set(by_row.values())
    assert not list(out.glob(".*.tmp"))
    assert not list((out / ".kaga-batch").glob("pending-*"))  # every staged group released or dropped
