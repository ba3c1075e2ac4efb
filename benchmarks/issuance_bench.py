"""The city's issuance throughput per format, and didkit issuing equivalent credentials (run on demand).

    python benchmarks/issuance_bench.py [--n 300] [--batch 4000] [--workers N] [--emit]

For each format, issues ``n`` residency credentials through ``CityIssuer.issue`` — claim validation,
JSON Schema check, two status list entries claimed in the SQLite issuance records, signing, and the
issuance record — on a city set up on a fresh embedded chain. Prints credentials/s and the projected
time for Kaga's 66,000 residents. In the same run, didkit 0.3.3 (Rust) issues the same claims: as a
VC 1.1 credential with ``Ed25519Signature2020`` (the nearest to Data Integrity it signs) and as an
EdDSA JWT VC; the ratio compares our throughput with didkit's signing alone (no records, no status).

Then the whole batch pipeline, ``run_csv_batch`` on a generated CSV of ``--batch`` distinct residents
(validation, schema, status entries, signing in a process pool, group commits of the records and the
journal, files released after commit) for SD-JWT and Data Integrity, and the machine-readable lines
``rate issuance-sd-jwt N``, ``rate issuance-data-integrity N`` (credentials/s) and
``ratio issuance-sd-jwt/didkit-jwt-signing X`` for benchmarks/run_all.py (with ``--emit``, also a last
``RESULT {json}`` line holding didkit's bare JWT signing rate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kaga_vc.issuer import init_city, open_city_issuer

POPULATION = 66_000
PASSWORD = "benchmark"
CLAIMS = {"fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-02-03",
          "address": "石川県 加賀市 大聖寺南町 ニ41", "residentSince": "2015-04-01", "evidence": ["residenceCard"]}
SUBJECT = "did:key:z6MkrjRHEkqrpR8JWaGjjBbJpheVPU4VtnamjarpdSSpHYaQ"


def rate(run: Callable[[], Any], n: int) -> float:
    run()  # warm
    start = time.perf_counter()
    for _ in range(n):
        run()
    return n / (time.perf_counter() - start)


def didkit_rates(n: int) -> dict[str, float]:
    try:
        import didkit
    except ImportError:
        return {}
    jwk = didkit.generate_ed25519_key()
    did = didkit.key_to_did("key", jwk)
    async def method() -> str:
        return str(await didkit.key_to_verification_method("key", jwk))

    vm = asyncio.run(method())
    subject = {"id": SUBJECT, **{k: v for k, v in CLAIMS.items() if k != "evidence"}, "ageOver18": True,
               "ageOver20": True, "residentOfKaga": True}
    credential = json.dumps({
        "@context": ["https://www.w3.org/2018/credentials/v1", {"@vocab": "https://city.kaga.ishikawa.jp/ns/credentials#"}],
        "type": ["VerifiableCredential", "ResidencyCredential"], "issuer": did,
        "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": subject,
    }, ensure_ascii=False)
    rates = {}
    for label, proof_format, proof_type in (("Ed25519Signature2020 (LDP)", "ldp", "Ed25519Signature2020"),
                                            ("EdDSA JWT VC", "jwt", None)):
        options = {"proofPurpose": "assertionMethod", "verificationMethod": vm, "proofFormat": proof_format}
        if proof_type:
            options["type"] = proof_type
        text = json.dumps(options)

        async def many(count: int, text: str = text) -> None:
            for _ in range(count):
                await didkit.issue_credential(credential, text, jwk)

        asyncio.run(many(1))
        start = time.perf_counter()
        asyncio.run(many(n))
        rates[label] = n / (time.perf_counter() - start)
    return rates


def batch_rate(home: Path, fmt: str, rows: int, workers: int | None) -> float:
    """Credentials/s of ``run_csv_batch`` over ``rows`` residents, records in a fresh SQLite file."""
    import csv

    from kaga_vc.did import did_key_from_public_key
    from kaga_vc.issuer.service import run_csv_batch
    from kaga_vc.keys import KeyType, PrivateKey

    work = Path(tempfile.mkdtemp(dir=home))
    source = work / "residents.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["type", "subject", "fullName", "fullNameKana", "birthDate", "address", "residentSince",
                         "evidence"])
        for n in range(rows):
            subject = did_key_from_public_key(PrivateKey.from_bytes(KeyType.ED25519, n.to_bytes(4, "big") * 8).public_key)
            writer.writerow(["residency", subject, f"加賀 太郎{n}", "カガ タロウ", f"19{50 + n % 50}-0{1 + n % 9}-1{n % 10}",
                             CLAIMS["address"], "2001-04-01", "residenceCard"])
    with open_city_issuer(PASSWORD, home=home, records_url=f"sqlite:///{work / 'records.sqlite3'}") as issuer:
        start = time.perf_counter()
        summary = run_csv_batch(issuer, source, work / "out", format=fmt, staff="bench", progress=False,
                                workers=workers)
        elapsed = time.perf_counter() - start
    assert summary["issued"] == rows, summary
    return rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--batch", type=int, default=4000, help="rows of the whole-pipeline batch runs")
    parser.add_argument("--workers", type=int, default=None, help="signing processes (default: one per core)")
    parser.add_argument("--emit", action="store_true", help="end with a RESULT {json} line for run_all.py")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        init_city(PASSWORD, home=home, scrypt_n=2**10)
        results = {}
        with open_city_issuer(PASSWORD, home=home) as issuer:
            for fmt in ("data-integrity", "vc-jwt", "jwt-vc11", "sd-jwt"):
                results[fmt] = rate(lambda fmt=fmt: issuer.issue("residency", SUBJECT, CLAIMS, format=fmt,
                                                                  staff="bench"), args.n)
        batches = {fmt: batch_rate(home, fmt, args.batch, args.workers) for fmt in ("sd-jwt", "data-integrity")}
    peers = didkit_rates(args.n)
    print(f"{'issuance (validate, schema, status, sign, record)':52} {'cred/s':>8} {'66,000 in':>10}")
    for fmt, value in results.items():
        print(f"kaga_vc {fmt:44} {value:8.0f} {POPULATION / value / 60:8.1f} min")
    for label, value in peers.items():
        print(f"didkit 0.3.3 {label:39} {value:8.0f} {POPULATION / value / 60:8.1f} min")
    if peers:
        ldp = peers["Ed25519Signature2020 (LDP)"]
        jwt = peers["EdDSA JWT VC"]
        print(f"ratio data-integrity / didkit LDP: {results['data-integrity'] / ldp:.2f}x; "
              f"vc-jwt / didkit JWT: {results['vc-jwt'] / jwt:.2f}x; sd-jwt / didkit JWT: {results['sd-jwt'] / jwt:.2f}x")
    print(f"batch of {args.batch} (run_csv_batch: pool, group commits, release after commit):")
    for fmt, value in batches.items():
        print(f"kaga_vc batch {fmt:38} {value:8.0f} {POPULATION / value / 60:8.1f} min")
    if peers:
        print(f"batch data-integrity / didkit LDP: {batches['data-integrity'] / peers['Ed25519Signature2020 (LDP)']:.2f}x")
    print(f"rate issuance-sd-jwt {batches['sd-jwt']:.0f}")
    print(f"rate issuance-data-integrity {batches['data-integrity']:.0f}")
    if peers:
        print(f"ratio issuance-sd-jwt/didkit-jwt-signing {batches['sd-jwt'] / peers['EdDSA JWT VC']:.3f}")
    if args.emit:
        result = {f"rate single {fmt}": value for fmt, value in results.items()}
        if peers:
            result["rate didkit-jwt-signing"] = peers["EdDSA JWT VC"]
            result["rate didkit-ldp-signing"] = peers["Ed25519Signature2020 (LDP)"]
        print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    import os
    import sys

    main()
    sys.stdout.flush()
    os._exit(0)  # didkit 0.3.3's runtime thread aborts during interpreter finalisation
