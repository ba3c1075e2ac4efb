"""The CLI's paper cuts (issue 17): exit codes, wallet add/remove/init, confirmation, QR images, tables."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.cli._common import ExitCode
from kaga_vc.holder import create_wallet, open_wallet
from kaga_vc.verifier import CredentialQuery, create_request
from kaga_vc.verifier.qr import write_qr

from .holder.test_wallet import sd_jwt_for
from .verifier.conftest import FAST, did_key_signer

runner = CliRunner()
PASSWORD = "wallet password"


@pytest.fixture
def wallet_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    monkeypatch.setenv("KAGA_VC_PASSWORD", PASSWORD)
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path / "home"))
    wallet = create_wallet(tmp_path / "w.json", PASSWORD, scrypt_n=FAST)
    credential = sd_jwt_for(did_key_signer(), wallet)
    (tmp_path / "kyc.sd-jwt").write_text(credential + "\n")
    return tmp_path / "w.json", credential


def _request(tmp_path: Path) -> Path:
    request = create_request(signer=did_key_signer(), purpose="hotel check-in", location="山代温泉, front desk",
                             credentials=[CredentialQuery("KycCredential", ("ageOver18",))])
    (tmp_path / "request.jwt").write_text(request.token + "\n")
    write_qr(request.token, tmp_path / "request.png")
    Image.open(tmp_path / "request.png").convert("RGB").save(tmp_path / "request.jpg", quality=90)
    return tmp_path / "request.jwt"


def test_wallet_init_twice_is_not_an_error(wallet_file: tuple[Path, str]) -> None:
    path, _ = wallet_file
    before = path.read_bytes()
    result = runner.invoke(app, ["wallet", "init", "--wallet", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"did": open_wallet(path, PASSWORD).did, "wallet": str(path), "created": False}
    assert path.read_bytes() == before


def test_wallet_add_duplicate_says_so_and_remove(wallet_file: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = wallet_file
    first = runner.invoke(app, ["wallet", "add", str(tmp_path / "kyc.sd-jwt"), "--wallet", str(path), "--json"])
    assert first.exit_code == 0, first.output
    (added,) = json.loads(first.stdout)["added"]
    again = runner.invoke(app, ["wallet", "add", str(tmp_path / "kyc.sd-jwt"), "--wallet", str(path)])
    assert again.exit_code == 0 and "already in the wallet" in again.output
    assert len(open_wallet(path, PASSWORD).credentials()) == 1
    removed = runner.invoke(app, ["wallet", "remove", added["id"], "--wallet", str(path)])
    assert removed.exit_code == 0 and added["id"] in removed.output
    assert open_wallet(path, PASSWORD).credentials() == []
    missing = runner.invoke(app, ["wallet", "remove", added["id"], "--wallet", str(path)])
    assert missing.exit_code == ExitCode.BAD_INPUT


def test_log_export_without_anonymized_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["log", "export", "--out", str(tmp_path / "o")])
    assert result.exit_code == ExitCode.USAGE
    assert "--anonymized" in result.output


@pytest.mark.parametrize("source", ["request.jwt", "request.png", "request.jpg"])
def test_wallet_present_reads_the_request_or_its_qr_image(wallet_file: tuple[Path, str], tmp_path: Path,
                                                          source: str) -> None:
    path, credential = wallet_file
    open_wallet(path, PASSWORD).add(credential)
    _request(tmp_path)
    result = runner.invoke(app, ["wallet", "present", str(tmp_path / source), "--wallet", str(path), "--yes",
                                 "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["response"].startswith("KVP1:") and list(answer["disclosed"].values()) == [["ageOver18"]]


def test_an_image_without_a_qr_code_is_bad_input(wallet_file: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = wallet_file
    Image.new("RGB", (64, 64), "white").save(tmp_path / "blank.png")
    result = runner.invoke(app, ["wallet", "present", str(tmp_path / "blank.png"), "--wallet", str(path), "--json"])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert json.loads(result.stdout)["error"]["code"] == "kaga:qr-unreadable"


def _on_a_terminal(args: list[str], answer: bytes, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run a command with a real pseudo-terminal as stdin/stdout, type ``answer`` at the prompt."""
    main, child = pty.openpty()
    proc = subprocess.Popen(args, stdin=child, stdout=child, stderr=child, env=env, close_fds=True)
    os.close(child)
    seen, deadline, answered = b"", time.monotonic() + timeout, False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"Disclose this?" in seen:
            os.write(main, answer)
            answered = True
        if proc.poll() is not None and not ready:
            break
    code = proc.wait(timeout=10)
    os.close(main)
    return code, seen.decode("utf-8", "replace")


def test_wallet_present_shows_the_disclosure_and_asks_on_a_terminal(wallet_file: tuple[Path, str],
                                                                    tmp_path: Path) -> None:
    path, credential = wallet_file
    open_wallet(path, PASSWORD).add(credential)
    _request(tmp_path)
    kaga_vc = str(Path(sys.executable).parent / "kaga-vc")
    env = {**os.environ, "COLUMNS": "100"}
    out = tmp_path / "response.txt"
    args = [kaga_vc, "wallet", "present", str(tmp_path / "request.jwt"), "--wallet", str(path), "--out", str(out)]
    code, screen = _on_a_terminal(args, b"n\n", env)
    assert code == ExitCode.ABORTED, screen
    assert "hotel check-in" in screen and "山代温泉" in screen and "ageOver18" in screen and "KycCredential" in screen
    assert not out.exists()  # nothing written when the resident declines
    code, screen = _on_a_terminal(args, b"y\n", env)
    assert code == 0, screen
    assert out.read_text().startswith("KVP1:")


@pytest.mark.parametrize(("claims", "hint"), [("KycCredntial:ageOver18", "did you mean KycCredential?"),
                                              ("KycCredential:ageover18", "did you mean ageOver18?"),
                                              ("ageOver81", "did you mean ageOver18?")])
def test_request_create_checks_types_and_claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claims: str,
                                                hint: str) -> None:
    monkeypatch.setenv("KAGA_VC_PASSWORD", PASSWORD)
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["request", "create", "--purpose", "bar", "--claims", claims, "--json"])
    assert result.exit_code == ExitCode.BAD_INPUT
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "kaga:request-invalid" and hint in error["detail"]
    assert not (tmp_path / "home").exists()  # refused before any key was made
    ok = runner.invoke(app, ["request", "create", "--purpose", "bar", "--claims", "ResidencyCredential:residentOfKaga",
                             "--claims", "PeerCredential:x", "--allow-unknown", "--json"])
    assert ok.exit_code == 0, ok.output
