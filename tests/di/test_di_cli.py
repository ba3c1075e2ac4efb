"""``kaga-vc credential sign`` and ``kaga-vc verify``: exit codes and ``--json`` output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.keys import KeyType, PrivateKey
from kaga_vc.keys.keystore import save_key

from .conftest import unsigned_credential

pytestmark = pytest.mark.usefixtures("no_network")

PASSWORD = "correct horse battery staple"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("KAGA_VC_PASSWORD", PASSWORD)
    return CliRunner()


@pytest.fixture
def keystore(tmp_path: Path) -> Path:
    return save_key(tmp_path / "issuer.json", PrivateKey.generate(KeyType.ED25519), PASSWORD, scrypt_n=2**10)


def _sign(runner: CliRunner, tmp_path: Path, keystore: Path, *extra: str) -> dict:
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(unsigned_credential(), ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["credential", "sign", str(unsigned), "--key", str(keystore), *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("key_type,suite", [(KeyType.ED25519, "eddsa-rdfc-2022"), (KeyType.P256, "ecdsa-rdfc-2019"),
                                            (KeyType.P384, "ecdsa-rdfc-2019")])
def test_sign_then_verify(runner: CliRunner, tmp_path: Path, key_type: KeyType, suite: str) -> None:
    keystore = save_key(tmp_path / "k.json", PrivateKey.generate(key_type), PASSWORD, scrypt_n=2**10)
    signed = _sign(runner, tmp_path, keystore, "--suite", suite)
    assert signed["proof"]["cryptosuite"] == suite
    assert signed["issuer"].startswith("did:key:")
    path = tmp_path / "signed.json"
    path.write_text(json.dumps(signed, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["verify", str(path), "--json", "--now", "2025-06-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["verified"] is True and report["format"] == "data-integrity"
    assert report["issuer"] == signed["issuer"]
    assert "signature" in report["checks"]


def test_verify_reads_stdin_and_reports_tampering(runner: CliRunner, tmp_path: Path, keystore: Path) -> None:
    signed = _sign(runner, tmp_path, keystore)
    signed["credentialSubject"]["name"] = "someone else"
    result = runner.invoke(app, ["verify", "-", "--json", "--now", "2025-06-01T00:00:00Z"], input=json.dumps(signed))
    assert result.exit_code == 1
    assert [p["code"] for p in json.loads(result.stdout)["problems"]] == ["PROOF_VERIFICATION_ERROR"]


def test_verify_human_output(runner: CliRunner, tmp_path: Path, keystore: Path) -> None:
    signed = _sign(runner, tmp_path, keystore)
    result = runner.invoke(app, ["verify", "-", "--now", "2031-06-01T00:00:00Z"], input=json.dumps(signed))
    assert result.exit_code == 1
    assert "kaga:credential-expired" in result.stdout


@pytest.mark.parametrize("text,code", [
    ("not json at all", "PARSING_ERROR"),
    ('{"a": 1, "a": 2}', "kaga:duplicate-json-key"),
    ('{"a":' * 100 + "1" + "}" * 100, "kaga:document-too-deep"),
])
def test_verify_bad_input_exits_3(runner: CliRunner, text: str, code: str) -> None:
    result = runner.invoke(app, ["verify", "-", "--json"], input=text)
    assert result.exit_code == 3
    assert json.loads(result.stdout)["problems"][0]["code"] == code


def test_verify_could_not_check_exits_4(runner: CliRunner, tmp_path: Path, keystore: Path) -> None:
    signed = _sign(runner, tmp_path, keystore)
    signed["issuer"] = "did:web:example.com"
    signed["proof"]["verificationMethod"] = "did:web:example.com#key-1"
    result = runner.invoke(app, ["verify", "-", "--json"], input=json.dumps(signed))
    assert result.exit_code == 4
    report = json.loads(result.stdout)
    assert report["problems"][0]["couldNotCheck"] is True


def test_verify_missing_file_exits_3(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(tmp_path / "nope.json"), "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] == "PARSING_ERROR"


def test_sign_unknown_suite(runner: CliRunner, tmp_path: Path, keystore: Path) -> None:
    unsigned = tmp_path / "u.json"
    unsigned.write_text(json.dumps(unsigned_credential()), encoding="utf-8")
    result = runner.invoke(app, ["credential", "sign", str(unsigned), "--key", str(keystore), "--suite", "rsa-2018"])
    assert result.exit_code == 1
    assert "kaga:unsupported-cryptosuite" in result.output


def test_sign_wrong_suite_for_key(runner: CliRunner, tmp_path: Path, keystore: Path) -> None:
    unsigned = tmp_path / "u.json"
    unsigned.write_text(json.dumps(unsigned_credential()), encoding="utf-8")
    result = runner.invoke(app, ["credential", "sign", str(unsigned), "--key", str(keystore), "--suite", "ecdsa-rdfc-2019"])
    assert result.exit_code == 1
    assert "kaga:unsupported-key-type" in result.output


def test_sign_refuses_undefined_terms(runner: CliRunner, tmp_path: Path, keystore: Path) -> None:
    unsigned = tmp_path / "u.json"
    credential = unsigned_credential(**{"@context": ["https://www.w3.org/ns/credentials/v2"]}, type=["VerifiableCredential"])
    unsigned.write_text(json.dumps(credential), encoding="utf-8")
    result = runner.invoke(app, ["credential", "sign", str(unsigned), "--key", str(keystore)])
    assert result.exit_code == 1
    assert "kaga:undefined-term" in result.output


def test_presentation_challenge_and_domain(runner: CliRunner, tmp_path: Path, keystore: Path) -> None:
    from kaga_vc.credentials import create_presentation
    from kaga_vc.did import did_key_from_public_key
    from kaga_vc.keys import KeySigner
    from kaga_vc.keys.keystore import load_key

    signed = _sign(runner, tmp_path, keystore)
    key = load_key(keystore, PASSWORD)
    did = did_key_from_public_key(key.public_key)
    vp = create_presentation([signed], signer=KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}"), challenge="n1", domain="kaga.example")
    ok = runner.invoke(app, ["verify", "-", "--json", "--challenge", "n1", "--domain", "kaga.example"], input=json.dumps(vp))
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["verify", "-", "--json", "--challenge", "n2"], input=json.dumps(vp))
    assert bad.exit_code == 1
    assert [p["code"] for p in json.loads(bad.stdout)["problems"]] == ["INVALID_CHALLENGE_ERROR"]


@pytest.mark.parametrize("command", [["credential", "sign"], ["verify"]])
def test_commands_have_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
