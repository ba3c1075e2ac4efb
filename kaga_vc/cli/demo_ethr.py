"""The did:ethr part of ``kaga-vc demo``: the city's DID on the embedded chain."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..did import Resolver
from ..keys import PrivateKey, ethereum_address
from ._common import out_console


def run_city_did_step(base: Path, owner: PrivateKey, assertion: PrivateKey, step: Callable[[int, str], None],
                      number: int) -> str:
    """Create the city's did:ethr, publish its assertion key and a service, resolve it (two versions)."""
    from ..did import ResolutionOptions
    from ..registry import (
        close_registry,
        did_for,
        ethr_method,
        key_attribute,
        open_embedded,
        service_attribute,
    )

    step(number, "The city's did:ethr on the embedded Ethereum chain (ERC-1056 registry, meta-transactions)")
    registry = open_embedded(base / "chain-home")
    try:
        identity = ethereum_address(owner.public_key)
        did = did_for(registry, identity)
        out_console.print(f"city DID: {did} (registry {registry.registry}, chain id {registry.chain_id})")
        added = registry.set_attribute(identity, *key_attribute(assertion.public_key, "veriKey"), signer=owner)
        out_console.print(f"assertion key published in block {added.block_number} "
                          f"(signed by the owner, gas {added.gas_used} paid by the chain's account)")
        registry.set_attribute(identity, *service_attribute("LinkedDomains", "https://www.city.kaga.ishikawa.jp"),
                               signer=owner)
        resolver = Resolver({"ethr": ethr_method(registry)})
        result = resolver.resolve(did)
        out_console.print_json(json.dumps(result.to_json()))
        old = resolver.resolve(did, ResolutionOptions(version_id=str(added.block_number)))
        out_console.print(f"as of block {added.block_number}: {len(old.did_document.get('service', []))} services, "
                          f"next version {old.did_document_metadata.get('nextVersionId')}")
        message = "加賀市 — issued by the city".encode()
        vm_id = next(ref for ref in result.did_document["assertionMethod"] if ref.endswith("#delegate-1"))
        method, _ = resolver.dereference_verification_method(vm_id, relationship="assertionMethod")
        method.public_key().verify(assertion.sign(message), message)
        out_console.print(f"signature by {vm_id} verified against the city's did:ethr document")
        return did
    finally:
        close_registry(registry)
