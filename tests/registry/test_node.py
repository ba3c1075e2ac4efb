"""Behaviour against a real JSON-RPC node (anvil from npm, started by the test session)."""

from __future__ import annotations

import pytest

from kaga_vc.did import Resolver
from kaga_vc.errors import RegistryError
from kaga_vc.keys import KeyType, PrivateKey, ethereum_address
from kaga_vc.registry import ChainSettings, Registry, ethr_method, open_registry, service_attribute
from kaga_vc.registry.rpc import HttpTransport

from .conftest import DEV_KEYS, _free_port

pytestmark = pytest.mark.node


def test_unreachable_node_is_a_typed_error_and_nothing_is_written(rpc_url: str, node_registry: Registry) -> None:
    owner = PrivateKey.generate(KeyType.SECP256K1)
    identity = ethereum_address(owner.public_key)
    down = Registry(HttpTransport(f"http://127.0.0.1:{_free_port()}", timeout=2), node_registry.registry,
                    chain_id=31337, submitter=PrivateKey.from_hex(DEV_KEYS[0]))
    with pytest.raises(RegistryError) as err:
        down.set_attribute(identity, *service_attribute("A", "https://a"), signer=owner)
    assert err.value.code == "kaga:node-unreachable"
    with pytest.raises(RegistryError) as err:
        Resolver({"ethr": ethr_method(down)}).resolve(f"did:ethr:0x7a69:{identity}")
    assert err.value.code == "kaga:node-unreachable"
    assert node_registry.changed(identity) == 0


def test_wrong_chain_id_and_missing_registry(rpc_url: str, node_registry: Registry) -> None:
    wrong = open_registry(ChainSettings(rpc_url=rpc_url, registry=node_registry.registry, chain_id=1))
    with pytest.raises(RegistryError) as err:
        wrong.changed(node_registry.registry)
    assert err.value.code == "kaga:wrong-chain"
    nothing = open_registry(ChainSettings(rpc_url=rpc_url, registry="0x" + "12" * 20))
    with pytest.raises(RegistryError) as err:
        nothing.changed("0x" + "34" * 20)
    assert err.value.code == "kaga:no-registry"
    with pytest.raises(RegistryError) as err:
        open_registry(ChainSettings(rpc_url=rpc_url))
    assert err.value.code == "kaga:no-registry"


def test_meta_transaction_on_the_node_with_wrong_signer_and_stale_nonce(rpc_url: str, node_registry: Registry) -> None:
    registry = Registry(HttpTransport(rpc_url), node_registry.registry, submitter=PrivateKey.from_hex(DEV_KEYS[0]))
    owner = PrivateKey.generate(KeyType.SECP256K1)
    identity = ethereum_address(owner.public_key)
    receipt = registry.set_attribute(identity, *service_attribute("A", "https://a"), signer=owner)
    assert receipt.status == 1 and registry.nonce(identity) == 1
    with pytest.raises(RegistryError) as err:
        registry.set_attribute(identity, *service_attribute("B", "https://b"), signer=owner, nonce=0)
    assert err.value.code == "kaga:bad-nonce"
    with pytest.raises(RegistryError) as err:
        registry.set_attribute(identity, *service_attribute("B", "https://b"),
                               signer=PrivateKey.generate(KeyType.SECP256K1))
    assert err.value.code == "kaga:wrong-signer"
    assert registry.changed(identity) == receipt.block_number
    # a submitter without ether
    poor = Registry(HttpTransport(rpc_url), node_registry.registry, submitter=PrivateKey.generate(KeyType.SECP256K1))
    with pytest.raises(RegistryError) as err:
        poor.set_attribute(identity, *service_attribute("C", "https://c"), signer=owner)
    assert err.value.code == "kaga:insufficient-funds"
    assert registry.changed(identity) == receipt.block_number


def test_same_block_changes_resolve_like_the_reference(rpc_url: str, node_registry: Registry) -> None:
    """Several changes mined in one block share one previousChange; every log of the block counts."""
    from .conftest import run_node
    from .test_interop import _ours

    registry = Registry(HttpTransport(rpc_url), node_registry.registry, submitter=PrivateKey.from_hex(DEV_KEYS[0]))
    owner = PrivateKey.generate(KeyType.SECP256K1)
    identity = ethereum_address(owner.public_key)
    registry.set_attribute(identity, *service_attribute("First", "https://1"), signer=owner)
    registry.rpc("evm_setAutomine", False)
    try:
        from eth_account import Account

        from kaga_vc.registry import contract as c

        sender = PrivateKey.from_hex(DEV_KEYS[0])
        origin = ethereum_address(sender.public_key)
        nonce = int(registry.rpc("eth_getTransactionCount", origin, "pending"), 16)
        hashes = []
        for i in range(3):
            name, value = service_attribute(f"Same{i}", f"https://same{i}")
            digest = c.meta_digest(registry.registry, 1 + i, identity, "setAttribute", c.bytes32(name), value,
                                   c.packed_uint(3600))
            sig = owner.sign_digest_recoverable(digest)
            data = c.encode_call("setAttributeSigned", identity, 27 + sig[64], sig[:32], sig[32:64], c.bytes32(name),
                                 value, 3600)
            tx = {"nonce": nonce + i, "gasPrice": 2 * 10**9, "gas": 200_000, "to": registry.registry, "value": 0,
                  "data": data, "chainId": 31337}
            hashes.append(registry.rpc("eth_sendRawTransaction",
                                       "0x" + Account.sign_transaction(tx, sender.to_bytes()).raw_transaction.hex()))
        registry.rpc("evm_mine")
    finally:
        registry.rpc("evm_setAutomine", True)
    blocks = {int(registry.rpc("eth_getTransactionReceipt", h)["blockNumber"], 16) for h in hashes}
    assert len(blocks) == 1
    did = f"did:ethr:0x7a69:{identity}"
    reference = run_node("resolve", {"rpcUrl": rpc_url, "registry": registry.registry, "chainId": 31337,
                                     "queries": [{"did": did}]})[0]
    ours = _ours(rpc_url, registry.registry, 31337, did)
    assert ours == reference
    assert [s["type"] for s in ours["didDocument"]["service"]] == ["First", "Same0", "Same1", "Same2"]
