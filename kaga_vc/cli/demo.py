"""``kaga-vc demo``: the whole flow, explained step by step, on throw-away data."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import typer

from ..did import KeyMethod, Resolver, did_key_from_public_key
from ..keys import KeyType, PrivateKey, ethereum_address
from ..keys.keystore import load_key, save_key
from ._common import error_boundary, out_console


@error_boundary
def demo(
    workdir: Path | None = typer.Option(None, "--workdir", help="Keep the demo's files here (default: a temporary folder)."),
) -> None:
    """Run the whole kaga_vc flow once, explaining each step.

    Example: kaga-vc demo
    """
    with tempfile.TemporaryDirectory(prefix="kaga-vc-demo-") as tmp:
        base = workdir or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        _run(base)


def _step(number: int, title: str) -> None:
    out_console.rule(f"[bold]{number}. {title}")


def _run(base: Path) -> None:
    password = "demo-password-not-for-production"
    _step(1, "Keys: the city's Ethereum owner key and its assertion key, in encrypted keystores")
    owner = PrivateKey.generate(KeyType.SECP256K1)
    assertion = PrivateKey.generate(KeyType.ED25519)
    owner_path = save_key(base / "city-owner.json", owner, password, label="city owner", overwrite=True)
    save_key(base / "city-assertion.json", assertion, password, label="city assertion", overwrite=True)
    out_console.print(f"owner key  → {owner_path.name} (mode {oct(owner_path.stat().st_mode & 0o777)}), "
                      f"Ethereum address {ethereum_address(owner.public_key)}")
    out_console.print(f"assertion  → city-assertion.json, Multikey {assertion.public_key.to_multikey()}")
    assert load_key(owner_path, password) == owner

    _step(2, "A resident's did:key, created from their own key")
    resident = PrivateKey.generate(KeyType.ED25519)
    resident_did = did_key_from_public_key(resident.public_key)
    out_console.print(f"resident DID: {resident_did}")

    _step(3, "Resolving the resident's DID document, offline")
    resolver = Resolver({"key": KeyMethod()})
    document = resolver.resolve(resident_did).did_document
    out_console.print_json(json.dumps(document))

    _step(4, "Signing with the resident's key and verifying against the resolved document")
    message = "加賀市 — once only".encode()
    signature = resident.sign(message)
    vm_id = document["assertionMethod"][0]
    method, _ = resolver.dereference_verification_method(vm_id, relationship="assertionMethod")
    method.public_key().verify(signature, message)
    out_console.print(f"signature by {vm_id} verified")
    out_console.print("[green]demo complete[/]")
