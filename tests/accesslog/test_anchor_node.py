"""Anchoring on a real JSON-RPC node (anvil from npm): deploy, anchor, look up, verify proofs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaga_vc.accesslog import AccessLog, check_inclusion
from kaga_vc.keys import KeyType, PrivateKey, ethereum_address
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
            assert batch.chain_id == 31337 and batch.size == 12 and 90_000 < batch.gas_used < 130_000
            log.record(entry(ryokan, alice))
            again = log.anchor(anchor)  # a later head: no identity to store
            assert (again.index, again.tree_size) == (1, 13) and 60_000 < again.gas_used < 95_000
            assert log.verify(anchorer=reader, account=anchor.anchorer).ok
            proof = log.proof(11)
            assert check_inclusion(next(log.entries(11)), proof, reader).tree_size == 13
    finally:
        anchor.close()
        reader.close()


def test_two_logs_anchor_on_a_policy_to_one_shared_node(rpc_url: str, tmp_path: Path, ryokan: Party,  # noqa: F811
                                                        alice: Party) -> None:
    from kaga_vc.accesslog import AnchorPolicy

    from .conftest import make_party

    clinic = make_party()
    payers = [PrivateKey.from_hex(DEV_KEYS[i], KeyType.SECP256K1) for i in (3, 1)]  # two operators
    deployer = Registry(HttpTransport(rpc_url), "0x" + "00" * 20, submitter=payers[0])
    contract = deploy_anchor_contract(deployer, sender=payers[0])
    settings = ChainSettings.from_env(rpc_url=rpc_url)
    anchors = [open_anchor(settings, sender=p, contract=contract) for p in payers]
    reader = open_anchor(settings, contract=contract)
    try:
        logs = [AccessLog.open(str(tmp_path / f"{i}.db"), log_key=LOG_KEY, signer=who.signer)
                for i, who in enumerate((ryokan, clinic))]
        for log, anchor in zip(logs, anchors, strict=True):
            log.set_anchoring(anchor, AnchorPolicy(entries=4))
        for _ in range(9):
            for log, who in zip(logs, (ryokan, clinic), strict=True):
                log.record(entry(who, alice))
        for log, anchor in zip(logs, anchors, strict=True):
            assert [(b.first_seq, b.size) for b in log.batches()] == [(0, 4), (4, 4)]
            assert {b.anchorer for b in log.batches()} == {anchor.anchorer} and log.anchor_error is None
            assert log.verify(anchorer=reader).ok
            log.close()
    finally:
        for anchor in (*anchors, reader):
            anchor.close()


def test_the_cli_anchors_on_a_schedule_to_the_shared_node_and_verify_reads_its_heads(
        rpc_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ryokan: Party, alice: Party,  # noqa: F811
        password_env: str) -> None:
    """`log anchor --every` to a real JSON-RPC node; then the anchored tail, its tree_heads row and the meta rows
    are deleted and the head row rewritten: `log verify --rpc-url` finds it from the node's heads."""
    import json
    import sqlite3

    from typer.testing import CliRunner

    from kaga_vc.cli._app import app
    from kaga_vc.keys.keystore import save_key

    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path))
    for name in ("KAGA_VC_ACCESSLOG_URL", "KAGA_VC_ACCESSLOG_KEY", "KAGA_VC_RPC_URL", "KAGA_VC_ANCHOR"):
        monkeypatch.delenv(name, raising=False)
    payer = PrivateKey.from_hex(DEV_KEYS[3], KeyType.SECP256K1)
    save_key(tmp_path / "account.json", payer, password_env)
    contract = deploy_anchor_contract(Registry(HttpTransport(rpc_url), "0x" + "00" * 20, submitter=payer),
                                      sender=payer)
    node = ["--rpc-url", rpc_url, "--anchor-contract", contract]
    from kaga_vc.accesslog import load_or_create_log_key

    key = load_or_create_log_key(tmp_path / "accesslog.key")
    with AccessLog.open(None, log_key=key, signer=ryokan.signer) as log:
        for _ in range(5):
            log.record(entry(ryokan, alice))
    runner = CliRunner()
    result = runner.invoke(app, ["log", "anchor", "--every", "1s", "--rounds", "2", *node, "--anchorer-key",
                                 str(tmp_path / "account.json"), "--json"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout.splitlines()[0])
    assert (first["chainId"], first["treeSize"], first["index"]) == (31337, 5, 0)
    with AccessLog.open(None, log_key=key, signer=ryokan.signer) as log:
        for _ in range(3):
            log.record(entry(ryokan, alice))
        log_id = log.log_id
    assert runner.invoke(app, ["log", "anchor", *node, "--anchorer-key", str(tmp_path / "account.json")]).exit_code == 0
    verified = runner.invoke(app, ["log", "verify", *node, "--json"])
    assert verified.exit_code == 0 and json.loads(verified.stdout)["anchoredEntries"] == 8, verified.output
    conn = sqlite3.connect(tmp_path / "accesslog.db")
    with conn:
        fifth = conn.execute("SELECT hash FROM entries WHERE seq = 4").fetchone()[0]
        conn.execute("DELETE FROM entries WHERE seq >= 5")
        conn.execute("DELETE FROM tree_heads WHERE tree_size = 8")
        conn.execute("DELETE FROM log_meta WHERE name LIKE 'anchor_%'")
        conn.execute("UPDATE log_head SET seq = 5, hash = ?", (fifth,))
    conn.close()
    assert runner.invoke(app, ["log", "verify", "--no-chain"]).exit_code == 0  # the tables agree with each other
    account = ethereum_address(payer.public_key)
    found = runner.invoke(app, ["log", "verify", *node, "--anchorer", account, "--json"])
    assert found.exit_code == 1, found.output
    assert [(f["kind"], f["code"]) for f in json.loads(found.stdout)["findings"]] == [
        ("truncated", "kaga:log-truncated"), ("anchor", "kaga:anchor-record-missing")]
    heads = json.loads(runner.invoke(app, ["log", "heads", "--log-id", log_id, "--anchorer", account, *node,
                                           "--json"]).stdout)
    assert [h["treeSize"] for h in heads["heads"]] == [5, 8]
