"""The import budget of the offline verifier and of ``kaga-vc --help`` (README "Cold start").

Not a timing test: a fresh process runs the command and reports which modules it imported, and the
fast entry (``kaga_vc.cli.main`` without typer) is checked to do exactly what the typer command
does. Speed is measured by ``benchmarks/verify_cold_start.py``, never asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from kaga_vc.cli import _verify_fast
from kaga_vc.cli._app import COMMANDS, command_app
from kaga_vc.cli._root_help import ROOT_HELP
from tests.verifier.conftest import PASSWORD, World, make_world

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from gen_root_help import render

# what the offline verify must not import, and what --help must not
NOT_FOR_VERIFY = ("typer", "click", "rich", "requests", "urllib3", "pydantic", "pyld", "sqlalchemy", "alembic",
                  "kaga_vc.registry", "kaga_vc.issuer", "web3", "eth_tester", "evm", "eth_hash", "Crypto", "pycparser",
                  "kaga_vc.credentials._model", "pydantic_core", "annotated_types", "asyncio", "ssl", "lxml.etree",
                  "urllib.request", "http", "email", "aiohttp", "pyld.documentloader.aiohttp",
                  "pyld.documentloader.requests", "pyld.documentloader.file", "kaga_vc.keys._private",
                  "kaga_vc.status._lists")
NOT_FOR_HELP = ("typer", "click", "rich", "pydantic", "sqlalchemy", "kaga_vc.credentials", "kaga_vc.did")

# runs main() as the console script does, then prints the top-level packages it imported (stderr, last line)
PROBE = """
import json, sys
sys.argv[0] = "kaga-vc"
from kaga_vc.cli import main
try:
    main()
    code = 0
except SystemExit as exit:
    code = exit.code
names = sorted(sys.modules)
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": names}) + "\\n")
"""


def probe(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> tuple[int, str, set[str]]:
    """Run ``kaga-vc ARGS`` in a fresh interpreter: exit code, stdout, the modules it imported."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, input=stdin, check=False)
    last = done.stderr.rstrip().rsplit("\n", 1)[-1]
    assert last.startswith("MODULES "), done.stderr[-2000:]
    report = json.loads(last[len("MODULES "):])
    return int(report["code"] or 0), done.stdout, set(report["modules"])


def imported(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


# --- kaga-vc --help --------------------------------------------------------------------------------


def test_root_help_is_the_typer_apps() -> None:
    """The text ``kaga-vc --help`` prints without typer is what the typer app renders (else regenerate)."""
    assert ROOT_HELP == render(), "kaga_vc/cli/_root_help.py is out of date: run python scripts/gen_root_help.py"


def test_help_prints_every_command_without_typer() -> None:
    code, out, modules = probe("--help", env={"COLUMNS": "120"})
    assert code == 0 and out == ROOT_HELP
    listed = [line.split()[0] for line in out.split("Commands:\n", 1)[1].splitlines() if line.strip()]
    assert sorted(listed) == sorted(COMMANDS)
    assert imported(modules, NOT_FOR_HELP) == []


def test_narrow_terminal_help_comes_from_typer() -> None:
    """Below 80 columns click wraps differently: the typer app renders it."""
    code, out, modules = probe("--help", env={"COLUMNS": "60"})
    assert code == 0 and out != ROOT_HELP and "verify" in out
    assert "typer" in modules


def test_version_without_typer() -> None:
    code, out, modules = probe("--version")
    assert code == 0 and out.startswith("kaga-vc ")
    assert imported(modules, ("typer", "rich")) == []


def test_one_command_builds_only_its_own_app() -> None:
    code, out, modules = probe("key", "--help")
    assert code == 0 and "Usage: kaga-vc key" in out
    assert imported(modules, ("kaga_vc.cli.issue", "kaga_vc.cli.serve", "kaga_vc.cli.demo", "sqlalchemy")) == []


# --- the fast verify's option table --------------------------------------------------------------


def _verify_params() -> dict[str, Any]:
    command = typer.main.get_command(command_app("verify"))
    verify = command.commands["verify"]  # type: ignore[attr-defined]
    return {opt: param for param in verify.params for opt in getattr(param, "opts", ()) if opt.startswith("--")}


def test_fast_parser_knows_every_option_of_the_typer_command() -> None:
    """Every option of ``kaga-vc verify`` is parsed alike by the fast entry, or left to typer."""
    params = _verify_params()
    assert set(params) == set(_verify_fast.OPTIONS) | (set(_verify_fast.FULL_CLI_ONLY) - {"--help"})
    for option, (name, kind) in _verify_fast.OPTIONS.items():
        param = params[option]
        assert param.name == name, option
        assert param.is_flag == (kind == "flag"), option
        assert param.multiple == (kind == "multi"), option
        annotation, info = param.type_descriptor.annotation, param.type_descriptor.parameter_info
        assert (annotation is int) == (kind == "int"), option
        assert (annotation is Path) == (kind in ("path", "password")), option
        assert (annotation is bool) == (kind == "flag"), option
        if kind == "password":
            assert info.exists and not info.dir_okay
        elif kind == "path":
            assert not info.dir_okay and not info.exists
        else:
            assert not info.exists


@pytest.mark.parametrize("argv", [
    ["x.jwt"],  # no --bundle: the credential path (chains) is typer's
    ["x.jwt", "--bundle", "b", "--embedded-chain"],
    ["x.jwt", "--bundle", "b", "--help"],
    ["x.jwt", "--bundle", "b", "--unknown"],
    ["x.jwt", "--bundle"],
    ["x.jwt", "--bundle", "--json"],
    ["x.jwt", "y.jwt", "--bundle", "b"],
    ["x.jwt", "--bundle", "b", "--max-clock-skew", "1_0"],
    ["x.jwt", "--bundle", "b", "--json=1"],
    ["x.jwt", "--bundle", "b", "--password-file", "/nonexistent/pw"],
    ["x.jwt", "--bundle", "b", "--", "--json"],
])
def test_fast_parser_leaves_the_doubtful_to_typer(argv: list[str]) -> None:
    assert _verify_fast.parse(argv) is None


def test_fast_parser_reads_what_typer_reads(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("x")
    parsed = _verify_fast.parse(["r.txt", "--request=q.jwt", "--bundle", "b.jwt", "--format", "vc+jwt", "--format",
                                 "dc+sd-jwt", "--max-clock-skew", "60", "--json", "--city", "did:a", "--city", "did:b",
                                 "--password-file", str(pw), "--verifier-key", str(tmp_path / "k.json"), "--no-log"])
    assert parsed == {"file": "r.txt", "request": "q.jwt", "bundle": "b.jwt", "formats": ["vc+jwt", "dc+sd-jwt"],
                      "max_clock_skew": 60, "as_json": True, "city": "did:b", "password_file": pw,
                      "verifier_key": tmp_path / "k.json", "no_log": True}


# --- the offline verify, end to end --------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("cold"))


@pytest.fixture(scope="module")
def shop(world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A shop's home (no city in it) with the city's bundle; a KYC credential in the wallet."""
    from kaga_vc.verifier import CredentialQuery, create_request

    home = tmp_path_factory.mktemp("shop")
    credential = world.issue("sd-jwt").document
    world.wallet.add(credential)
    bundle = home / "bundle.jwt"
    bundle.write_text(world.bundle().token)
    kyc = home / "kyc.sd-jwt"
    kyc.write_text(credential if isinstance(credential, str) else json.dumps(credential))

    def answer(name: str) -> tuple[Path, Path]:
        request = create_request(signer=world.verifier, purpose="check-in",
                                 credentials=[CredentialQuery("KycCredential", ("ageOver18",))])
        req, resp = home / f"{name}.request.jwt", home / f"{name}.response.txt"
        req.write_text(request.token)
        resp.write_text(world.wallet.present(request.token).compact)
        return req, resp

    env = {"KAGA_VC_HOME": str(home), "KAGA_VC_PASSWORD": PASSWORD}
    return {"home": home, "bundle": bundle, "kyc": kyc, "answer": answer, "env": env, "city": world.config.did}


def test_offline_verify_imports_no_cli_or_network_machinery(shop: dict[str, Any]) -> None:
    req, resp = shop["answer"]("unlogged")  # the shop has no verifier key yet: a note says it is not logged
    code, out, modules = probe("verify", str(resp), "--request", str(req), "--bundle", str(shop["bundle"]),
                               "--city", shop["city"], "--json", env=shop["env"])
    assert code == 0 and json.loads(out)["verified"] is True, out
    # a status list is a Data Integrity credential: its data-model check is credentials._rules (the
    # pydantic model's rules without pydantic, tests/di/test_model_rules.py) and its canonicalisation
    # takes pyld's context processing; pyld's document loaders (requests, aiohttp / asyncio,
    # urllib.request) and lxml.html's execution are kept out of this process (cli._lean_imports)
    assert "kaga_vc.credentials._verify_di" in modules and "kaga_vc.credentials._rules" in modules  # the case that matters
    assert "pyld.jsonld" in modules
    justified = {"pyld"}
    assert set(imported(modules, NOT_FOR_VERIFY)) - justified == set()


def test_fast_and_typer_verify_agree(shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The same command lines through the fast entry and through the typer command: same output, same code."""
    for name, value in shop["env"].items():
        monkeypatch.setenv(name, value)
    app = command_app("verify")
    bundle, kyc, city = str(shop["bundle"]), str(shop["kyc"]), shop["city"]
    lines = [
        [kyc, "--bundle", bundle, "--city", city, "--json"],
        [kyc, "--bundle", bundle, "--city", city, "--type", "KycCredential", "--json"],
        [kyc, "--bundle", bundle, "--city", city, "--type", "ResidencyCredential", "--json"],
        [kyc, "--bundle", bundle, "--city", "did:ethr:0x539:0x" + "22" * 20, "--json"],
        [kyc, "--bundle", bundle, "--city", city, "--format", "vc+jwt", "--json"],
        [kyc, "--bundle", bundle, "--city", city, "--now", "yesterday", "--json"],
        [kyc, "--bundle", str(shop["home"] / "missing.jwt"), "--city", city, "--json"],
        [kyc, "--bundle", kyc, "--city", city, "--json"],
    ]
    for argv in lines:
        code = _verify_fast.run(argv)
        fast = capsys.readouterr().out
        assert code is not None, argv
        slow = CliRunner().invoke(app, ["verify", *argv])
        assert (code, _stable(fast)) == (slow.exit_code, _stable(slow.stdout)), argv
    # a response: fresh for each entry (a nonce is used once), then each entry's replay is refused alike
    for entry in ("fast", "typer"):
        req, resp = shop["answer"](entry)
        argv = [str(resp), "--request", str(req), "--bundle", bundle, "--city", city, "--no-log", "--json"]
        first = _verify_fast.run(argv) if entry == "fast" else CliRunner().invoke(app, ["verify", *argv]).exit_code
        capsys.readouterr()
        assert first == 0
        replay = _verify_fast.run(argv)
        out = json.loads(capsys.readouterr().out)
        assert replay == 1 and [p["code"] for p in out["problems"]] == ["kaga:nonce-replayed"]


def test_usage_errors_are_typers(shop: dict[str, Any]) -> None:
    """A usage error is left to the typer command (nothing read before): exit 2, with typer's message."""
    req, resp = shop["answer"]("usage")
    argv = [str(resp), "--request", str(req), "--bundle", str(shop["bundle"]), "--format", "vc+jwt", "--json"]
    assert _verify_fast.run(argv) is None
    code, out, _ = probe("verify", *argv, env=shop["env"])
    assert code == 2 and json.loads(out)["error"]["code"] == "kaga:usage-error"
    again, out, _ = probe("verify", *argv[:-3], "--city", shop["city"], "--no-log", "--json", env=shop["env"])
    assert again == 0 and json.loads(out)["verified"] is True  # the failed attempt used no nonce


# runs the same JSON-LD work with and without cli._lean_imports: what pyld computes must not change
LEAN_PROBE = """
import json, sys
if sys.argv[1] == "lean":
    from kaga_vc.cli._lean_imports import install
    install()
from pyld import jsonld
from kaga_vc.proofs import canonize
from tests.di.conftest import unsigned_credential
document = unsigned_credential(issuer="did:example:city")
loader = jsonld.get_document_loader()
out = {"nquads": canonize(document), "loader": getattr(loader, "__qualname__", type(loader).__qualname__),
       "network": sorted(m for m in sys.modules if m.startswith(("asyncio", "requests", "pyld.documentloader.aiohttp")))}
import lxml.html  # still usable: executed on first use
out["html"] = lxml.html.fromstring("<p>加賀</p>").text_content()
import pyld.documentloader.requests  # visible again after pyld.jsonld's execution
print(json.dumps(out))
"""


def test_lean_imports_change_nothing_pyld_computes() -> None:
    runs = {}
    for mode in ("lean", "plain"):
        done = subprocess.run([sys.executable, "-c", LEAN_PROBE, mode], capture_output=True, text=True, timeout=120,
                              cwd=ROOT, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        runs[mode] = json.loads(done.stdout)
    lean, plain = runs["lean"], runs["plain"]
    assert lean["nquads"] == plain["nquads"] and "<did:example:city>" in lean["nquads"]
    assert lean["html"] == plain["html"] == "加賀"
    # pyld's dummy default loader, no asyncio, no requests; a plain import builds the network loaders
    assert lean["loader"].startswith("dummy_document_loader.") and lean["network"] == []
    assert not plain["loader"].startswith("dummy_document_loader.") and "asyncio" in plain["network"]


@given(st.binary(max_size=600))
def test_keccak256_is_ethereums(data: bytes) -> None:
    """The C keccak the verify path uses (safe-pysha3) gives eth-hash's digest."""
    from eth_hash.auto import keccak

    from kaga_vc.keys import keccak256

    assert keccak256(data) == keccak(data)


def _stable(text: str) -> str:
    """The output without the instant of the check."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        data.pop("checkedAt", None)
    return json.dumps(data, sort_keys=True)
