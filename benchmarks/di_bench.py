"""Data Integrity issue / verify timings, side by side with didkit's LDP (run on demand).

    python benchmarks/di_bench.py [--n 300] [--emit]

Measures, warm and on one core: kaga_vc ``issue_credential`` and ``verify_credential`` (full check:
data model, validity, did:key resolution, purpose, signature) for eddsa-rdfc-2022 and
ecdsa-rdfc-2019 (P-256) on a VC 2.0 credential, the proof-only verification, and didkit 0.3.3
issuing / verifying the same claims as a VC 1.1 credential with Ed25519Signature2020 (the nearest
thing didkit 0.3.3 signs; it has no Data Integrity suites). When ``benchmarks/peers`` has its Node
packages (run_all.py installs them), Digital Bazaar's ``vc.verifyCredential`` verifies the very
eddsa-rdfc-2022 credential kaga_vc verifies, in one warm Node process with every document in memory.
Prints p50 / p99 and the ratio to didkit; with ``--emit`` a last ``RESULT {json}`` line of medians (s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _timing

from kaga_vc.credentials import issue_credential, verify_credential
from kaga_vc.did import KeyMethod, Resolver, did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.proofs import EcdsaRdfc2019, EddsaRdfc2022, default_document_loader

PEERS = Path(__file__).resolve().parent / "peers"
SUBJECT = {"id": "did:example:resident", "name": "加賀 花子", "residentOf": "加賀市", "birthDate": "1990-04-01"}


def signer_for(key_type: KeyType) -> KeySigner:
    key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")


def credential_v2() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "ResidentCredential"],
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": dict(SUBJECT),
    }


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    return _timing.timed(fn, n, warmup=20)


def timed_async(make: Callable[[], Any], n: int) -> list[float]:
    return _timing.timed_async(make, n, warmup=20)


def pct(samples: list[float], q: float) -> float:
    return _timing.percentile(samples, q) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--emit", action="store_true", help="end with a RESULT {json} line for run_all.py")
    args = parser.parse_args()
    n = args.n
    resolver = Resolver({"key": KeyMethod()})
    loader = default_document_loader()
    rows: list[tuple[str, list[float]]] = []

    for label, key_type, suite in (("eddsa-rdfc-2022", KeyType.ED25519, EddsaRdfc2022()), ("ecdsa-rdfc-2019 P-256", KeyType.P256, EcdsaRdfc2019())):
        signer = signer_for(key_type)
        signed = issue_credential(credential_v2(), signer=signer)
        rows.append((f"kaga_vc issue   {label}", timed(lambda signer=signer: issue_credential(credential_v2(), signer=signer), n)))
        rows.append((f"kaga_vc verify  {label}", timed(lambda signed=signed: verify_credential(signed, resolver=resolver), n)))
        document = {k: v for k, v in signed.items() if k != "proof"}
        public_key = signer.key.public_key
        rows.append((f"kaga_vc proof-only verify {label}", timed(lambda s=suite, d=document, p=signed["proof"], k=public_key: s.verify_proof(d, p, k, loader), n)))
        assert verify_credential(signed, resolver=resolver).verified
        if label == "eddsa-rdfc-2022":
            peer = digital_bazaar(signed, signer.key_id.split("#")[0], resolver, n)
            if peer:
                rows.append(("digital-bazaar verify eddsa-rdfc-2022 (Node)", peer))

    try:
        import didkit
    except ImportError:
        didkit = None
    if didkit is not None:
        jwk = didkit.generate_ed25519_key()
        did = didkit.key_to_did("key", jwk)
        vm = asyncio.run(_vm(didkit, jwk))
        credential = json.dumps({
            "@context": ["https://www.w3.org/2018/credentials/v1", {"@vocab": "https://www.w3.org/ns/credentials/examples#"}],
            "type": ["VerifiableCredential"], "issuer": did, "issuanceDate": "2025-01-01T00:00:00Z",
            "credentialSubject": dict(SUBJECT),
        })
        options = json.dumps({"proofPurpose": "assertionMethod", "verificationMethod": vm, "type": "Ed25519Signature2020"})
        signed_dk = asyncio.run(_call(lambda: didkit.issue_credential(credential, options, jwk)))
        verify_options = json.dumps({"proofPurpose": "assertionMethod"})
        assert json.loads(asyncio.run(_call(lambda: didkit.verify_credential(signed_dk, verify_options))))["errors"] == []
        rows.append(("didkit  issue   Ed25519Signature2020 (VC 1.1)", timed_async(lambda: didkit.issue_credential(credential, options, jwk), n)))
        rows.append(("didkit  verify  Ed25519Signature2020 (VC 1.1)", timed_async(lambda: didkit.verify_credential(signed_dk, verify_options), n)))

    baseline = {kind: statistics.median(s) for name, s in rows if name.startswith("didkit") for kind in [name.split()[1]]}
    print(f"{'operation':56} {'p50 ms':>8} {'p99 ms':>8} {'vs didkit p50':>14}")
    for name, samples in rows:
        kind = name.split()[1]
        ratio = ""
        if name.startswith("kaga_vc") and kind in baseline and "proof-only" not in name:
            ratio = f"{statistics.median(samples) / baseline[kind]:.2f}x"
        print(f"{name:56} {pct(samples, 0.5):8.3f} {pct(samples, 0.99):8.3f} {ratio:>14}")
    medians = {name: statistics.median(samples) for name, samples in rows}
    peer_name = "digital-bazaar verify eddsa-rdfc-2022 (Node)"
    if peer_name in medians:
        print(f"kaga_vc verify eddsa-rdfc-2022 / Digital Bazaar: "
              f"{medians['kaga_vc verify  eddsa-rdfc-2022'] / medians[peer_name]:.2f}x")
    if args.emit:
        print("RESULT " + json.dumps(medians))


def digital_bazaar(signed: dict[str, Any], did: str, resolver: Resolver, n: int) -> list[float]:
    """Seconds per ``vc.verifyCredential`` of ``signed`` in a warm Node process (empty without Node)."""
    from kaga_vc.contexts import bundled_contexts

    if shutil.which("node") is None or not (PEERS / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        return []
    bundle = bundled_contexts()
    documents: dict[str, Any] = {url: bundle.get(url) for url in bundle.urls()}
    documents[did] = resolver.resolve(did).did_document
    request = json.dumps({"credential": signed, "documents": documents, "n": n, "warmup": 20}, ensure_ascii=False)
    done = subprocess.run(["node", str(PEERS / "di_verify.mjs")], input=request, capture_output=True, text=True,
                          cwd=PEERS, check=True, timeout=600)
    answer = json.loads(done.stdout)
    assert answer["verified"], done.stdout[:500]
    return [float(s) for s in answer["samples"]]


async def _vm(didkit: Any, jwk: str) -> str:
    return str(await didkit.key_to_verification_method("key", jwk))


async def _call(make: Callable[[], Any]) -> Any:
    return await make()


if __name__ == "__main__":
    import os
    import sys

    main()
    sys.stdout.flush()
    os._exit(0)  # didkit 0.3.3's runtime thread aborts during interpreter finalisation
