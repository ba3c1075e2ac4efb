"""The embedded chain: a real EVM running our registry, persisted across processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.did import ResolutionOptions, Resolver
from kaga_vc.errors import RegistryError
from kaga_vc.keys import KeyType, PrivateKey, ethereum_address
from kaga_vc.registry import Registry, did_for, ethr_method, key_attribute, open_embedded, service_attribute
from kaga_vc.registry.contract import load_artifact

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, home: Path) -> Any:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code), str(home)], capture_output=True, check=False, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_chain_persists_across_processes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    written = _run("""
        import json, sys
        from kaga_vc.keys import KeyType, PrivateKey, ethereum_address
        from kaga_vc.registry import open_embedded, close_registry, service_attribute, did_for
        reg = open_embedded(sys.argv[1])
        owner = PrivateKey.generate(KeyType.SECP256K1)
        identity = ethereum_address(owner.public_key)
        r = reg.set_attribute(identity, *service_attribute("LinkedDomains", "https://kaga.example"), signer=owner)
        print(json.dumps({"did": did_for(reg, identity), "block": r.block_number, "registry": reg.registry}))
        close_registry(reg)
    """, home)
    resolved = _run("""
        import json, sys
        from kaga_vc.registry import open_embedded, close_registry
        reg = open_embedded(sys.argv[1])
        print(json.dumps({"registry": reg.registry, "head": reg.head()[0]}))
        close_registry(reg)
    """, home)
    assert resolved["registry"] == written["registry"]
    assert resolved["head"] == written["block"]
    registry = open_embedded(home)
    try:
        doc = Resolver({"ethr": ethr_method(registry)}).resolve(written["did"]).did_document
        assert doc["service"][0]["serviceEndpoint"] == "https://kaga.example"
    finally:
        registry.transport.close()  # type: ignore[attr-defined]


def test_a_second_process_cannot_open_a_chain_in_use(embedded: Registry, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys
        from kaga_vc.errors import RegistryError
        from kaga_vc.registry import embedded, open_embedded
        embedded.LOCK_WAIT_SECONDS = 0.2  # the holder keeps it: do not wait the default
        try:
            open_embedded(sys.argv[1])
        except RegistryError as e:
            print(e.code)
    """), str(tmp_path / "home")], capture_output=True, check=False, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "kaga:chain-busy", out.stderr[-1000:]


def test_the_deployed_code_is_the_shipped_artifact(embedded: Registry) -> None:
    code = embedded.rpc("eth_getCode", embedded.registry, "latest")
    assert bytes.fromhex(code[2:]) == load_artifact().deployed_bytecode


def _owner() -> tuple[PrivateKey, str]:
    key = PrivateKey.generate(KeyType.SECP256K1)
    return key, ethereum_address(key.public_key)


def test_resolution_cost_follows_the_dids_changes_not_the_chain_length(embedded: Registry) -> None:
    key, identity = _owner()
    did = did_for(embedded, identity)
    for i in range(3):
        embedded.set_attribute(identity, *service_attribute(f"S{i}", f"https://s{i}.example"), signer=key)
    resolver = Resolver({"ethr": ethr_method(embedded)})
    transport = embedded.transport
    before = transport.calls
    first = resolver.resolve(did)
    short_chain_calls = transport.calls - before
    other, other_id = _owner()
    for i in range(25):  # lengthen the chain with someone else's changes
        embedded.set_attribute(other_id, *service_attribute("X", f"https://x{i}.example"), signer=other)
    before = transport.calls
    again = Resolver({"ethr": ethr_method(embedded)}).resolve(did)
    assert transport.calls - before <= short_chain_calls + 1
    assert again.did_document == first.did_document
    assert short_chain_calls <= 2 + 2 * 3  # changed(), then logs and a block per change


def test_meta_transactions_direct_writes_and_typed_errors(embedded: Registry) -> None:
    owner, identity = _owner()
    funded = embedded.submitter
    assert funded is not None
    # meta-transaction: the owner signs, the chain's funded account submits
    receipt = embedded.set_attribute(identity, *key_attribute(PrivateKey.generate(KeyType.ED25519).public_key),
                                     signer=owner)
    assert receipt.from_address == ethereum_address(funded.public_key)
    assert embedded.nonce(identity) == 1
    # wrong signer: refused before anything is sent
    intruder, _ = _owner()
    head = embedded.head()[0]
    with pytest.raises(RegistryError) as err:
        embedded.add_delegate(identity, "veriKey", ethereum_address(intruder.public_key), signer=intruder)
    assert err.value.code == "kaga:wrong-signer"
    # stale meta-transaction nonce: the registry refuses the signature, nothing is mined
    with pytest.raises(RegistryError) as err:
        embedded.add_delegate(identity, "veriKey", ethereum_address(intruder.public_key), signer=owner, nonce=0)
    assert err.value.code == "kaga:bad-nonce"
    assert embedded.head()[0] == head
    # a direct write by an owner without ether: insufficient funds, nothing mined
    with pytest.raises(RegistryError) as err:
        embedded.add_delegate(identity, "veriKey", ethereum_address(intruder.public_key), signer=owner, meta=False)
    assert err.value.code == "kaga:insufficient-funds"
    assert embedded.head()[0] == head
    # deactivation is final on our contract
    embedded.deactivate(identity, signer=owner)
    with pytest.raises(RegistryError) as err:
        embedded.set_attribute(identity, *service_attribute("A", "https://a"), signer=owner)
    assert err.value.code == "kaga:did-deactivated"
    result = Resolver({"ethr": ethr_method(embedded)}).resolve(did_for(embedded, identity))
    assert result.did_document_metadata["deactivated"] is True


def test_delegate_validity_follows_block_time(embedded: Registry) -> None:
    owner, identity = _owner()
    delegate = ethereum_address(PrivateKey.generate(KeyType.SECP256K1).public_key)
    receipt = embedded.add_delegate(identity, "sigAuth", delegate, 30, signer=owner)
    assert embedded.valid_delegate(identity, "sigAuth", delegate)
    added_at = embedded.block_timestamp(receipt.block_number)
    resolver = Resolver({"ethr": ethr_method(embedded)})
    did = did_for(embedded, identity)
    during = resolver.resolve(did, ResolutionOptions(version_time=datetime.fromtimestamp(added_at + 29, UTC)))
    after = resolver.resolve(did, ResolutionOptions(version_time=datetime.fromtimestamp(added_at + 31, UTC)))
    assert during.did_document["authentication"][-1].endswith("#delegate-1")
    assert all("#delegate" not in ref for ref in after.did_document["authentication"])


def test_get_logs_from_the_index_matches_a_node_query_shape(embedded: Registry) -> None:
    owner, identity = _owner()
    embedded.set_attribute(identity, *service_attribute("A", "https://a"), signer=owner)
    logs = embedded.rpc("eth_getLogs", {"address": embedded.registry, "fromBlock": "0x0", "toBlock": "latest"})
    assert logs and {"address", "topics", "data", "blockNumber", "logIndex", "transactionHash"} <= set(logs[-1])
    assert logs[-1]["topics"][1].endswith(identity[2:].lower())
    none = embedded.rpc("eth_getLogs", {"address": embedded.registry, "topics": [None, "0x" + "00" * 32],
                                        "fromBlock": "0x0", "toBlock": "latest"})
    assert none == []


def test_a_block_that_fails_midway_leaves_the_chain_as_it_was(embedded: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    owner, identity = _owner()
    embedded.set_attribute(identity, *service_attribute("A", "https://a"), signer=owner)
    chain = embedded.transport
    head = embedded.head()[0]

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(chain, "_index_block", crash)
    with pytest.raises(OSError):
        embedded.set_attribute(identity, *service_attribute("B", "https://b"), signer=owner)
    monkeypatch.undo()
    assert embedded.head()[0] == head
    assert embedded.nonce(identity) == 1  # the half-mined change is gone, state included
    receipt = embedded.set_attribute(identity, *service_attribute("C", "https://c"), signer=owner)
    assert receipt.block_number == head + 1
    doc = Resolver({"ethr": ethr_method(embedded)}).resolve(did_for(embedded, identity)).did_document
    assert [s["type"] for s in doc["service"]] == ["A", "C"]


def test_block_times_never_run_ahead_of_the_wall_clock(tmp_path: Path) -> None:
    """Issue 12: block time was max(now, parent + 1), so a burst of writes put the head hours ahead."""
    import time

    registry = open_embedded(tmp_path / "home")
    try:
        owner = PrivateKey.generate(KeyType.SECP256K1)
        identity = ethereum_address(owner.public_key)
        first, _ = registry.head()
        for n in range(12):  # a burst: many blocks in the same second or two
            registry.set_attribute(identity, *service_attribute("LinkedDomains", f"https://kaga.example/{n}"),
                                   signer=owner)
            assert registry.head()[1] <= time.time()
        number, stamp = registry.head()
        assert number >= first + 12
        stamps = [registry.block_timestamp(b) for b in range(first, number + 1)]
        assert stamps == sorted(stamps)  # never backwards
        assert len(set(stamps)) < len(stamps)  # several blocks shared a second
        assert stamp <= time.time()
    finally:
        registry.transport.close()  # type: ignore[attr-defined]

    # the chain reopens (py-evm re-reads the head) and keeps growing in the same second
    registry = open_embedded(tmp_path / "home")
    try:
        registry.set_attribute(identity, *service_attribute("LinkedDomains", "https://kaga.example/again"), signer=owner)
        assert registry.head()[1] <= time.time()
    finally:
        registry.transport.close()  # type: ignore[attr-defined]
