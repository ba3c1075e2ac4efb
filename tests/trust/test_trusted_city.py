"""Issue 13: which city the CLI trusts when none is named.

``--city``, else ``$KAGA_VC_TRUSTED_CITY``, else the city whose keys are in ``$KAGA_VC_HOME`` (the
city's own home trusting itself, with a note on stderr). A shop's home has no city: it pins nothing
implicitly and the bundle is refused; a ``city.json`` copied into a shop's home without the city's
keys pins nothing either.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.did import did_key_from_public_key
from kaga_vc.errors import BUNDLE_SIGNER_NOT_PINNED, BUNDLE_SIGNER_NOT_TRUSTED
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.verifier import TrustedIssuer, build_bundle

from .conftest import CityHome


@pytest.fixture
def other_city_bundle(tmp_path: Path) -> tuple[str, Path]:
    key = PrivateKey.generate(KeyType.ED25519)
    did = did_key_from_public_key(key.public_key)
    bundle = build_bundle(signer=KeySigner(key, f"{did}#{did.split(':')[-1]}"), issuers=[TrustedIssuer(did)],
                          histories=[])
    path = tmp_path / "bundle.jwt"
    path.write_text(bundle.token)
    return did, path


def _show(bundle: Path, home: Path, *extra: str) -> object:
    return CliRunner().invoke(app, ["bundle", "show", str(bundle), "--json", *extra],
                              env={"KAGA_VC_HOME": str(home), "KAGA_VC_TRUSTED_CITY": ""})


def test_a_shop_home_pins_nothing(other_city_bundle: tuple[str, Path], tmp_path: Path) -> None:
    _, bundle = other_city_bundle
    result = _show(bundle, tmp_path / "shop")
    assert result.exit_code == 1 and BUNDLE_SIGNER_NOT_PINNED in result.output  # type: ignore[attr-defined]


def test_a_copied_city_json_pins_nothing(other_city_bundle: tuple[str, Path], city_home: CityHome,
                                         tmp_path: Path) -> None:
    _, bundle = other_city_bundle
    shop = tmp_path / "shop"
    (shop / "city").mkdir(parents=True)
    shutil.copy(city_home.home / "city" / "city.json", shop / "city" / "city.json")
    result = _show(bundle, shop)
    assert result.exit_code == 1 and BUNDLE_SIGNER_NOT_PINNED in result.output  # type: ignore[attr-defined]


def test_the_citys_own_home_trusts_itself_and_says_so(other_city_bundle: tuple[str, Path], city_home: CityHome) -> None:
    other, bundle = other_city_bundle
    result = _show(bundle, city_home.home)
    output = " ".join(result.output.split())  # type: ignore[attr-defined]  # rich wraps long lines
    assert result.exit_code == 1 and BUNDLE_SIGNER_NOT_TRUSTED in output  # pinned to the home's city
    assert f"trusting this home's own city {city_home.did}" in output
    named = _show(bundle, city_home.home, "--city", other)  # naming a city wins, and no note
    assert named.exit_code == 0 and "trusting this home's own city" not in named.output  # type: ignore[attr-defined]
