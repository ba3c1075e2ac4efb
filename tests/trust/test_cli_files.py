"""Issue 13: ``issue --out`` wrote name and birth date 0644 through a planted symlink; ``bundle sync --out`` followed symlinks."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app

from ..issuer.conftest import resident_did


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("trust-city")


@pytest.fixture
def env(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAGA_VC_HOME", str(home))
    monkeypatch.setenv("KAGA_VC_PASSWORD", "correct horse battery staple")
    monkeypatch.delenv("KAGA_VC_RPC_URL", raising=False)
    monkeypatch.delenv("KAGA_VC_RECORDS_URL", raising=False)
    monkeypatch.delenv("KAGA_VC_TRUSTED_CITY", raising=False)
    result = CliRunner().invoke(app, ["city", "init", "--json"])
    assert result.exit_code == 0, result.output
    return home


def test_issue_out_is_0600_and_does_not_follow_a_symlink(env: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    planted = tmp_path / "kyc.jwt"
    planted.symlink_to(victim)
    result = CliRunner().invoke(app, ["issue", "kyc", "--subject", resident_did(3), "--name", "山田 太郎",
                                      "--name-kana", "ヤマダ タロウ", "--birth-date", "1980-01-01",
                                      "--evidence", "myNumberCardPublicKey", "--out", str(planted), "--json"])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "keep me\n"
    assert not planted.is_symlink() and stat.S_IMODE(planted.stat().st_mode) == 0o600
    assert planted.read_text().count("~") >= 1  # the SD-JWT landed in the file itself
    assert stat.S_IMODE((env / "issuance.sqlite3").stat().st_mode) == 0o600


def test_bundle_sync_out_does_not_follow_a_symlink(env: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    planted = tmp_path / "trust-bundle.jwt"
    planted.symlink_to(victim)
    result = CliRunner().invoke(app, ["bundle", "sync", "--out", str(planted), "--json"])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "keep me\n"
    assert not planted.is_symlink() and json.loads(result.stdout)["out"] == str(planted)
