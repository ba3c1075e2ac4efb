"""``kaga-vc log``: show, verify (tamper → exit 1), anchor, export, my-history, errors with codes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc.accesslog import AccessLog, load_or_create_log_key
from kaga_vc.cli._app import app
from kaga_vc.cli._common import ExitCode
from kaga_vc.keys.keystore import save_key

from .conftest import Party, entry, make_party

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ryokan: Party, alice: Party, bob: Party) -> Path:
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path))
    for name in ("KAGA_VC_ACCESSLOG_URL", "KAGA_VC_ACCESSLOG_KEY", "KAGA_VC_RPC_URL", "KAGA_VC_ANCHOR"):
        monkeypatch.delenv(name, raising=False)
    key = load_or_create_log_key(tmp_path / "accesslog.key")
    assert (tmp_path / "accesslog.key").stat().st_mode & 0o777 == 0o600
    with AccessLog.open(None, log_key=key, signer=ryokan.signer) as log:
        for i in range(6):
            log.record(entry(ryokan, make_party() if i % 3 else alice))
        log.record(entry(ryokan, bob, verifier_category="healthcare", purpose="consultation"))
    return tmp_path


def test_show_verify_anchor_verify(home: Path) -> None:
    shown = invoke("log", "show", "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["entries"] == 7 and len(data["shown"]) == 7
    assert invoke("log", "show").exit_code == 0
    verified = invoke("log", "verify", "--json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["verified"] is True
    anchored = invoke("log", "anchor", "--json")
    assert anchored.exit_code == 0, anchored.output
    batch = json.loads(anchored.stdout)
    assert batch["size"] == 7 and batch["firstSeq"] == 0 and batch["gasUsed"] > 0
    again = invoke("log", "anchor", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["anchored"] is None
    report = json.loads(invoke("log", "verify", "--json").stdout)
    assert report == {"verified": True, "entries": 7, "anchoredEntries": 7, "batches": 1, "onChainChecked": True,
                      "findings": []}


def test_verify_names_the_tampered_entry(home: Path) -> None:
    conn = sqlite3.connect(home / "accesslog.db")
    with conn:
        conn.execute("DELETE FROM entries WHERE seq = 3")
    conn.close()
    result = invoke("log", "verify", "--json")
    assert result.exit_code == ExitCode.INVALID
    assert json.loads(result.stdout)["findings"] == [
        {"kind": "deleted", "seq": 3, "detail": "entry 3 deleted", "code": "kaga:log-tampered"}]
    human = invoke("log", "verify")
    assert human.exit_code == ExitCode.INVALID and "deleted" in human.output


def test_my_history(home: Path, alice: Party, bob: Party, password_env: str) -> None:
    save_key(home / "alice.json", alice.key, password_env)
    assert invoke("log", "anchor").exit_code == 0
    result = invoke("log", "my-history", "--did", alice.did, "--key", str(home / "alice.json"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["did"] == alice.did
    assert [e["seq"] for e in data["entries"]] == [0, 3]
    assert all(e["proven"] and e["anchorBlock"] for e in data["entries"])
    assert all(e["claims"] == ["ageOver18", "residentOf"] for e in data["entries"])
    human = invoke("log", "my-history", "--did", alice.did, "--key", str(home / "alice.json"))
    assert human.exit_code == 0 and "on chain" in human.output
    # bob's key cannot answer for alice
    save_key(home / "bob.json", bob.key, password_env)
    refused = invoke("log", "my-history", "--did", alice.did, "--key", str(home / "bob.json"), "--json")
    assert refused.exit_code != 0 and "error" in json.loads(refused.stdout)


def test_export(home: Path) -> None:
    out = home / "open-data"
    result = invoke("log", "export", "--anonymized", "--k", "2", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["k"] == 2
    assert (out / "access-counts.csv").exists() and (out / "access-counts.json").exists()
    for view in ("access-counts.png", "access-counts.svg", "index.html"):  # for people to look at
        assert (out / view).stat().st_size > 0, view
    refused = invoke("log", "export", "--out", str(out), "--json")
    assert refused.exit_code == ExitCode.USAGE  # a missing required flag: a usage error, as typer's own
    assert json.loads(refused.stdout)["error"]["code"] == "kaga:usage-error"
    assert invoke("log", "export", "--anonymized", "--k", "1", "--out", str(out)).exit_code == ExitCode.USAGE


def test_missing_log_and_wrong_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path, alice: Party,
                                   password_env: str) -> None:
    missing = invoke("log", "show", "--log", str(tmp_path / "nowhere" / "x.db"), "--json")
    assert missing.exit_code == ExitCode.COULD_NOT_CHECK
    assert json.loads(missing.stdout)["error"]["code"] == "kaga:log-unavailable"
    other_key = tmp_path / "other.key"
    other_key.write_text("11" * 32)
    save_key(home / "alice.json", alice.key, password_env)
    wrong = invoke("log", "my-history", "--did", alice.did, "--key", str(home / "alice.json"),
                   "--log-key", str(other_key), "--json")
    assert wrong.exit_code == ExitCode.BAD_INPUT
    assert json.loads(wrong.stdout)["error"]["code"] == "kaga:log-key-mismatch"


def test_cli_verify_records_every_verification(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """city init → issue → wallet → bundle → request → present → verify (twice: replay) → log → my-history."""
    import time

    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path))
    monkeypatch.setenv("KAGA_VC_PASSWORD", "correct horse battery staple")
    for name in ("KAGA_VC_TRUSTED_CITY", "KAGA_VC_RPC_URL", "KAGA_VC_ACCESSLOG_URL", "KAGA_VC_ACCESSLOG_KEY"):
        monkeypatch.delenv(name, raising=False)
    city = json.loads(invoke("city", "init", "--json").stdout)["did"]
    holder = invoke("wallet", "init").stdout.strip()
    time.sleep(1.1)  # the embedded chain's blocks may be stamped ahead of the clock
    kyc = tmp_path / "kyc.jwt"
    assert invoke("issue", "kyc", "--subject", holder, "--name", "加賀 太郎", "--name-kana", "カガ タロウ",
                  "--birth-date", "1980-04-01", "--evidence", "myNumberCardPublicKey", "--out", str(kyc)).exit_code == 0
    assert invoke("wallet", "add", str(kyc)).exit_code == 0
    bundle, request, response = tmp_path / "bundle.jwt", tmp_path / "request.jwt", tmp_path / "response.txt"
    assert invoke("bundle", "sync", "--out", str(bundle)).exit_code == 0
    assert invoke("request", "create", "--purpose", "hotel check-in", "--claims", "KycCredential:ageOver18",
                  "--location", "山代温泉", "--out", str(request)).exit_code == 0
    assert invoke("wallet", "present", str(request), "--out", str(response)).exit_code == 0
    args = ("verify", str(response), "--request", str(request), "--bundle", str(bundle), "--city", city,
            "--category", "lodging", "--json")
    assert invoke(*args).exit_code == 0
    assert invoke(*args).exit_code == 1  # the replay, refused: recorded too
    assert invoke("verify", str(response), "--request", str(request), "--bundle", str(bundle), "--no-log",
                  "--json").exit_code == 1
    shown = json.loads(invoke("log", "show", "--json").stdout)
    bodies = [e["record"]["entry"] for e in shown["shown"]]
    assert [(b["result"], b.get("reason")) for b in bodies] == [("accepted", None), ("refused", "kaga:nonce-replayed")]
    assert bodies[0]["location"] == "山代温泉" and bodies[0]["verifierCategory"] == "lodging"
    assert holder not in json.dumps(shown)
    assert invoke("log", "anchor").exit_code == 0
    mine = invoke("log", "my-history", "--wallet", str(tmp_path / "wallet" / "wallet.json"), "--json")
    assert mine.exit_code == 0, mine.output
    history = json.loads(mine.stdout)
    assert history["did"] == holder and [e["seq"] for e in history["entries"]] == [0, 1]
    assert all(e["proven"] and "ageOver18" in e["claims"] for e in history["entries"])


def _presented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path, Path, Path]:
    """A city, a resident's KYC credential in a wallet, a bundle, a request and the wallet's response."""
    import time

    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path))
    monkeypatch.setenv("KAGA_VC_PASSWORD", "correct horse battery staple")
    for name in ("KAGA_VC_TRUSTED_CITY", "KAGA_VC_RPC_URL", "KAGA_VC_ACCESSLOG_URL", "KAGA_VC_ACCESSLOG_KEY",
                 "KAGA_VC_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    city = json.loads(invoke("city", "init", "--json").stdout)["did"]
    holder = invoke("wallet", "init").stdout.strip()
    time.sleep(1.1)  # the embedded chain's blocks may be stamped ahead of the clock
    kyc = tmp_path / "kyc.jwt"
    assert invoke("issue", "kyc", "--subject", holder, "--name", "加賀 太郎", "--name-kana", "カガ タロウ",
                  "--birth-date", "1980-04-01", "--evidence", "myNumberCardPublicKey", "--out", str(kyc)).exit_code == 0
    assert invoke("wallet", "add", str(kyc)).exit_code == 0
    bundle, request, response = tmp_path / "bundle.jwt", tmp_path / "request.jwt", tmp_path / "response.txt"
    assert invoke("bundle", "sync", "--out", str(bundle)).exit_code == 0
    assert invoke("request", "create", "--purpose", "hotel check-in", "--claims", "KycCredential:ageOver18",
                  "--out", str(request)).exit_code == 0
    assert invoke("wallet", "present", str(request), "--out", str(response)).exit_code == 0
    return city, bundle, request, response


def _nonce_used(home: Path, request: Path) -> bool:
    from kaga_vc.verifier import NonceStore, default_nonce_path, parse_request

    nonce = parse_request(request.read_text(encoding="utf-8"))[0].nonce
    with NonceStore(default_nonce_path(home)) as store:
        return store.is_used(nonce)


def test_wrong_password_consumes_no_nonce(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13: a wrong KAGA_VC_PASSWORD exits 3 before anything is used; the retry is accepted, logged once."""
    city, bundle, request, response = _presented(tmp_path, monkeypatch)
    args = ("verify", str(response), "--request", str(request), "--bundle", str(bundle), "--city", city, "--json")
    monkeypatch.setenv("KAGA_VC_PASSWORD", "wrong password")
    wrong = invoke(*args)
    assert wrong.exit_code == ExitCode.BAD_INPUT, wrong.output
    assert json.loads(wrong.stdout)["error"]["code"] == "kaga:keystore-wrong-password"
    assert not _nonce_used(tmp_path, request)
    monkeypatch.setenv("KAGA_VC_PASSWORD", "correct horse battery staple")
    retry = invoke(*args)
    assert retry.exit_code == 0, retry.output
    assert json.loads(retry.stdout)["verified"] is True
    assert _nonce_used(tmp_path, request)
    shown = json.loads(invoke("log", "show", "--json").stdout)
    assert [e["record"]["entry"]["result"] for e in shown["shown"]] == ["accepted"]
    assert invoke(*args).exit_code == 1  # and then it is used: the replay is refused


def test_verify_password_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``verify --password-file`` unlocks the verifier key; a file with the wrong password consumes nothing."""
    city, bundle, request, response = _presented(tmp_path, monkeypatch)
    monkeypatch.delenv("KAGA_VC_PASSWORD")
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("correct horse battery staple\n", encoding="utf-8")
    bad.write_text("not it\n", encoding="utf-8")
    args = ("verify", str(response), "--request", str(request), "--bundle", str(bundle), "--city", city, "--json")
    refused = invoke(*args, "--password-file", str(bad))
    assert refused.exit_code == ExitCode.BAD_INPUT, refused.output
    assert not _nonce_used(tmp_path, request)
    accepted = invoke(*args, "--password-file", str(good))
    assert accepted.exit_code == 0, accepted.output
    assert _nonce_used(tmp_path, request)
    assert "--password-file" in invoke("verify", "--help").stdout


def test_anchor_every_runs_on_a_schedule(home: Path) -> None:
    import time

    started = time.monotonic()
    result = invoke("log", "anchor", "--every", "1s", "--rounds", "2", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["size"] == 7 and lines[1] == {"anchored": None, "detail": "every entry is anchored already"}
    assert time.monotonic() - started >= 1.0  # it waited one period between the rounds
    bad = invoke("log", "anchor", "--every", "soon", "--json")
    assert bad.exit_code == int(ExitCode.BAD_INPUT) and "MALFORMED_VALUE_ERROR" in bad.output
    assert invoke("log", "anchor", "--rounds", "2").exit_code == 2  # --rounds without --every: usage


def test_an_auditor_checks_an_entry_with_the_chain_alone(home: Path, alice: Party, password_env: str) -> None:
    """What a resident got from my-history, checked by someone holding only the chain (no log database)."""
    save_key(home / "alice.json", alice.key, password_env)
    assert invoke("log", "anchor").exit_code == 0
    history = json.loads(invoke("log", "my-history", "--did", alice.did, "--key", str(home / "alice.json"),
                                "--json").stdout)
    held = history["entries"][0]
    (home / "entry.json").write_text(json.dumps({"record": held["record"], "proof": held["proof"]}))
    (home / "accesslog.db").rename(home / "elsewhere.db")  # the auditor has no log
    checked = invoke("log", "check-entry", str(home / "entry.json"), "--json")
    assert checked.exit_code == 0, checked.output
    result = json.loads(checked.stdout)
    assert result["verified"] is True and result["treeHead"]["treeSize"] == 7
    assert result["identity"]["key"] == held["record"]["proof"]["verificationMethod"]
    assert "verified" in invoke("log", "check-entry", str(home / "entry.json")).output
    changed = json.loads((home / "entry.json").read_text())
    changed["record"]["entry"]["purpose"] = "marketing"
    (home / "changed.json").write_text(json.dumps(changed))
    refused = invoke("log", "check-entry", str(home / "changed.json"), "--json")
    assert refused.exit_code == ExitCode.INVALID
    assert json.loads(refused.stdout)["code"] == "kaga:inclusion-proof-invalid"
    proof = held["proof"]
    listed = invoke("log", "heads", "--log-id", proof["logId"], "--anchorer", proof["anchorer"], "--json")
    assert listed.exit_code == 0, listed.output
    heads = json.loads(listed.stdout)
    assert [(h["index"], h["treeSize"], h["root"]) for h in heads["heads"]] == [(0, 7, proof["root"])]
    from kaga_vc.accesslog._identity import LogIdentity

    assert heads["identity"] == LogIdentity.from_json(result["identity"]).digest.hex()  # committed on chain
