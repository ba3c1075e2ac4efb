"""Anchoring on a real JSON-RPC node (anvil from npm): deploy, anchor, look up, verify proofs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaga_vc.accesslog import AccessLog, check_inclusion
from kaga_vc.keys import KeyType, PrivateKey
from kaga_vc.registry import ChainSettings, Registry
from kaga_vc.registry.anchor import deploy_anchor_contract, open_anchor
from kaga_vc.registry.rpc import HttpTransport
from tests.registry.conftest import DEV_KEYS, rpc_url  # noqa: F401 - the session's node fixture

from .conftest import LOG_KEY, Party, entry

pytestmark = pytest.mark.node


def test_anchor_on_a_node(rpc_url: str, tmp_path: Path, ryokan: Party, alice: Party) -> None:  # noqa: F811
    payer = PrivateKey.from_hex(DEV_KEYS[3], KeyType.SECP256K1)
    deployer = Registry(HttpTransport(rpc_url), "0x" + "00" * 20, submitter=payer)
    contract = deploy_anchor_contract(deployer, sender=payer)
    settings = ChainSettings.from_env(rpc_url=rpc_url)
    anchor = open_anchor(settings, sender=payer, contract=contract)
    reader = open_anchor(settings, contract=contract)  # no key: lookups only
    try:
        with AccessLog.open(str(tmp_path / "n.db"), log_key=LOG_KEY, signer=ryokan.signer) as log:
            for _ in range(12):
                log.record(entry(ryokan, alice))
            batch = log.anchor(anchor)
            assert batch.chain_id == 31337 and batch.size == 12 and 40_000 < batch.gas_used < 60_000
            assert log.verify(anchorer=reader).ok
            proof = log.proof(11)
            assert check_inclusion(next(log.entries(11)), proof, reader).size == 12
    finally:
        anchor.close()
        reader.close()
