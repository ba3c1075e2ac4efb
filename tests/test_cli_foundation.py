"""The CLI skeleton: help, version, key and did commands, exit codes, --json output."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc import __version__
from kaga_vc.cli._app import app
from kaga_vc.cli._common import ExitCode
from kaga_vc.keys import KeyType, PrivateKey, export_v3_keystore
from kaga_vc.keys.keystore import load_key

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def _commands(typer_app, prefix=()):
    import typer.main

    group = typer.main.get_command(typer_app)
    stack = [(prefix, group)]
    while stack:
        path, command = stack.pop()
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            stack.append(((*path, name), sub))


@pytest.mark.parametrize("path", list(_commands(app)), ids=lambda p: " ".join(p) or "kaga-vc")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    if path:  # each command's docstring carries an example invocation
        assert "Example" in result.output or len(path) == 1


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for path in _commands(app):
        if path:
            assert "kaga-vc " + " ".join(path) in readme, path


def test_key_generate_json_and_mode(tmp_path: Path, password_env: str) -> None:
    out = tmp_path / "k.json"
    result = invoke("key", "generate", "--type", "secp256k1", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["keyType"] == "secp256k1" and info["ethereumAddress"].startswith("0x")
    assert info["didKey"].startswith("did:key:zQ3s")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert load_key(out, password_env).public_key.to_multikey() == info["publicKeyMultibase"]
    # no private material in the output
    assert load_key(out, password_env).to_bytes().hex() not in result.output


def test_key_generate_refuses_to_overwrite(tmp_path: Path, password_env: str) -> None:
    out = tmp_path / "k.json"
    assert invoke("key", "generate", "--type", "ed25519", "--out", str(out)).exit_code == 0
    before = out.read_bytes()
    result = invoke("key", "generate", "--type", "ed25519", "--out", str(out), "--json")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert json.loads(result.stdout)["error"]["code"] == "kaga:keystore-exists"
    assert out.read_bytes() == before


def test_key_generate_rejects_unknown_type(tmp_path: Path, password_env: str) -> None:
    result = invoke("key", "generate", "--type", "rsa", "--out", str(tmp_path / "k.json"), "--json")
    assert result.exit_code == ExitCode.INVALID
    assert json.loads(result.stdout)["error"]["code"] == "kaga:unsupported-key-type"
    assert not (tmp_path / "k.json").exists()


def test_password_from_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAGA_VC_PASSWORD", raising=False)
    pw = tmp_path / "pw.txt"
    pw.write_text("from-a-file\n")
    out = tmp_path / "k.json"
    result = invoke("key", "generate", "--type", "p256", "--out", str(out), "--password-file", str(pw))
    assert result.exit_code == 0, result.output
    assert load_key(out, "from-a-file").key_type is KeyType.P256


def test_no_password_without_terminal_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAGA_VC_PASSWORD", raising=False)
    result = invoke("key", "generate", "--type", "p256", "--out", str(tmp_path / "k.json"), "--json")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert json.loads(result.stdout)["error"]["code"] == "kaga:password-required"


@pytest.mark.parametrize("form", ["jwk", "hex", "v3"])
def test_key_import_forms(tmp_path: Path, password_env: str, form: str) -> None:
    key = PrivateKey.generate(KeyType.SECP256K1)
    src = tmp_path / "src"
    args = []
    if form == "jwk":
        src.write_text(json.dumps(key.to_jwk()))
    elif form == "hex":
        src.write_text("0x" + key.to_bytes().hex() + "\n")
    else:
        src.write_text(json.dumps(export_v3_keystore(key, "v3-password")))
        (tmp_path / "v3pw").write_text("v3-password")
        args = ["--source-password-file", str(tmp_path / "v3pw")]
    out = tmp_path / "imported.json"
    result = invoke("key", "import", "--from", str(src), "--out", str(out), "--json", *args)
    assert result.exit_code == 0, result.output
    assert load_key(out, password_env) == key
    assert key.to_bytes().hex() not in result.output


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"foo": 1}', "zz-not-hex", "00" * 31])
def test_key_import_bad_input_exit_3(tmp_path: Path, password_env: str, content: str) -> None:
    src = tmp_path / "src"
    src.write_text(content)
    result = invoke("key", "import", "--from", str(src), "--out", str(tmp_path / "o.json"), "--json")
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert "error" in json.loads(result.stdout)
    assert not (tmp_path / "o.json").exists()


def test_did_create_and_resolve(tmp_path: Path, password_env: str) -> None:
    out = tmp_path / "k.json"
    invoke("key", "generate", "--type", "ed25519", "--out", str(out))
    created = invoke("did", "create", "--method", "key", "--key", str(out), "--json")
    assert created.exit_code == 0, created.output
    did = json.loads(created.stdout)["did"]
    resolved = invoke("did", "resolve", did)
    assert resolved.exit_code == 0
    document = json.loads(resolved.stdout)
    assert document["id"] == did and document["verificationMethod"][0]["type"] == "Multikey"
    full = json.loads(invoke("did", "resolve", did, "--json").stdout)
    assert set(full) == {"didDocument", "didDocumentMetadata", "didResolutionMetadata"}
    plain = json.loads(invoke("did", "resolve", did, "--accept", "application/did+json").stdout)
    assert "@context" not in plain


@pytest.mark.parametrize(
    ("did", "code", "exit_code"),
    [
        ("not-a-did", "invalidDid", ExitCode.BAD_INPUT),
        ("did:key:zNotBase58!!", "invalidDid", ExitCode.BAD_INPUT),
        ("did:unknown:abc", "methodNotSupported", ExitCode.COULD_NOT_CHECK),
    ],
)
def test_did_resolve_errors(did: str, code: str, exit_code: ExitCode) -> None:
    result = invoke("did", "resolve", did, "--json")
    assert result.exit_code == exit_code
    assert json.loads(result.stdout)["error"]["code"] == code


def test_demo_runs() -> None:
    result = invoke("demo")
    assert result.exit_code == 0, result.output
    assert "demo complete" in result.output
