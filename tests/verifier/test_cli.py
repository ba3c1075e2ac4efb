"""The CLI flow a city, a resident and a ryokan run: city init → issue → wallet → bundle → request → present → verify."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app

runner = CliRunner()


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-home")


@pytest.fixture(autouse=True)
def env(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGA_VC_HOME", str(home))
    monkeypatch.setenv("KAGA_VC_PASSWORD", "correct horse battery staple")
    monkeypatch.delenv("KAGA_VC_TRUSTED_CITY", raising=False)
    monkeypatch.delenv("KAGA_VC_RPC_URL", raising=False)


def test_cli_flow(home: Path, tmp_path: Path) -> None:
    city = json.loads(invoke("city", "init", "--json").stdout)["did"]  # type: ignore[attr-defined]
    result = invoke("wallet", "init")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    holder = result.stdout.strip()  # type: ignore[attr-defined]
    assert holder.startswith("did:key:z6Mk")
    time.sleep(1.1)  # the embedded chain's blocks may be stamped ahead of the clock
    kyc = tmp_path / "kyc.jwt"
    result = invoke("issue", "kyc", "--subject", holder, "--name", "加賀 太郎", "--name-kana", "カガ タロウ",
                    "--birth-date", "1980-04-01", "--evidence", "myNumberCardPublicKey", "--out", str(kyc))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    added = json.loads(invoke("wallet", "add", str(kyc), "--json").stdout)["added"]  # type: ignore[attr-defined]
    assert added[0]["types"] == ["KycCredential"]
    listed = json.loads(invoke("wallet", "list", "--json").stdout)  # type: ignore[attr-defined]
    assert listed["did"] == holder and "加賀" not in json.dumps(listed, ensure_ascii=False)  # names, never values

    bundle = tmp_path / "bundle.jwt"
    summary = json.loads(invoke("bundle", "sync", "--out", str(bundle), "--json").stdout)  # type: ignore[attr-defined]
    assert summary["city"] == city and summary["issuers"][0]["did"] == city and len(summary["statusLists"]) == 2
    shown = json.loads(invoke("bundle", "show", str(bundle), "--json").stdout)  # type: ignore[attr-defined]
    assert shown["digest"] == summary["digest"]
    assert invoke("bundle", "verify", str(bundle), "--city", city).exit_code == 0  # type: ignore[attr-defined]
    assert invoke("bundle", "verify", str(bundle), "--max-age", "-1").exit_code == 1  # type: ignore[attr-defined]
    other = invoke("bundle", "verify", str(bundle), "--city", "did:ethr:0x539:0x" + "22" * 20, "--json")
    assert other.exit_code == 1  # type: ignore[attr-defined]
    assert json.loads(other.stdout)["error"]["code"] == "kaga:bundle-signer-not-trusted"  # type: ignore[attr-defined]

    request, qr = tmp_path / "request.jwt", tmp_path / "request.svg"
    created = invoke("request", "create", "--purpose", "hotel check-in", "--claims", "KycCredential:ageOver18",
                     "--name", "ゆのくに 旅館", "--location", "山代温泉", "--qr", str(qr), "--out", str(request),
                     "--json")
    assert created.exit_code == 0, created.output  # type: ignore[attr-defined]
    assert "<svg" in qr.read_text() and json.loads(created.stdout)["request"] == request.read_text().strip()  # type: ignore[attr-defined]

    response = tmp_path / "response.txt"
    presented = invoke("wallet", "present", str(request), "--out", str(response), "--qr", str(tmp_path / "r.png"),
                       "--json")
    assert presented.exit_code == 0, presented.output  # type: ignore[attr-defined]
    assert list(json.loads(presented.stdout)["disclosed"].values()) == [["ageOver18"]]  # type: ignore[attr-defined]

    verified = invoke("verify", str(response), "--request", str(request), "--bundle", str(bundle), "--city", city,
                      "--json")
    assert verified.exit_code == 0, verified.output  # type: ignore[attr-defined]
    body = json.loads(verified.stdout)  # type: ignore[attr-defined]
    assert body["verified"] is True and body["details"]["claims"]["ageOver18"] is True
    # the resident's history names the shop as its request did, beside its DID
    history = invoke("log", "my-history", "--no-chain", "--json")
    assert history.exit_code == 0, history.output  # type: ignore[attr-defined]
    mine = json.loads(history.stdout)["entries"]  # type: ignore[attr-defined]
    assert [(e["verifierName"], e["location"]) for e in mine][-1:] == [("ゆのくに 旅館", "山代温泉")]
    assert mine[-1]["verifier"].startswith("did:key:")
    shown = invoke("log", "my-history", "--no-chain")
    assert shown.exit_code == 0 and "ゆのくに" in shown.output  # type: ignore[attr-defined]
    replayed = invoke("verify", str(response), "--request", str(request), "--bundle", str(bundle), "--json")
    assert replayed.exit_code == 1  # type: ignore[attr-defined]
    assert [p["code"] for p in json.loads(replayed.stdout)["problems"]] == ["kaga:nonce-replayed"]  # type: ignore[attr-defined]

    # the same replay from a new process (the nonce store is on disk), with no network needed
    done = subprocess.run([sys.executable, "-c", "from kaga_vc.cli import main; main()", "verify", str(response), "--request", str(request),
                           "--bundle", str(bundle), "--json"], capture_output=True, text=True, timeout=60,
                          env={**os.environ}, check=False)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["problems"][0]["code"] == "kaga:nonce-replayed"

    # a request from a verifier the resident did not expect is refused by the wallet
    refused = invoke("wallet", "present", str(request), "--verifier", "did:web:other.example", "--json")
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    assert json.loads(refused.stdout)["error"]["code"] == "kaga:request-verifier-mismatch"  # type: ignore[attr-defined]
    bad = invoke("verify", str(response), "--request", str(request), "--bundle", str(kyc), "--json")
    assert bad.exit_code == 3 and json.loads(bad.stdout)["problems"][0]["code"] == "kaga:bundle-invalid"  # type: ignore[attr-defined]
    assert invoke("verify", str(response), "--request", str(request)).exit_code == 2  # type: ignore[attr-defined]


def test_wallet_errors(tmp_path: Path) -> None:
    missing = invoke("wallet", "list", "--wallet", str(tmp_path / "none.json"), "--json")
    assert missing.exit_code == 3  # type: ignore[attr-defined]
    assert json.loads(missing.stdout)["error"]["code"] == "kaga:wallet-not-found"  # type: ignore[attr-defined]
