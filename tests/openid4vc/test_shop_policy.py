"""``kaga-vc serve --role verifier`` with the shop's own policy, category, name and place (real processes).

The policy file is the one ``kaga-vc verify --policy`` reads: here the age check is limited to KYC
credentials, so a resident showing her residency credential's ``ageOver18`` is refused, and the
residency check (a purpose the policy does not list) is refused too. Every entry the server records names
the shop as the options say; a broken policy file stops the start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kaga_vc.holder import create_wallet
from kaga_vc.holder.openid4vc import present_openid4vp

from ._world import FAST, World, make_world

POLICY = {"purposes": {"年齢確認 / age check": {"types": ["KycCredential"]}}}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("shop-policy")
    policy = base / "policy.json"
    policy.write_text(json.dumps(POLICY, ensure_ascii=False), encoding="utf-8")
    yield from make_world(base, ("--policy", str(policy), "--category", "lodging", "--shop-name", "ゆのくに 旅館",
                                 "--shop-location", "山代温泉"))


@pytest.fixture(scope="module")
def wallet(world: World, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from kaga_vc.holder.openid4vc import receive_offer

    wallet = create_wallet(tmp_path_factory.mktemp("wallet") / "wallet.json", "pw", scrypt_n=FAST)
    offer = world.offer("residency")
    receive_offer(wallet, offer.uri, tx_code=offer.tx_code, session=world.session())
    world.write_bundle()
    return wallet


def _last_entry(world: World) -> dict[str, Any]:
    entries = world.access_log()
    assert entries
    entry: dict[str, Any] = entries[-1].to_json()["record"]["entry"]
    return entry


@pytest.mark.parametrize("check", ["age", "residency"])  # both accepted by a server without the policy
def test_the_shops_policy_decides_and_the_entry_names_the_shop(world: World, wallet: Any, check: str) -> None:
    made = world.shop_request(check)
    present_openid4vp(wallet, made["uri"], session=world.session())
    verdict = world.result(made["handle"])
    assert verdict["accepted"] is False, verdict  # age: only from a KYC credential; residency: not a listed purpose
    entry = _last_entry(world)
    expected = {"age": "kaga:credential-type-not-accepted", "residency": "kaga:purpose-not-accepted"}[check]
    assert entry["result"] == "refused" and entry["reason"] == expected, entry
    assert (entry["verifierName"], entry["location"], entry["verifierCategory"]) == ("ゆのくに 旅館", "山代温泉", "lodging")


def test_the_request_names_the_shop_to_a_standard_wallet(world: World, wallet: Any) -> None:
    """client_metadata.client_name (RFC 7591) in the signed request object, and the KVP1 request's name."""
    from kaga_vc.proofs.jose import parse_compact
    from kaga_vc.verifier import parse_request

    made = world.shop_request("age")
    request_uri = parse_qs(urlsplit(made["uri"]).query)["request_uri"][0]
    request_object = world.session().get(request_uri).text.strip()
    assert parse_compact(request_object).payload["client_metadata"]["client_name"] == "ゆのくに 旅館"
    assert parse_request(made["kvp1Request"])[0].name == "ゆのくに 旅館"
    answer = present_openid4vp(wallet, made["uri"], session=world.session())
    assert answer.verifier_name == "ゆのくに 旅館"


def test_a_broken_policy_stops_the_start(tmp_path: Path) -> None:
    broken = tmp_path / "policy.json"
    broken.write_text('{"staleBundle": "sometimes"}', encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", "from kaga_vc.cli import main; main()", "serve", "--role", "verifier",
                          "--policy", str(broken), "--port", "0"], capture_output=True, text=True, timeout=60,
                         check=False, cwd=tmp_path)
    assert run.returncode == 3, (run.stdout, run.stderr)
    assert "policy" in run.stderr + run.stdout
