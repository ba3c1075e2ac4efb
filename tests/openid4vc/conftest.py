"""A city on its own embedded chain, its issuer and offer store, and a wallet key (P-256, as phone wallets use)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.issuer import CityIssuer, init_city, open_city_issuer
from kaga_vc.issuer.offers import OfferStore
from kaga_vc.issuer.openid4vci import open_offer_store

PASSWORD = "correct horse battery staple"
BASE = "http://127.0.0.1:9"


def kyc_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "fullName": "山田 太郎", "fullNameKana": "ヤマダ タロウ", "birthDate": "2001-06-02", "gender": "male",
        "evidence": ["myNumberCardPublicKey"],
    }
    claims.update(overrides)
    return claims


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
def offers(issuer: CityIssuer) -> OfferStore:
    return open_offer_store(issuer)
