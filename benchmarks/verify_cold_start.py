"""Cold start of the offline verifier: ``kaga-vc verify RESPONSE --request R --bundle B`` from process start to result.

    python benchmarks/verify_cold_start.py [--n 10]

Sets up a throw-away world first (the city's did:ethr on an embedded chain, an SD-JWT KYC credential
in a wallet, a signed trust bundle), then for each run creates a fresh request and response and times
the whole ``kaga-vc verify`` process (interpreter start, imports, bundle signature, request signature,
SD-JWT + KB-JWT, status list, nonce store). Side by side, in the same run:

* ``python -c pass``: the interpreter's own start (the floor);
* did-jwt-vc (Node): a process that verifies a VC 1.1 JWT presentation (``tests/interop/jose``; skipped
  when its packages are not installed);
* the warm, in-process ``verify_response`` (what a long-running verifier pays per presentation).
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    n = parser.parse_args().n

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

    peer: list[float] = []
    node_dir = ROOT / "tests" / "interop" / "jose"
    if shutil.which("node") and (node_dir / "node_modules" / "did-jwt-vc").is_dir():
        from tests._jose_support import ED, HOLDER_ED, credential_v11, did_of

        def node(request: dict[str, object]) -> dict[str, object]:
            out = subprocess.run(["node", str(node_dir / "didjwtvc.mjs")], input=json.dumps(request),
                                 capture_output=True, text=True, check=True)
            return dict(json.loads(out.stdout))

        vc = node({"op": "sign-vc", "did": did_of(ED), "kid": ED.key_id, "alg": "EdDSA",
                   "privateKeyHex": ED.key.to_bytes().hex(), "payload": credential_v11(did_of(ED), did_of(HOLDER_ED))})
        vp = node({"op": "sign-vp", "did": did_of(HOLDER_ED), "kid": HOLDER_ED.key_id, "alg": "EdDSA",
                   "privateKeyHex": HOLDER_ED.key.to_bytes().hex(), "options": {"challenge": "n", "domain": "d"},
                   "payload": {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiablePresentation"],
                               "holder": did_of(HOLDER_ED), "verifiableCredential": [vc["jwt"]]}})
        request = json.dumps({"op": "verify-vp", "jwt": vp["jwt"], "now": int(datetime(2026, 6, 1, tzinfo=UTC).timestamp()),
                              "options": {"challenge": "n", "domain": "d", "audience": "d"}})
        peer = [timed(["node", str(node_dir / "didjwtvc.mjs")], stdin=request) for _ in range(n)]

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
    print(summary("verify_response in process (warm)", warm))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
