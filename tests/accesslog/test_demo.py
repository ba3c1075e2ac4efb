"""``kaga-vc demo`` tells the whole story on the embedded chain, in under a minute."""

from __future__ import annotations

import time
from pathlib import Path

from typer.testing import CliRunner

from kaga_vc.accesslog import AccessLog
from kaga_vc.cli._app import app


def test_demo_runs_the_whole_story(tmp_path: Path) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path)])
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert took < 60
    out = result.output
    for expected in ("city DID did:ethr:0x539:", "ryokan: Hanako accepted", "kaga:credential-revoked",
                     "anchored on chain", "log verify: verified", "proof checked against block", "demo complete"):
        assert expected in out, expected
    run = tmp_path / "run-1"  # each run gets its own folder under --workdir
    # one log per shop (a log is one verifier's): each names its shop alone, verifies and is anchored
    results = {}
    for shop in ("ryokan", "sake-shop", "clinic"):
        with AccessLog.open(str(run / shop / "accesslog.db"), log_key=None) as log:
            identity = log.identity()
            assert identity is not None and log.verify().ok and log.batches()[0].size == len(log)
            assert {e.body["verifier"] for e in log.entries()} == {identity.verifier}
            results[shop] = [e.body["result"] for e in log.entries()]
    assert results == {"ryokan": ["accepted"] * 2, "sake-shop": ["accepted"], "clinic": ["accepted", "refused"]}
    assert not (run / "home" / "accesslog.db").exists()  # no log shared by the shops
    assert (run / "open-data" / "access-counts.csv").read_text().count("\n") >= 2
    # plain words, not Python reprs; every kept file listed
    assert "verified=" not in out and "['" not in out and "None" not in out
    for kept in ("env", "password.txt", "trust-bundle.jwt", "hanako/kyc.sd-jwt", "ryokan/visit-1-request.png",
                 "hanako/visit-1-response.png", "ryokan/verifier-key.json", "open-data/access-counts.csv"):
        assert (run / kept).is_file(), kept
        assert f"  {kept}" in out, kept
    # the resident's history: one line per visit, none repeated
    history = [line for line in out.splitlines() if "proof checked against block" in line]
    assert len(history) == 2 and len(set(history)) == 2


def test_demo_runs_twice_in_the_same_workdir(tmp_path: Path) -> None:
    for _ in range(2):
        result = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert "demo complete" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-1", "run-2"]
    with AccessLog.open(str(tmp_path / "run-2" / "clinic" / "accesslog.db"), log_key=None) as log:
        assert len(log) == 2 and log.verify().ok
