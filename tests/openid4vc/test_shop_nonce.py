"""``kaga-vc serve --role verifier`` consumes nothing until the access-log entry is written (issue 13; real processes).

The shop's server recorded the entry *after* the nonce was committed: a log it could not write left the
resident's presentation burnt (the retry was a replay) and the attempt unrecorded. Now the entry is
written inside the verification, before the nonce commits: the log failing is an error at the counter,
the nonce stays usable, and the retry is accepted and recorded once.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.holder import create_wallet
from kaga_vc.holder.openid4vc import present_openid4vp

from ._world import FAST, World, make_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("shop-nonce"))


@pytest.fixture(scope="module")
def wallet(world: World, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from kaga_vc.holder.openid4vc import receive_offer

    wallet = create_wallet(tmp_path_factory.mktemp("wallet") / "wallet.json", "pw", scrypt_n=FAST)
    offer = world.offer("residency")
    receive_offer(wallet, offer.uri, tx_code=offer.tx_code, session=world.session())
    world.write_bundle()
    return wallet


def test_a_log_the_server_cannot_write_consumes_no_nonce(world: World, wallet: Any) -> None:
    blocker: Path = world.verifier_dir / "home" / "accesslog.db"
    blocker.mkdir(parents=True)  # a directory where the log file goes: every write fails
    made = world.shop_request("residency")
    try:
        failed = present_openid4vp(wallet, made["uri"], session=world.session())
        assert failed.status >= 400, (failed.status, failed.body)  # the counter reports the log's failure
        assert world.result(made["handle"])["status"] == "pending"  # no verdict: nothing was decided
    finally:
        shutil.rmtree(blocker)
    retry = present_openid4vp(wallet, made["uri"], session=world.session())  # the same request, the same nonce
    assert retry.status == 200, (retry.status, retry.body)
    verdict = world.result(made["handle"])
    assert verdict["status"] == "done" and verdict["accepted"] is True, verdict
    entries = world.access_log()
    assert [e.to_json()["record"]["entry"]["result"] for e in entries] == ["accepted"]
