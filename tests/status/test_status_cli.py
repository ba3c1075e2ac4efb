"""``kaga-vc status …``, ``kaga-vc issued list`` and ``kaga-vc verify --status-lists`` with the real city issuer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.did.key import did_key_from_public_key
from kaga_vc.issuer import init_city, open_city_issuer
from kaga_vc.keys import KeyType, PrivateKey
from kaga_vc.status import BitstringStatusList

PASSWORD = "correct horse battery staple"
CLAIMS = {"fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-02-03",
          "address": "石川県 加賀市 大聖寺南町 ニ41", "residentSince": "2015-04-01", "evidence": ["residenceCard"]}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("status-city")
    init_city(PASSWORD, home=home, scrypt_n=2**10)
    files = {}
    with open_city_issuer(PASSWORD, home=home) as issuer:
        for name, fmt in (("a", "data-integrity"), ("b", "vc-jwt"), ("c", "sd-jwt")):
            subject = did_key_from_public_key(PrivateKey.generate(KeyType.ED25519).public_key)
            issued = issuer.issue("residency", subject, CLAIMS, format=fmt, staff="tanaka")
            path = home / f"{name}.cred"
            path.write_text(issued.serialise(), encoding="utf-8")
            files[name] = (issued.id, path)
    return {"home": home, "files": files}


@pytest.fixture
def env(city: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("KAGA_VC_HOME", str(city["home"]))
    monkeypatch.setenv("KAGA_VC_PASSWORD", PASSWORD)
    monkeypatch.delenv("KAGA_VC_RECORDS_URL", raising=False)
    monkeypatch.delenv("KAGA_VC_RPC_URL", raising=False)
    return city


def run(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, list(args))
    try:
        return result.exit_code, json.loads(result.stdout)
    except ValueError:
        return result.exit_code, result.stdout


def verify(path: Path, lists: Path) -> tuple[int, Any]:
    return run("verify", str(path), "--embedded-chain", "--status-lists", str(lists), "--json")


def test_status_lifecycle_through_the_cli(env: dict[str, Any], tmp_path: Path) -> None:
    (a_id, a_file), (b_id, b_file), (c_id, c_file) = (env["files"][k] for k in "abc")
    www = tmp_path / "www"
    www.mkdir()

    code, listed = run("issued", "list", "--json")
    assert code == 0 and listed["count"] == 3 and listed["total"] == 3
    assert {r["credentialId"] for r in listed["credentials"]} == {a_id, b_id, c_id}
    assert all(r["staff"] == "tanaka" and r["status"] == "active" for r in listed["credentials"])
    text = json.dumps(listed, ensure_ascii=False)
    assert "加賀" not in text and "1990-02-03" not in text  # the records hold no personal claims
    stored = b"".join(p.read_bytes() for p in env["home"].glob("issuance.sqlite3*"))
    for value in ("加賀 花子", "カガ ハナコ", "1990-02-03", "大聖寺南町", "2015-04-01"):
        assert value.encode() not in stored, value

    code, published = run("status", "publish", "--out", str(www), "--json")
    assert code == 0 and len(published["files"]) == 2 * len(published["lists"])
    for path in (a_file, b_file, c_file):
        code, result = verify(path, www)
        assert code == 0 and result["verified"] and "status" in result["checks"], result

    code, changed = run("status", "revoke", a_id, "--staff", "sato", "--json")
    assert code == 0 and changed["status"] == "revoked"
    code, changed = run("status", "suspend", c_id, "--json")
    assert code == 0 and changed["status"] == "suspended"
    assert run("status", "publish", "--out", str(www), "--json")[0] == 0

    code, result = verify(a_file, www)
    assert code == 1 and [p["code"] for p in result["problems"]] == ["kaga:credential-revoked"]
    code, result = verify(c_file, www)
    assert code == 1 and [p["code"] for p in result["problems"]] == ["kaga:credential-suspended"]
    assert verify(b_file, www)[0] == 0

    assert run("status", "unsuspend", c_id, "--json")[0] == 0
    bundle = tmp_path / "lists.json"
    code, published = run("status", "publish", "--out", str(bundle), "--format", "vc-jwt", "--json")
    assert code == 0 and published["files"] == [str(bundle)]
    assert verify(c_file, bundle)[0] == 0
    assert verify(a_file, bundle)[1]["problems"][0]["code"] == "kaga:credential-revoked"

    code, error = run("status", "unsuspend", a_id, "--json")  # revocation is final
    assert code == 3 and error["error"]["code"] == "kaga:status-transition-invalid"
    code, error = run("status", "revoke", "urn:uuid:not-issued-here", "--json")
    assert code == 3 and error["error"]["code"] == "kaga:credential-unknown"
    code, listed = run("issued", "list", "--status", "revoked", "--json")
    assert [r["credentialId"] for r in listed["credentials"]] == [a_id]


def test_tampered_or_missing_lists(env: dict[str, Any], tmp_path: Path) -> None:
    _, b_file = env["files"]["b"]
    bundle = tmp_path / "lists.json"
    assert run("status", "publish", "--out", str(bundle), "--json")[0] == 0
    lists = json.loads(bundle.read_text())
    for credential in lists.values():  # set every bit of every list, keeping the city's signature
        bits = BitstringStatusList.decode(credential["credentialSubject"]["encodedList"])
        bits.set_indices(range(bits.length))
        credential["credentialSubject"]["encodedList"] = bits.encode()
    bundle.write_text(json.dumps(lists))
    code, result = verify(b_file, bundle)
    assert code == 1 and {p["code"] for p in result["problems"]} == {"kaga:status-list-invalid"}

    empty = tmp_path / "empty"
    empty.mkdir()
    code, result = verify(b_file, empty)
    assert code == 4 and {p["code"] for p in result["problems"]} == {"kaga:status-list-unavailable"}

    code, result = run("verify", str(b_file), "--embedded-chain", "--json")
    assert code == 0 and "kaga:status-not-checked" in [w["code"] for w in result["warnings"]]


def test_human_output_and_bad_options(env: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["issued", "list"])
    assert result.exit_code == 0 and "3 record(s)" in result.stdout
    code, error = run("issued", "list", "--status", "lost", "--json")
    assert code == 3 and error["error"]["code"] == "MALFORMED_VALUE_ERROR"
    code, error = run("status", "publish", "--format", "cbor", "--json")
    assert code == 3
    code, error = run("issued", "list", "--records", "postgresql://u:pw-secret@127.0.0.1:1/x", "--json")
    assert code == 4 and error["error"]["code"] == "kaga:records-unavailable" and "pw-secret" not in json.dumps(error)
