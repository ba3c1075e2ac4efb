"""The city sets itself up and issues credentials: city init, one credential per type, a CSV batch.

Run: python examples/city_issuance.py WORKDIR   (WORKDIR holds the embedded chain, keys and records)
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from kaga_vc import verify_credential
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.issuer import init_city, open_city_issuer
from kaga_vc.issuer.service import run_csv_batch
from kaga_vc.registry import close_registry, ethr_method, open_embedded

PASSWORD = "example only - use a real secret"
RESIDENT = "did:key:z6MkrjRHEkqrpR8JWaGjjBbJpheVPU4VtnamjarpdSSpHYaQ"


def main(workdir: Path) -> None:
    home = workdir / "kaga-home"
    config, created = init_city(PASSWORD, home=home, scrypt_n=2**12)  # a small scrypt cost, for the example
    print(f"city DID: {config.did} ({'created' if created else 'existing'})")
    with open_city_issuer(PASSWORD, home=home) as issuer:
        kyc = issuer.issue("kyc", RESIDENT, {
            "fullName": "山田 太郎", "fullNameKana": "ヤマダ タロウ", "birthDate": "1975-04-12",
            "evidence": ["myNumberCardPublicKey"],  # the card's public-key authentication, never the number
        }, staff="clerk-1")
        residency = issuer.issue("residency", RESIDENT, {
            "fullName": "山田 太郎", "fullNameKana": "ヤマダ タロウ", "birthDate": "1975-04-12",
            "address": "石川県 加賀市 大聖寺南町 ニ41", "residentSince": "1975-04-12", "evidence": ["residenceCard"],
        }, format="data-integrity", staff="clerk-1")
        try:
            issuer.issue("kyc", RESIDENT, {"fullName": "山田 太郎", "fullNameKana": "ヤマダ タロウ",
                                           "birthDate": "1975-04-12", "address": "石川県 加賀市 作見町 1234 5678 9018"})
        except ValueError as error:  # InputError is a ValueError
            print(f"refused: {getattr(error, 'code', '')}")
        csv_path = Path(__file__).resolve().parent / "residents.csv"
        summary = run_csv_batch(issuer, csv_path, workdir / "issued", format="sd-jwt", staff="batch", progress=False)
        print(f"batch: {summary['issued']} issued, {summary['rejected']} rejected, results in {summary['resultFile']}")
    registry = open_embedded(home)  # a verifier online: resolve the city's did:ethr on the chain
    try:
        resolver = Resolver({"key": KeyMethod(), "ethr": ethr_method(registry)})
        for issued in (kyc, residency):
            result = verify_credential(issued.document, resolver=resolver, now=datetime.now(UTC))
            print(f"{issued.kind.type_name} ({issued.format}): verified={result.verified}")
            assert result.verified, result.problems
    finally:
        close_registry(registry)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
