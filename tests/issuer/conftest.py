"""A city set up once per module on its own embedded chain, and the resolver that reads that chain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.did import KeyMethod, Resolver, did_key_from_public_key
from kaga_vc.issuer import CityIssuer, init_city, open_city_issuer
from kaga_vc.keys import KeySigner, KeyType, PrivateKey

PASSWORD = "correct horse battery staple"
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def resident_key(seed: int) -> PrivateKey:
    return PrivateKey.from_bytes(KeyType.ED25519, bytes([seed]) * 31 + b"\x01")


def resident_did(seed: int = 1) -> str:
    return str(did_key_from_public_key(resident_key(seed).public_key))


def resident_signer(seed: int = 1) -> KeySigner:
    did = resident_did(seed)
    return KeySigner(resident_key(seed), f"{did}#{did.rsplit(':', 1)[-1]}")


def residency_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-02-03",
        "address": "石川県 加賀市 大聖寺南町 ニ41", "residentSince": "2015-04-01", "evidence": ["residenceCard"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def kyc_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "fullName": "山田 太郎", "fullNameKana": "ヤマダ タロウ", "birthDate": "2008-06-02", "gender": "male",
        "evidence": ["myNumberCardPublicKey"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def virtual_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "fullName": "Emma Schmidt", "fullNameKana": "エマ シュミット", "birthDate": "1992-05-17",
        "evidence": ["openid"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def voting_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-02-03",
        "address": "石川県 加賀市 大聖寺南町 ニ41", "evidence": ["residenceCard"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def vaccination_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-02-03",
        "vaccine": "Influenza (quadrivalent)", "vaccinatedOn": "2024-11-02", "dose": 2,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def volunteer_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-02-03",
        "activity": "片山津 海岸清掃", "organiser": "加賀市", "hours": "3", "volunteeredOn": "2024-08-01",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


CLAIMS = {"kyc": kyc_claims, "residency": residency_claims, "virtual-resident": virtual_claims,
          "voting-eligibility": voting_claims, "vaccination": vaccination_claims, "volunteer": volunteer_claims}


@pytest.fixture(scope="module")
def city_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("city")
    init_city(PASSWORD, home=home, scrypt_n=2**10)
    return home


@pytest.fixture(scope="module")
def issuer(city_home: Path) -> Iterator[CityIssuer]:
    with open_city_issuer(PASSWORD, home=city_home) as city:
        yield city


@pytest.fixture(scope="module")
def city_document(city_home: Path, issuer: CityIssuer) -> dict[str, Any]:
    from kaga_vc.registry import close_registry, ethr_method, open_embedded

    registry = open_embedded(city_home)
    try:
        return Resolver({"ethr": ethr_method(registry)}).resolve(issuer.did).did_document
    finally:
        close_registry(registry)


@pytest.fixture(scope="module")
def resolver(city_home: Path, city_document: dict[str, Any]) -> Resolver:
    """did:key plus the city's did:ethr as resolved from the chain (offline afterwards)."""
    from kaga_vc.did.ethr import DIDHistory, EthrMethod, HistorySource
    from kaga_vc.registry import close_registry, ethr_method, open_embedded

    registry = open_embedded(city_home)
    try:
        history = ethr_method(registry).history(city_document["id"]).to_json()
    finally:
        close_registry(registry)
    source = HistorySource(DIDHistory.from_json(history))
    return Resolver({"key": KeyMethod(), "ethr": EthrMethod({"0x539": source})})
