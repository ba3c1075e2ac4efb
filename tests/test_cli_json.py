"""Every ``kaga-vc`` command under ``--json``: exactly one JSON document on stdout, on success and on error.

A realistic setup, built with the CLI itself: a city initialised on the embedded chain in a temporary
``KAGA_VC_HOME``, a resident's wallet holding a KYC credential, a trust bundle, a verifier's request,
the resident's answer, a recorded verification. Each command then runs once as it should succeed and
once with a typical mistake; neither may print anything but one JSON document on stdout, nor end in a
Python traceback, and the exit code is STYLE §9's.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.cli._common import ExitCode

PASSWORD = "json-test-password"
runner = CliRunner()


@dataclass
class Setup:
    dir: Path
    env: dict[str, str]
    city: str
    holder: str
    credential_id: str
    bundle_url: str

    def run(self, args: list[str]):
        return runner.invoke(app, [a.format(d=self.dir, city=self.city, holder=self.holder,
                                            cred=self.credential_id, url=self.bundle_url) for a in args],
                             env=self.env)


def _ok(setup: Setup, *args: str):
    result = setup.run(list(args))
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    d = tmp_path_factory.mktemp("cli-json")
    env = {"KAGA_VC_HOME": str(d / "home"), "KAGA_VC_PASSWORD": PASSWORD, "KAGA_VC_RPC_URL": "",
           "KAGA_VC_REGISTRY": "", "KAGA_VC_CHAIN_ID": "", "KAGA_VC_ACCESSLOG_URL": "", "KAGA_VC_RECORDS_URL": ""}
    s = Setup(d, env, "", "", "", "")
    s.city = _ok(s, "city", "init", "--json")["did"]
    s.holder = _ok(s, "wallet", "init", "--json")["did"]
    # city init writes several blocks in a burst, stamped ahead of the wall clock (docs/registry.md):
    # let the clock pass the newest block, or its keys are not valid yet when checked "now"
    head = _ok(s, "chain", "info", "--json")["blockTimestamp"]
    while time.time() < head + 1.05:
        time.sleep(0.05)
    issued = _ok(s, "issue", "kyc", "--subject", s.holder, "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                 "--birth-date", "1990-02-03", "--evidence", "myNumberCardPublicKey", "--out", f"{d}/kyc.jwt", "--json")
    s.credential_id = issued["id"]
    _ok(s, "wallet", "add", f"{d}/kyc.jwt", "--json")
    _ok(s, "bundle", "sync", "--out", f"{d}/trust-bundle.jwt", "--json")
    (d / "published").mkdir()
    (d / "published" / "trust-bundle.jwt").write_bytes((d / "trust-bundle.jwt").read_bytes())
    _ok(s, "key", "generate", "--type", "ed25519", "--out", f"{d}/ed.json", "--json")
    _ok(s, "key", "generate", "--type", "secp256k1", "--out", f"{d}/k1.json", "--json")
    (d / "unsigned.json").write_text(json.dumps({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": "did:example:placeholder", "credentialSubject": {"id": s.holder, "name": "x"}}))
    (d / "residents.csv").write_text(
        "type,subject,fullName,fullNameKana,birthDate,evidence\n"
        f"kyc,{s.holder},加賀 太郎,カガ タロウ,1958-11-03,myNumberCardPublicKey\n", encoding="utf-8")
    (d / "empty.txt").write_text("")
    (d / "a-directory").mkdir()
    (d / "bad.bin").write_bytes(b"\xff\xfe\x00\x80not text")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(d / "published"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    s.bundle_url = f"http://127.0.0.1:{server.server_address[1]}/trust-bundle.jwt"
    try:
        yield s
    finally:
        server.shutdown()
        server.server_close()


def _present(setup: Setup, name: str) -> None:
    """A fresh request and the wallet's answer (a nonce is good for one verification)."""
    _ok(setup, "request", "create", "--purpose", "hotel check-in", "--claims", "KycCredential:ageOver18",
        "--out", f"{setup.dir}/{name}-req.jwt", "--json")
    _ok(setup, "wallet", "present", f"{setup.dir}/{name}-req.jwt", "--out", f"{setup.dir}/{name}-resp.txt", "--json")


NOWHERE = "http://127.0.0.1:9"  # discard port: nothing listens
REG = "0x" + "11" * 20

# command path -> (arguments that succeed, arguments with a mistake and the exit code it gives)
CASES: dict[str, tuple[list[str] | None, list[str], int]] = {
    "key generate": (["--type", "p256", "--out", "{d}/new-p256.json"],
                     ["--type", "x25519", "--out", "{d}/x.json"], 3),
    "key import": (["--from", "{d}/hex.txt", "--type", "secp256k1", "--out", "{d}/imported.json"],
                   ["--from", "{d}/bad.bin", "--out", "{d}/imported2.json"], 3),
    "key show": (["{d}/ed.json"], ["{d}/empty.txt"], 3),
    "did create": (["--method", "key", "--key", "{d}/ed.json"], ["--method", "key", "--key", "{d}/missing.json"], 2),
    "did resolve": (["{city}"], ["did:key:zNotAKey"], 3),
    "did add-key": (["DIDK1", "--type", "ed25519", "--public-key-multibase", "PUBKEY", "--key", "{d}/k1.json"],
                    ["DIDK1", "--type", "ed25519", "--public-key-multibase", "PUBKEY", "--key", "{d}/k1.json",
                     "--rpc-url", NOWHERE, "--registry", REG], 4),
    "did add-service": (["DIDK1", "--type", "LinkedDomains", "--endpoint", "https://shop.kaga.example",
                         "--key", "{d}/k1.json"],
                        ["DIDK1", "--type", "LinkedDomains", "--endpoint", "https://x", "--key", "{d}/bad.bin"], 3),
    "did add-delegate": (["DIDK1", "--delegate", REG, "--delegate-type", "sigAuth", "--key", "{d}/k1.json"],
                         ["DIDK1", "--delegate", "0xnot-an-address", "--delegate-type", "sigAuth",
                          "--key", "{d}/k1.json"], 3),
    "did revoke": (["DIDK1", "--delegate", REG, "--delegate-type", "sigAuth", "--key", "{d}/k1.json"],
                   ["DIDK1", "--delegate", REG, "--delegate-type", "sigAuth", "--key", "{d}/k1.json",
                    "--rpc-url", NOWHERE, "--registry", REG], 4),
    "did change-owner": (["DIDED2", "--new-owner", REG, "--key", "{d}/k1-2.json"],
                         ["DIDK1", "--new-owner", REG, "--key", "{d}/empty.txt"], 3),
    "did deactivate": (["DIDK3", "--key", "{d}/k1-3.json"], ["DIDK3", "--key", "{d}/a-directory"], 2),
    "did history": (["{city}"], ["did:ethr:0x539:nonsense"], 3),
    "chain info": ([], ["--rpc-url", NOWHERE, "--registry", REG], 4),
    "chain deploy": (None, ["--rpc-url", NOWHERE, "--deployer-key", "{d}/k1.json"], 4),
    "credential sign": (["{d}/unsigned.json", "--key", "{d}/ed.json"], ["{d}/bad.bin", "--key", "{d}/ed.json"], 3),
    "city init": ([], ["--password-file", "{d}/bad.bin"], 3),
    "city show": ([], None, 0),
    "issue kyc": (["--subject", "{holder}", "--name", "加賀 花子", "--name-kana", "カガ ハナコ", "--birth-date",
                   "1990-02-03", "--evidence", "myNumberCardPublicKey", "--out", "{d}/kyc2.jwt"],
                  ["--subject", "not-a-did", "--name", "x", "--name-kana", "x", "--birth-date", "1990-02-03",
                   "--evidence", "myNumberCardPublicKey"], 3),
    "issue residency": (["--subject", "{holder}", "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                         "--birth-date", "1990-02-03", "--address", "石川県 加賀市 大聖寺南町 ニ41",
                         "--resident-since", "2015-04-01", "--evidence", "residenceCard", "--out", "{d}/res.jwt"],
                        ["--subject", "{holder}", "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                         "--birth-date", "not-a-date", "--evidence", "residenceCard"], 3),
    "issue virtual-resident": (["--subject", "{holder}", "--name", "Emma Schmidt", "--name-kana", "エマ シュミット",
                                "--birth-date", "1992-05-17", "--evidence", "openid", "--out", "{d}/vr.jwt"],
                               ["--subject", "{holder}", "--name", "Emma", "--name-kana", "エマ",
                                "--birth-date", "17 May 1992", "--evidence", "openid"], 3),
    "issue voting-eligibility": (["--subject", "{holder}", "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                                  "--birth-date", "1990-02-03", "--address", "石川県 加賀市 大聖寺南町 ニ41",
                                  "--evidence", "residenceCard", "--out", "{d}/vote.jwt"],
                                 ["--subject", "{holder}", "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                                  "--birth-date", "2015-02-03", "--address", "石川県 加賀市 大聖寺南町 ニ41",
                                  "--evidence", "residenceCard"], 3),
    "issue vaccination": (["--subject", "{holder}", "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                           "--birth-date", "1990-02-03", "--vaccine", "Influenza", "--vaccinated-on", "2024-11-02",
                           "--dose", "1", "--out", "{d}/vacc.jwt"],
                          ["--subject", "{holder}", "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                           "--birth-date", "1990-02-03", "--vaccine", "Influenza", "--vaccinated-on", "2024-11-02",
                           "--dose", "99"], 3),
    "issue volunteer": (["--subject", "{holder}", "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                         "--birth-date", "1990-02-03", "--activity", "清掃", "--hours", "2",
                         "--volunteered-on", "2024-08-01", "--out", "{d}/vol.jwt"],
                        ["--subject", "{holder}", "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                         "--birth-date", "1990-02-03", "--activity", "清掃", "--hours", "0",
                         "--volunteered-on", "2024-08-01"], 3),
    "issue batch": (["{d}/residents.csv", "--out", "{d}/batch"], ["{d}/bad.bin", "--out", "{d}/batch2"], 3),
    # run again on an existing wallet it prints that wallet (exit 0); a file that is no wallet is bad input
    "wallet init": (["--wallet", "{d}/w2/wallet.json"], ["--wallet", "{d}/bad.bin"], 3),
    "wallet remove": (None, ["urn:sha256:00000000000000000000000000000000"], 3),
    "wallet add": (["{d}/kyc2.jwt"], ["{d}/empty.txt"], 3),
    "wallet list": ([], ["--wallet", "{d}/missing/wallet.json"], 3),
    "wallet present": (["{d}/p-req.jwt", "--out", "{d}/p-resp.txt"], ["{d}/bad.bin", "--out", "{d}/x.txt"], 3),
    "request create": (["--purpose", "shop", "--claims", "KycCredential:ageOver18", "--out", "{d}/r.jwt"],
                       ["--purpose", "shop", "--claims", "KycCredential:ageOver18", "--key", "{d}/empty.txt"], 3),
    "verify": (["{d}/v-resp.txt", "--request", "{d}/v-req.jwt", "--bundle", "{d}/trust-bundle.jwt",
                "--category", "lodging"], ["{d}/empty.txt"], 3),
    "bundle sync": (["--out", "{d}/tb2.jwt"], ["--out", "{d}/tb3.jwt", "--rpc-url", NOWHERE, "--registry", REG], 4),
    "bundle fetch": (["{url}", "--city", "{city}", "--allow-private-address", "--out", "{d}/fetched.jwt"],
                     ["http://127.0.0.1:9/none.jwt", "--city", "{city}", "--allow-private-address",
                      "--out", "{d}/f2.jwt"], 4),
    "bundle show": (["{d}/trust-bundle.jwt"], ["{d}/bad.bin"], 3),
    "bundle verify": (["{d}/trust-bundle.jwt", "--city", "{city}"], ["{d}/empty.txt", "--city", "{city}"], 3),
    "log show": ([], ["--log", "{d}/missing-dir/none.db"], 4),
    "log verify": ([], ["--log", "{d}/missing-dir/none.db"], 4),
    "log anchor": ([], ["--log", "{d}/missing-dir/none.db"], 4),
    "log export": (["--anonymized", "--k", "2", "--out", "{d}/open-data"], ["--out", "{d}/open-data2"], 2),
    "log my-history": (["--wallet", "{d}/home/wallet/wallet.json", "--no-chain"],
                       ["--wallet", "{d}/bad.bin", "--no-chain"], 3),
    "log check-entry": (["{d}/entry.json"], ["{d}/empty.txt"], 3),  # an entry and its proof, the chain alone
    "log heads": (["--log-id", "LOGID", "--anchorer", "ANCHORER"], ["--log-id", "not-hex"], 3),
    "status suspend": (["{cred}", "--staff", "tanaka"], ["urn:uuid:00000000-0000-0000-0000-000000000000"], 3),
    "status unsuspend": (["{cred}"], ["{cred}"], 3),  # the second time it is not suspended
    "status revoke": (["{cred}"], ["{cred}"], 3),  # revocation is final: revoking again is refused
    "status publish": (["--out", "{d}/lists"], ["--out", "{d}/lists2", "--format", "nope"], 3),
    "issued list": ([], ["--status", "nope"], 3),
    "issue offer": (["--type", "kyc", "--name", "加賀 花子", "--name-kana", "カガ ハナコ", "--birth-date", "1990-02-03",
                     "--evidence", "myNumberCardPublicKey", "--issuer-url", "https://issuer.city.kaga.example"],
                    ["--type", "kyc", "--name", "加賀 花子", "--name-kana", "カガ ハナコ", "--birth-date", "not-a-date",
                     "--evidence", "myNumberCardPublicKey", "--issuer-url", "https://issuer.city.kaga.example"], 3),
    "issue offers": (["{d}/residents.csv", "--out", "{d}/offers", "--issuer-url", "https://issuer.city.kaga.example"],
                     ["{d}/bad.bin", "--out", "{d}/offers2", "--issuer-url", "https://issuer.city.kaga.example"], 3),
    "admin-token add": (["tanaka", "--file", "{d}/admin-tokens.json", "--scope", "status"],
                        ["tanaka", "--file", "{d}/bad.bin"], 3),
    "admin-token list": (["--file", "{d}/admin-tokens.json"], ["--file", "{d}/bad.bin"], 3),
    "admin-token remove": (["tanaka", "--file", "{d}/admin-tokens.json"], ["tanaka", "--file", "{d}/bad.bin"], 3),
    # last: they change the city's keys and the chain
    "city anchor": (["{d}/kyc2.jwt"], ["{d}/missing.json"], 2),
    "city anchor-proof": (["{d}/kyc2.jwt"], ["{d}/missing.json"], 2),
    "city bundle-key": (["--rotate"], ["--rotate", "--password-file", "{d}/bad.bin"], 3),
    "city rotate-key": ([], ["--password-file", "{d}/bad.bin"], 3),
}
ORDER = list(CASES)  # setup-dependent commands run in this order: suspend before unsuspend before revoke


def _leaf_commands() -> list[str]:
    import typer.main

    out: list[str] = []
    stack: list[tuple[tuple[str, ...], object]] = [((), typer.main.get_command(app))]
    while stack:
        path, command = stack.pop()
        subs = getattr(command, "commands", None)
        if subs:
            stack.extend(((*path, name), sub) for name, sub in subs.items())
        # the demo prints a story, not data (tests/accesslog/test_demo.py); serve runs a server and prints
        # a log, not a document (tests/server start it as a process)
        elif path not in (("demo",), ("serve",)):
            out.append(" ".join(path))
    return sorted(out)


def test_the_table_covers_every_command() -> None:
    assert sorted(CASES) == _leaf_commands()


def _prepare(setup: Setup, command: str) -> dict[str, str]:
    """Per-command inputs made just in time; returns placeholders to substitute."""
    d = setup.dir
    subs: dict[str, str] = {}
    if command == "credential sign":
        unsigned = json.loads((d / "unsigned.json").read_text())
        unsigned["issuer"] = _ok(setup, "key", "show", f"{d}/ed.json", "--json")["didKey"]
        (d / "unsigned.json").write_text(json.dumps(unsigned))
    if command == "key import":
        from kaga_vc.keys import KeyType, PrivateKey

        (d / "hex.txt").write_text(PrivateKey.generate(KeyType.SECP256K1).to_bytes().hex())
    if command.startswith("did "):
        from kaga_vc.keys.keystore import keystore_public_key

        subs["PUBKEY"] = keystore_public_key(d / "ed.json").to_multikey()
        for name in ("k1-2", "k1-3"):
            if not (d / f"{name}.json").exists():
                _ok(setup, "key", "generate", "--type", "secp256k1", "--out", f"{d}/{name}.json", "--json")
        for placeholder, key in (("DIDK1", "k1"), ("DIDED2", "k1-2"), ("DIDK3", "k1-3")):
            subs[placeholder] = _ok(setup, "did", "create", "--method", "ethr", "--key", f"{d}/{key}.json",
                                    "--json")["did"]
    if command == "wallet present":
        _present(setup, "p")
    if command == "verify":
        _present(setup, "v")
    if command in ("log check-entry", "log heads"):
        _ok(setup, "log", "anchor", "--json")  # whatever is new (or nothing)
        history = _ok(setup, "log", "my-history", "--wallet", f"{d}/home/wallet/wallet.json", "--no-chain", "--json")
        held = next(e for e in history["entries"] if e["proof"])
        (d / "entry.json").write_text(json.dumps({"record": held["record"], "proof": held["proof"]}))
        subs.update(LOGID=held["proof"]["logId"], ANCHORER=held["proof"]["anchorer"])
    return subs


@pytest.mark.parametrize("command", ORDER)
def test_json_on_success_and_on_error(setup: Setup, command: str) -> None:
    success, mistake, mistake_code = CASES[command]
    subs = _prepare(setup, command)

    def args(extra: list[str]) -> list[str]:
        return [*command.split(), *(subs.get(a, a) for a in extra), "--json"]

    if success is not None:
        result = setup.run(args(success))
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code == ExitCode.OK, result.output
        document = json.loads(result.stdout)  # exactly one JSON document: json.loads refuses trailing text
        assert "error" not in document or command == "verify"
        assert PASSWORD not in result.output
    if mistake is not None:
        result = setup.run(args(mistake))
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code == mistake_code, result.output
        document = json.loads(result.stdout)
        if command == "verify":  # verify reports bad input as a result with problems, like any other
            assert document["verified"] is False and document["problems"]
        else:
            assert set(document["error"]) >= {"code", "detail"}
        assert "Traceback" not in result.output
