"""The CLI's one error boundary: typed errors and STYLE §9 exit codes, never a Python traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.cli._common import ExitCode

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def _error(result) -> dict:
    assert not (result.exception and not isinstance(result.exception, SystemExit)), repr(result.exception)
    return json.loads(result.stdout)["error"]


def test_password_file_that_is_not_utf8_is_bad_input(tmp_path: Path) -> None:
    password = tmp_path / "pw"
    password.write_bytes(b"\xff\xfe\x00not text")
    result = invoke("key", "generate", "--type", "ed25519", "--out", str(tmp_path / "k.json"),
                    "--password-file", str(password), "--json")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert _error(result)["code"] == "PARSING_ERROR"
    assert not (tmp_path / "k.json").exists()


@pytest.mark.parametrize("args", [
    ("city", "init", "--json"),
    ("chain", "info", "--json"),
    ("wallet", "init", "--json"),
    ("log", "show", "--json"),
    ("issued", "list", "--json"),
    ("request", "create", "--purpose", "x", "--claims", "KycCredential:ageOver18", "--json"),
], ids=lambda a: " ".join(a[:2]))
def test_a_kaga_vc_home_that_is_a_file_is_a_typed_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = tmp_path / "home"
    home.write_text("not a directory\n")
    result = invoke(*args, env={"KAGA_VC_HOME": str(home), "KAGA_VC_PASSWORD": "pw-for-tests"})
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    error = _error(result)
    assert error["code"] == "kaga:filesystem-error"
    assert str(home) in error["detail"]
    assert home.read_text() == "not a directory\n"


def test_usage_error_under_json_is_one_json_document(tmp_path: Path) -> None:
    result = invoke("did", "create", "--method", "key", "--key", str(tmp_path / "missing.json"), "--json")
    assert result.exit_code == ExitCode.USAGE
    error = _error(result)
    assert error["code"] == "kaga:usage-error" and "--key" in error["detail"]
    assert "Usage" in result.stderr  # the human message still goes to stderr


def test_usage_error_without_json_keeps_stdout_empty() -> None:
    result = invoke("log", "show", "--limit", "0")
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""


def test_a_bug_is_exit_5_with_one_line_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       password_env: str) -> None:
    from kaga_vc.cli import key as key_cli

    def broken(*args: object, **kwargs: object) -> None:
        raise TypeError("an unexpected bug")

    monkeypatch.setattr(key_cli, "describe_key", broken)
    result = invoke("key", "generate", "--type", "ed25519", "--out", str(tmp_path / "k.json"), "--json")
    assert result.exit_code == ExitCode.INTERNAL
    error = _error(result)
    assert error["code"] == "kaga:internal-error" and "TypeError" in error["detail"]
    assert "Traceback" not in result.stderr


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("")
    env = {**os.environ, "KAGA_VC_HOME": str(home), "KAGA_VC_PASSWORD": "pw-for-tests"}
    proc = subprocess.run([sys.executable, "-c", "from kaga_vc.cli import main; main()", "wallet", "init", "--json"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr
    assert json.loads(proc.stdout)["error"]["code"] == "kaga:filesystem-error"
    assert "Traceback" not in proc.stderr
