"""A real city home (``init_city`` on the embedded chain) shared by the trust tests of this folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kaga_vc.issuer import init_city

PASSWORD = "trust tests password"
FAST_N = 2**10


@dataclass(frozen=True)
class CityHome:
    home: Path
    did: str


@pytest.fixture(scope="session")
def city_home(tmp_path_factory: pytest.TempPathFactory) -> CityHome:
    home = tmp_path_factory.mktemp("city-home")
    config, _ = init_city(PASSWORD, home=home, scrypt_n=FAST_N)
    return CityHome(home, config.did)
