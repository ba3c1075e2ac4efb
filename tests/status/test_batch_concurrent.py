"""Two batch runs of one CSV at once (into one --out, into two), a refused second run, and the repair of
an --out holding an unrecorded credential: never a released credential the records do not know.

Regression of issue 13: "the same CSV batch run twice at once into one --out (or into two) leaves
row-000001.jwt: validly signed, absent from the records, and a rerun does not repair it". The runs are
real processes of the city issuer (tests/status/_batch_worker.py) on SQLite records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from kaga_vc._encoding import b64url_decode
from kaga_vc.issuer import open_city_issuer
from kaga_vc.issuer.records import IssuanceStore, issued_table

from ._batch_worker import PASSWORD
from .test_batch_crash import BAD, ROOT, _write_csv, city_home  # noqa: F401 - the module's city fixture

ROWS = 240  # as written by _write_csv


def _start(csv_path: Path, out: Path, home: Path, url: str, lock_timeout: str = "60",
           hold: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **({"BATCH_WORKER_HOLD": str(hold)} if hold else {})}
    return subprocess.Popen([sys.executable, "-m", "tests.status._batch_worker", str(csv_path), str(out), str(home),
                             url, "1", "20", lock_timeout], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def _jti(path: Path) -> str:
    token = path.read_text().strip()
    return str(json.loads(b64url_decode(token.split("~")[0].split(".")[1]))["jti"])


def _check_outputs(url: str, outs: list[Path]) -> None:
    """Exactly one record per valid row, and every released file is one of them, released once."""
    with IssuanceStore.open(url) as store, store.engine.connect() as conn:
        records = {r.credential_id: r for r in conn.execute(sa.select(issued_table)).all()}
    valid = [n for n in range(1, ROWS + 1) if n not in BAD]
    assert sorted(int(r.row_key.split(":")[0]) for r in records.values()) == valid
    released: dict[int, str] = {}
    for out in outs:
        for path in out.glob("row-*.jwt"):
            number, cid = int(path.stem.split("-")[1]), _jti(path)
            assert cid in records, f"{path} holds a credential the records do not know"
            assert int(records[cid].row_key.split(":")[0]) == number
            assert number not in released, f"row {number} released twice"
            released[number] = cid
        assert not list((out / ".kaga-batch").glob("pending-*"))
    assert sorted(released) == valid  # every recorded credential released somewhere


@pytest.mark.parametrize("outputs", ["one", "two"])
def test_the_same_batch_twice_at_once(outputs: str, tmp_path: Path, city_home: Path) -> None:  # noqa: F811
    csv_path = tmp_path / "residents.csv"
    _write_csv(csv_path)
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    outs = [tmp_path / "out"] if outputs == "one" else [tmp_path / "out-a", tmp_path / "out-b"]
    first = _start(csv_path, outs[0], city_home, url)
    second = _start(csv_path, outs[-1], city_home, url)
    results = [_finish(first), _finish(second)]
    for code, _out, err in results:
        assert code == 0, err
    totals = [tuple(int(x) for x in out.strip().splitlines()[-1].split()[1:]) for _code, out, _err in results]
    valid = ROWS - len(BAD)
    # one run issued everything, the other waited for it and found every row issued by an earlier run
    assert sorted(totals) == sorted([(valid, 0, len(BAD)), (0, valid, len(BAD))])
    _check_outputs(url, outs)


def test_a_second_run_that_will_not_wait_is_refused_with_a_clear_message(tmp_path: Path,
                                                                          city_home: Path) -> None:  # noqa: F811
    csv_path = tmp_path / "residents.csv"
    _write_csv(csv_path)
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    release = tmp_path / "release"
    first = _start(csv_path, tmp_path / "out", city_home, url, hold=release)
    assert first.stdout is not None
    first.stdout.readline()  # the first row is committed and the run pauses, holding its locks
    for out in (tmp_path / "out", tmp_path / "elsewhere"):  # the same input, into the same or another --out
        code, _out, err = _finish(_start(csv_path, out, city_home, url, lock_timeout="0"))
        assert code != 0 and "kaga:batch-in-progress" in err
        assert not list(out.glob("row-*")) or out == tmp_path / "out"
    release.touch()
    code, _out, err = _finish(first)
    assert code == 0, err
    _check_outputs(url, [tmp_path / "out"])


def test_a_rerun_removes_an_unrecorded_credential_and_releases_committed_ones(tmp_path: Path,
                                                                              city_home: Path) -> None:  # noqa: F811
    csv_path, out = tmp_path / "residents.csv", tmp_path / "out"
    _write_csv(csv_path)
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    code, _o, err = _finish(_start(csv_path, out, city_home, url))
    assert code == 0, err
    # what two racing runs of an older version left: row 3's file replaced by a validly signed
    # credential that was never recorded; and a released file lost (row 4), still in a staging file
    released = (out / "row-000004.jwt").read_text()
    cid4 = _jti(out / "row-000004.jwt")
    (out / "row-000004.jwt").unlink()
    (out / ".kaga-batch" / "pending-crashed.jsonl").write_text(
        json.dumps({"row": 4, "ext": "jwt", "id": cid4, "doc": released}) + "\n"
        + json.dumps({"row": 5, "ext": "jwt", "id": "urn:uuid:never-recorded", "doc": "x.y.z\n"}) + "\n")
    with open_city_issuer(PASSWORD, home=city_home, records_url=f"sqlite:///{tmp_path / 'other.sqlite3'}") as city:
        stray = city.issue("residency", "did:key:z6MkrjRHEkqrpR8JWaGjjBbJpheVPU4VtnamjarpdSSpHYaQ",
                           {"fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-02-03",
                            "address": "石川県 加賀市 大聖寺南町 ニ41", "residentSince": "2015-04-01",
                            "evidence": ["residenceCard"]}, staff="x", record=False)
    (out / "row-000003.jwt").write_text(stray.serialise())
    started = time.monotonic()
    code, text, err = _finish(_start(csv_path, out, city_home, url))
    assert code == 0, err
    assert text.strip().splitlines()[-1] == f"done 0 {ROWS - len(BAD)} {len(BAD)}"
    assert time.monotonic() - started < 120
    assert not (out / "row-000003.jwt").exists()  # removed: the city could never have revoked it
    assert (out / "row-000004.jwt").read_text() == released  # released from the records' staging copy
    assert (out / "row-000005.jwt").read_text() != "x.y.z\n"  # the staged, never-recorded one is dropped
    with IssuanceStore.open(url) as store:
        assert store.get(stray.id) is None
        assert store.get(_jti(out / "row-000005.jwt")) is not None
