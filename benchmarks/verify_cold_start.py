"""Cold start of the offline verifier: ``kaga-vc verify RESPONSE --request R --bundle B`` from process start to result.

    python benchmarks/verify_cold_start.py [--n 10] [--emit]

Sets up a throw-away world first (the city's did:ethr on an embedded chain, an SD-JWT KYC credential
in a wallet, a signed trust bundle), then for each run creates a fresh request and response and times
the whole ``kaga-vc verify`` process (interpreter start, imports, bundle signature, request signature,
SD-JWT + KB-JWT, status list, nonce store). Side by side, in the same run:

* ``python -c pass``: the interpreter's own start (the floor);
* did-jwt-vc (Node): a fresh process that verifies a VC 1.1 JWT presentation holding a VC 1.1 JWT
  (``benchmarks/peers``, installed by run_all.py; skipped when its packages are not installed);
* the same verify as a shop runs it by default: with the verifier key ``kaga-vc request create`` makes
  (unlocked per process, default scrypt cost) and the access-log entry appended;
* ``kaga-vc --help``;
* the warm, in-process ``verify_response`` (what a long-running verifier pays per presentation).

kaga_vc's bytecode is compiled first, as ``pip install`` leaves it (with ``PYTHONDONTWRITEBYTECODE``
set, every process would otherwise compile the package). Then one ``python -X importtime`` run of the same verify: the import time per top-level package (what
the README's cold-start table shows). With ``--emit`` a last ``RESULT {json}`` line of medians (s).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
sys.path.insert(0, str(ROOT))


def timed(command: list[str], *, cwd: Path | None = None, stdin: str | None = None, ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, input=stdin, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"{command[:3]} failed ({done.returncode}): {done.stderr[-500:]}")
    return elapsed


def summary(name: str, samples: list[float], base: float | None = None) -> str:
    p50 = statistics.median(samples)
    p90 = sorted(samples)[max(0, int(len(samples) * 0.9) - 1)]
    ratio = f"{p50 / base:6.2f}x" if base else "      "
    return f"{name:<58} p50 {p50 * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms  {ratio}"


def import_table(stderr: str) -> dict[str, int]:
    """Self import time (µs) per top-level package from ``python -X importtime`` output."""
    table: dict[str, int] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = line[len("import time:"):].split("|")
        name = fields[2].strip().split(".")[0]
        table[name] = table.get(name, 0) + int(fields[0])
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--emit", action="store_true", help="end with a RESULT {json} line for run_all.py")
    args = parser.parse_args()
    n = args.n

    from kaga_vc.credentials import issue_credential
    from kaga_vc.holder import create_wallet
    from kaga_vc.issuer import city_bundle_signer, init_city, open_city_issuer
    from kaga_vc.registry import close_registry, ethr_method, open_embedded
    from kaga_vc.verifier import (
        CredentialQuery,
        NonceStore,
        Policy,
        TrustedIssuer,
        create_request,
        sync_bundle,
        verify_response,
    )
    from tests.verifier.conftest import FAST, KYC_CLAIMS, did_key_signer, wait_for_chain

    work = Path(tempfile.mkdtemp(prefix="kaga-cold-"))
    config, _ = init_city("pw", home=work, scrypt_n=FAST)
    wallet = create_wallet(work / "wallet.json", "pw", scrypt_n=FAST)
    registry = open_embedded(work)
    wait_for_chain(registry)
    with open_city_issuer("pw", home=work) as issuer:
        wallet.add(issuer.issue("kyc", wallet.did, KYC_CLAIMS, staff="bench").document)
        lists = issuer.status.build_all(lambda c: issue_credential(c, signer=issuer.ed25519_signer), issuer=config.did)
        bundle = sync_bundle(ethr_method(registry), signer=city_bundle_signer("pw", home=work),
                             issuers=[TrustedIssuer(config.did, ("KycCredential",))], status_lists=lists)
    close_registry(registry)
    (work / "bundle.jwt").write_text(bundle.token)
    verifier = did_key_signer()
    query = [CredentialQuery("KycCredential", ("ageOver18",))]

    def fresh(i: int) -> tuple[Path, Path]:
        request = create_request(signer=verifier, purpose="bench", credentials=query)
        req, resp = work / f"request-{i}.jwt", work / f"response-{i}.txt"
        req.write_text(request.token)
        resp.write_text(wallet.present(request.token).compact)
        return req, resp

    # an installed kaga_vc has its bytecode (pip compiles it): without it, and with PYTHONDONTWRITEBYTECODE
    # set (as in CI and these sessions), every cold process would compile the whole package again
    import compileall

    compileall.compile_dir(str(ROOT / "kaga_vc"), quiet=1)
    env_home = {"KAGA_VC_HOME": str(work)}
    cli = [sys.executable, "-c", "from kaga_vc.cli import main; main()"]
    floor = [timed([sys.executable, "-c", "pass"]) for _ in range(n)]
    cold = []
    for i in range(n):
        req, resp = fresh(i)
        start = time.perf_counter()
        done = subprocess.run([*cli, "verify", str(resp), "--request", str(req), "--bundle", str(work / "bundle.jwt"),
                               "--city", config.did, "--json"], capture_output=True, text=True, check=False,
                              env={**__import__("os").environ, **env_home})
        cold.append(time.perf_counter() - start)
        assert done.returncode == 0 and json.loads(done.stdout)["verified"], done.stdout[-800:] + done.stderr[-800:]

    env = {**__import__("os").environ, **env_home}
    help_runs = [timed([*cli, "--help"]) for _ in range(n)]
    req, resp = fresh(999)
    verify_args = ["verify", str(resp), "--request", str(req), "--bundle", str(work / "bundle.jwt"), "--city", config.did,
                   "--json"]
    traced = subprocess.run([sys.executable, "-X", "importtime", "-c", "from kaga_vc.cli import main; main()",
                             *verify_args], capture_output=True, text=True, check=False, env=env)
    assert traced.returncode == 0, traced.stderr[-800:]
    imports = import_table(traced.stderr)

    # a shop's default set-up: the verifier key `kaga-vc request create` makes (default scrypt cost) and
    # the access log, so each verify also unlocks the key and appends a signed entry (SQLAlchemy store)
    from kaga_vc.cli._verifier_home import verifier_key_path
    from kaga_vc.keys import KeyType, PrivateKey
    from kaga_vc.keys.keystore import save_key

    save_key(verifier_key_path(str(work)), PrivateKey.generate(KeyType.ED25519), "pw", label="verifier")
    logged = []
    for i in range(n):
        req, resp = fresh(500 + i)
        start = time.perf_counter()
        done = subprocess.run([*cli, "verify", str(resp), "--request", str(req), "--bundle", str(work / "bundle.jwt"),
                               "--city", config.did, "--json"], capture_output=True, text=True, check=False,
                              env={**env, "KAGA_VC_PASSWORD": "pw"})
        logged.append(time.perf_counter() - start)
        assert done.returncode == 0 and json.loads(done.stdout)["verified"], done.stdout[-800:] + done.stderr[-800:]

    peer: list[float] = []
    if shutil.which("node") and (PEERS / "node_modules" / "did-jwt-vc").is_dir():
        from kaga_vc.did import did_key_from_public_key
        from kaga_vc.keys import KeyType, PrivateKey

        issuer_key, holder_key = PrivateKey.generate(KeyType.ED25519), PrivateKey.generate(KeyType.ED25519)
        issuer_did, holder_did = (did_key_from_public_key(k.public_key) for k in (issuer_key, holder_key))
        vc = {"sub": holder_did, "nbf": 1767225600, "vc": {"@context": ["https://www.w3.org/2018/credentials/v1"],
              "type": ["VerifiableCredential", "KycCredential"], "credentialSubject": {"ageOver18": True}}}
        signed = subprocess.run(["node", str(PEERS / "vp_verify.mjs")], capture_output=True, text=True, check=True,
                                input=json.dumps({"op": "sign", "issuer": issuer_did, "holder": holder_did,
                                                  "issuerKeyHex": issuer_key.to_bytes().hex(),
                                                  "holderKeyHex": holder_key.to_bytes().hex(), "vc": vc,
                                                  "challenge": "n", "domain": "d"}))
        request = json.dumps({"op": "verify", "vp": json.loads(signed.stdout)["vp"], "challenge": "n", "domain": "d",
                              "now": int(datetime(2026, 6, 1, tzinfo=UTC).timestamp())})
        check = subprocess.run(["node", str(PEERS / "vp_verify.mjs")], input=request, capture_output=True, text=True,
                               check=False)
        assert json.loads(check.stdout or "{}").get("verified") is True, check.stdout + check.stderr[-800:]
        peer = [timed(["node", str(PEERS / "vp_verify.mjs")], stdin=request) for _ in range(n)]

    warm = []
    with NonceStore(work / "warm.sqlite3") as store:
        for i in range(max(n, 20)):
            req, resp = fresh(1000 + i)
            start = time.perf_counter()
            result = verify_response(resp.read_text(), request=req.read_text(), bundle=bundle.token, nonce_store=store,
                                     policy=Policy(trusted_cities=(bundle.city,)))
            warm.append(time.perf_counter() - start)
            assert result.verified

    base = statistics.median(floor)
    print(f"offline verifier cold start, {n} runs, this machine ({sys.version.split()[0]})")
    print(summary("python -c pass (interpreter start)", floor, base))
    print(summary("kaga-vc verify RESPONSE --request --bundle (cold process)", cold, base))
    if peer:
        print(summary("did-jwt-vc verify-vp, node process (peer, cold)", peer, base))
        print(f"kaga-vc verify cold / did-jwt-vc cold: {statistics.median(cold) / statistics.median(peer):.2f}x")
    print(summary("kaga-vc verify, access log written (key unlock + entry)", logged, base))
    print(summary("kaga-vc --help (cold process)", help_runs, base))
    print(summary("verify_response in process (warm)", warm))
    print("\nimports of the cold verify (python -X importtime), self time per top-level package:")
    total = sum(imports.values())
    for name, micros in sorted(imports.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {name:<40} {micros / 1000:7.1f} ms")
    print(f"  {'(all ' + str(len(imports)) + ' packages)':<40} {total / 1000:7.1f} ms")
    if args.emit:
        result = {"python -c pass": base, "kaga-vc verify cold": statistics.median(cold),
                  "kaga-vc --help cold": statistics.median(help_runs),
                  "kaga-vc verify cold, logged": statistics.median(logged), "verify_response warm": statistics.median(warm),
                  "imports total": total / 1e6}
        if peer:
            result["did-jwt-vc verify-vp cold"] = statistics.median(peer)
        top = sorted(imports.items(), key=lambda kv: -kv[1])[:20]
        result.update({f"import {name}": micros / 1e6 for name, micros in top})
        print("RESULT " + json.dumps(result))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
