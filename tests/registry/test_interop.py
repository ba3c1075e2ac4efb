"""Interop with the reference implementations on a real local node (anvil from npm).

1. A history written with the npm ``ethr-did`` package on the npm ``ethr-did-registry`` contract
   resolves, in our ``legacy`` profile, exactly as the npm ``ethr-did-resolver`` 11.1.3 resolves it,
   at every version and at the latest one.
2. Changes written by our writer (direct and meta-transactions) on our contract and on the
   reference contract resolve identically with the reference resolver.
"""

from __future__ import annotations

from typing import Any

import pytest

from kaga_vc.did import DID_JSON, ResolutionOptions, Resolver
from kaga_vc.did.ethr import EthrMethod
from kaga_vc.keys import KeyType, PrivateKey, ethereum_address
from kaga_vc.registry import Registry, key_attribute, service_attribute
from kaga_vc.registry.rpc import HttpTransport

from .conftest import DEV_KEYS, run_node

pytestmark = pytest.mark.node


def _address(key_hex: str) -> str:
    return ethereum_address(PrivateKey.from_hex(key_hex).public_key)


def _ours(rpc_url: str, registry: str, chain_id: int, did: str, *, profile: str = "legacy",
          version_id: int | None = None, accept: str | None = None) -> dict[str, Any]:
    source = Registry(HttpTransport(rpc_url), registry, chain_id=chain_id)
    resolver = Resolver({"ethr": EthrMethod({hex(chain_id): source}, profile=profile)})  # type: ignore[arg-type]
    options = ResolutionOptions(version_id=None if version_id is None else str(version_id),
                                **({"accept": accept} if accept else {}))
    return resolver.resolve(did, options).to_json()


@pytest.fixture(scope="module")
def reference_history(rpc_url: str, reference_registry_address: str) -> dict[str, Any]:
    """A non-trivial history written with ethr-did on the reference contract."""
    chain_id = 31337
    identity_key, new_owner_key = DEV_KEYS[1], DEV_KEYS[2]
    identity, new_owner = _address(identity_key), _address(new_owner_key)
    delegate_a, delegate_b, delegate_c = (_address(k) for k in DEV_KEYS[3:6])
    secp = PrivateKey.generate(KeyType.SECP256K1).public_key.raw.hex()
    ed = PrivateKey.generate(KeyType.ED25519).public_key.raw.hex()
    x = PrivateKey.generate(KeyType.X25519).public_key.raw.hex()
    common = {"identity": identity, "signerKey": identity_key}
    steps = [
        {"op": "setAttribute", "name": "did/pub/Secp256k1/veriKey/hex", "value": "0x" + secp, "validity": 86400, **common},
        {"op": "setAttribute", "name": "did/pub/Ed25519/veriKey/base58", "value": "0x" + ed, "validity": 86400, **common},
        {"op": "addDelegate", "delegateType": "veriKey", "delegate": delegate_a, "validity": 86400, **common},
        {"op": "addDelegate", "delegateType": "sigAuth", "delegate": delegate_b, "validity": 86400, **common},
        {"op": "setAttribute", "name": "did/svc/HubService", "value": "https://hub.kaga.example", "validity": 86400, **common},
        {"op": "setAttribute", "name": "did/pub/X25519/enc/base64", "value": "0x" + x, "validity": 86400, **common},
        {"op": "addDelegate", "delegateType": "sigAuth", "delegate": delegate_c, "validity": 60, **common},
        {"op": "revokeDelegate", "delegateType": "veriKey", "delegate": delegate_a, **common},
        {"op": "revokeAttribute", "name": "did/pub/Ed25519/veriKey/base58", "value": "0x" + ed, **common},
        {"op": "setAttribute", "name": "did/svc/Messaging", "value": '{"uri":"https://msg.kaga.example","accept":["didcomm/v2"]}',
         "validity": 86400, **common},
        {"op": "increaseTime", "seconds": 120},  # delegate C (60 s) expires
        {"op": "changeOwner", "newOwner": new_owner, **common},
        {"op": "setAttribute", "name": "did/svc/Registry", "value": "https://kaga.example/registry", "validity": 86400,
         "identity": identity, "signerKey": new_owner_key},
        {"op": "revokeAttribute", "name": "did/pub/X25519/enc/base64", "value": "0x" + x,
         "identity": identity, "signerKey": new_owner_key},
    ]
    done = run_node("script", {"rpcUrl": rpc_url, "registry": reference_registry_address, "chainId": chain_id,
                               "steps": steps})
    return {"did": f"did:ethr:0x7a69:{identity}", "chain_id": chain_id, "registry": reference_registry_address,
            "steps": done, "delegate_a": delegate_a}


def test_reference_history_legacy_profile_equals_ethr_did_resolver_at_every_version(
    rpc_url: str, reference_history: dict[str, Any]
) -> None:
    h = reference_history
    blocks = sorted({s["block"] for s in h["steps"]})
    queries: list[dict[str, Any]] = [{"did": h["did"]}, {"did": h["did"], "accept": DID_JSON}]
    queries += [{"did": h["did"], "versionId": b} for b in blocks]
    queries += [{"did": h["did"], "versionId": blocks[0] - 1}]
    expected = run_node("resolve", {"rpcUrl": rpc_url, "registry": h["registry"], "chainId": h["chain_id"],
                                    "queries": queries})
    assert len(expected) == len(queries)
    for query, reference in zip(queries, expected, strict=True):
        ours = _ours(rpc_url, h["registry"], h["chain_id"], query["did"], version_id=query.get("versionId"),
                     accept=query.get("accept"))
        assert reference["didResolutionMetadata"].get("error") is None, reference
        assert ours == reference, f"differs for {query}"
    # the history really is non-trivial: the latest document lists keys, delegates and services
    latest = expected[0]["didDocument"]
    assert len(latest["verificationMethod"]) >= 3
    assert {s["type"] for s in latest["service"]} == {"HubService", "Messaging", "Registry"}
    assert "nextVersionId" in expected[3]["didDocumentMetadata"]


def test_reference_lists_a_delegate_at_its_revocation_block_and_current_profile_does_not(
    rpc_url: str, reference_history: dict[str, Any]
) -> None:
    h = reference_history
    revoke_block = next(s["block"] for s in h["steps"] if s["op"] == "revokeDelegate")
    reference = run_node("resolve", {"rpcUrl": rpc_url, "registry": h["registry"], "chainId": h["chain_id"],
                                     "queries": [{"did": h["did"], "versionId": revoke_block}]})[0]
    account = f"eip155:31337:{h['delegate_a']}"
    listed = [vm for vm in reference["didDocument"]["verificationMethod"] if vm.get("blockchainAccountId") == account]
    assert listed, "ethr-did-resolver 11.1.3 lists the delegate at the block that revoked it"
    legacy = _ours(rpc_url, h["registry"], h["chain_id"], h["did"], version_id=revoke_block)
    assert legacy == reference
    current = _ours(rpc_url, h["registry"], h["chain_id"], h["did"], version_id=revoke_block, profile="current")
    assert not [vm for vm in current["didDocument"]["verificationMethod"] if vm.get("blockchainAccountId") == account]


def _write_with_our_writer(registry: Registry, owner: PrivateKey, submitter: PrivateKey) -> str:
    identity = ethereum_address(owner.public_key)
    ed = PrivateKey.generate(KeyType.ED25519).public_key
    secp = PrivateKey.generate(KeyType.SECP256K1).public_key
    p256 = PrivateKey.generate(KeyType.P256).public_key
    x = PrivateKey.generate(KeyType.X25519).public_key
    delegate = ethereum_address(PrivateKey.generate(KeyType.SECP256K1).public_key)
    kw = {"signer": owner, "submitter": submitter}
    registry.set_attribute(identity, *key_attribute(ed, "sigAuth"), **kw)
    registry.set_attribute(identity, *key_attribute(secp), **kw)
    registry.set_attribute(identity, *key_attribute(p256), **kw)
    registry.set_attribute(identity, *key_attribute(x, "enc"), **kw)
    registry.set_attribute(identity, *service_attribute("LinkedDomains", "https://city.kaga.example"), **kw)
    registry.add_delegate(identity, "veriKey", delegate, 3600, **kw)
    registry.revoke_attribute(identity, *key_attribute(secp), **kw)
    registry.add_delegate(identity, "sigAuth", delegate, 3600, **kw)
    registry.revoke_delegate(identity, "veriKey", delegate, **kw)
    return identity


@pytest.mark.parametrize("which", ["ours", "reference"])
def test_our_writer_meta_transactions_resolve_identically_with_the_reference_resolver(
    rpc_url: str, node_registry: Registry, reference_registry_address: str, which: str
) -> None:
    address = node_registry.registry if which == "ours" else reference_registry_address
    registry = Registry(HttpTransport(rpc_url), address, chain_id=31337)
    owner = PrivateKey.generate(KeyType.SECP256K1)  # holds no ether: every change is a meta-transaction
    submitter = PrivateKey.from_hex(DEV_KEYS[0])
    identity = _write_with_our_writer(registry, owner, submitter)
    did = f"did:ethr:0x7a69:{identity}"
    assert registry.nonce(identity) == 9  # one signed change each
    history = EthrMethod({"0x7a69": registry}).history(did)
    blocks = sorted({e.block_number for e in history.events})
    queries: list[dict[str, Any]] = [{"did": did}] + [{"did": did, "versionId": b} for b in blocks]
    expected = run_node("resolve", {"rpcUrl": rpc_url, "registry": address, "chainId": 31337, "queries": queries})
    for query, reference in zip(queries, expected, strict=True):
        assert _ours(rpc_url, address, 31337, did, version_id=query.get("versionId")) == reference


def test_public_key_did_and_deactivation_match_the_reference(rpc_url: str, node_registry: Registry) -> None:
    owner = PrivateKey.generate(KeyType.SECP256K1)
    identity = ethereum_address(owner.public_key)
    registry = Registry(HttpTransport(rpc_url), node_registry.registry, chain_id=31337)
    submitter = PrivateKey.from_hex(DEV_KEYS[0])
    key_did = f"did:ethr:0x7a69:0x{owner.public_key.raw.hex()}"
    registry.set_attribute(identity, *service_attribute("LinkedDomains", "https://a.kaga.example"), signer=owner,
                           submitter=submitter)
    before = registry.head()[0]
    registry.deactivate(identity, signer=owner, submitter=submitter)
    queries = [{"did": key_did, "versionId": before}, {"did": key_did}]
    expected = run_node("resolve", {"rpcUrl": rpc_url, "registry": registry.registry, "chainId": 31337,
                                    "queries": queries})
    assert expected[1]["didDocumentMetadata"]["deactivated"] is True
    assert any(vm["id"].endswith("#controllerKey") for vm in expected[0]["didDocument"]["verificationMethod"])
    for query, reference in zip(queries, expected, strict=True):
        assert _ours(rpc_url, registry.registry, 31337, key_did, version_id=query.get("versionId")) == reference
