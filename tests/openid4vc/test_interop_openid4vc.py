"""An independent wallet (npm @openid4vc/openid4vci, @openid4vc/openid4vp, @sd-jwt/core, dcql) against real
``kaga-vc serve`` processes: receive an SD-JWT VC by pre-authorized code with a PIN, present it through DCQL
with selective disclosure, and the refusals (wrong PIN, reused offer, key proof for another key, bad
c_nonce, wrong nonce, replayed vp_token) each with its own code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._world import World, make_world

WALLET_DIR = Path(__file__).resolve().parent.parent / "interop" / "openid4vc"
INSTALLED = (WALLET_DIR / "node_modules" / "@openid4vc" / "openid4vp").is_dir() and shutil.which("node")
if not INSTALLED and os.environ.get("KAGA_VC_REQUIRE_NODE"):
    raise RuntimeError("the Node.js interop packages of tests/interop/openid4vc are not installed")
pytestmark = [pytest.mark.node,
              pytest.mark.skipif(not INSTALLED, reason="Node.js interop packages not installed in openid4vc "
                                 "(scripts/test.sh runs npm ci)")]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("interop"))


def node(world: World, mode: str, **args: Any) -> dict[str, Any]:
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(world.issuer.cert)}
    done = subprocess.run(["node", "wallet.mjs", mode, json.dumps(args)], cwd=WALLET_DIR, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


@pytest.fixture(scope="module")
def received(world: World) -> dict[str, Any]:
    offer = world.offer("kyc")
    got = node(world, "receive", offer=offer.uri, pin=offer.tx_code)
    assert got["ok"], got
    world.write_bundle()
    return {**got, "offer": offer}


def test_the_npm_wallet_receives_an_sd_jwt_vc_with_the_pin(world: World, received: dict[str, Any]) -> None:
    from kaga_vc.proofs.jose.sd_jwt import split_sd_jwt, unverified_payload

    payload = unverified_payload(split_sd_jwt(received["credential"]).jwt)
    assert payload["vct"].endswith("/KycCredential")
    assert payload["cnf"]["jwk"]["x"] == received["publicJwk"]["x"]  # bound to the wallet's own key
    assert {d["locale"] for d in received["metadataDisplay"]} == {"ja-JP", "en-US"}


def test_reused_offer_is_refused(world: World, received: dict[str, Any]) -> None:
    again = node(world, "receive", offer=received["offer"].uri, pin=received["offer"].tx_code)
    assert not again["ok"] and "kaga:offer-used" in json.dumps(again)


def test_wrong_pin_is_refused(world: World) -> None:
    offer = world.offer("kyc")
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    got = node(world, "receive", offer=offer.uri, pin=wrong)
    assert not got["ok"] and "kaga:offer-tx-code-wrong" in json.dumps(got)


def test_key_proof_for_another_key_is_refused(world: World) -> None:
    offer = world.offer("kyc")
    got = node(world, "receive", offer=offer.uri, pin=offer.tx_code, attack="other-key")
    assert not got["ok"] and "kaga:key-proof-invalid" in json.dumps(got)


def test_a_c_nonce_not_ours_is_refused(world: World) -> None:
    offer = world.offer("kyc")
    got = node(world, "receive", offer=offer.uri, pin=offer.tx_code, attack="bad-nonce")
    assert not got["ok"] and "kaga:key-proof-nonce-invalid" in json.dumps(got)


def test_the_npm_wallet_presents_through_dcql_and_a_replay_is_refused(world: World, received: dict[str, Any]
                                                                     ) -> None:
    made = world.shop_request("age")
    got = node(world, "present", uri=made["uri"], credential=received["credential"],
               privateJwk=received["privateJwk"], replay=True)
    assert got["ok"], got
    assert got["satisfied"], got
    assert got["status"] == 200, got
    assert got["disclosed"] == {"q0": ["ageOver18"]}
    verdict = world.result(made["handle"])
    assert verdict["accepted"] is True and verdict["claims"][0]["name"] == "ageOver18"
    assert got["replayStatus"] == 400 and got["replayBody"]["kaga_code"] == "kaga:nonce-replayed"


def test_wrong_nonce_from_the_npm_wallet_is_refused(world: World, received: dict[str, Any]) -> None:
    made = world.shop_request("age")
    got = node(world, "present", uri=made["uri"], credential=received["credential"],
               privateJwk=received["privateJwk"], nonce="AAAAAAAAAAAAAAAAAAAAAA")
    assert got["ok"] and got["status"] == 400 and got["body"]["kaga_code"] == "INVALID_CHALLENGE_ERROR"
