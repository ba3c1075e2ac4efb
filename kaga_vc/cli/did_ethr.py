"""``kaga-vc did`` commands for did:ethr: create, resolve (with versions), and registry writes.

Every write is signed with the DID owner's keystore (``--key``) and, by default, sent as a
meta-transaction that the submitter account pays for (the embedded chain's funded account, or
``--submitter-key`` on a node).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from ..errors import INVALID_OPTIONS, MALFORMED_VALUE_ERROR, InputError, ResolutionError
from ._common import JsonOption, PasswordFileOption, error_boundary, out_console, print_json, read_password
from .chain import ChainIdOption, RegistryOption, RpcUrlOption, SubmitterKeyOption, opened_registry

OwnerKeyOption = typer.Option(..., "--key", exists=True, dir_okay=False,
                              help="Keystore of the DID owner's secp256k1 key (signs the change).")
ValidForOption = typer.Option(None, "--valid-for", min=1, help="Validity in seconds (default: about 100 years).")


def parse_version_time(text: str) -> datetime:
    """Unix seconds or an ISO 8601 instant (with a zone) as an aware datetime."""
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise ResolutionError(INVALID_OPTIONS, f"--version-time {text!r}: expected Unix seconds or ISO 8601") from None
    if value.tzinfo is None:
        raise ResolutionError(INVALID_OPTIONS, "--version-time needs a time zone (e.g. 2026-04-01T09:00:00Z)")
    return value


def create_ethr(key: Path, rpc_url: str | None, registry: str | None, chain_id: int | None) -> str:
    """The did:ethr of a keystore's secp256k1 key on the configured chain (no transaction needed)."""
    from ..keys import KeyType, ethereum_address
    from ..keys.keystore import keystore_public_key
    from ..registry import did_for

    public_key = keystore_public_key(key)
    if public_key.key_type is not KeyType.SECP256K1:
        raise InputError(MALFORMED_VALUE_ERROR, "a did:ethr needs a secp256k1 key")
    with opened_registry(rpc_url, registry, chain_id) as reg:
        return did_for(reg, ethereum_address(public_key))


def resolve_ethr(did: str, options: Any, profile: str, rpc_url: str | None, registry: str | None,
                 chain_id: int | None) -> dict[str, Any]:
    from ..did import Resolver
    from ..registry import ethr_method

    with opened_registry(rpc_url, registry, chain_id) as reg:
        result = Resolver({"ethr": ethr_method(reg, profile=profile)}).resolve(did, options)  # type: ignore[arg-type]
        return result.to_json()


def _write(did: str, key: Path, password_file: Path | None, rpc_url: str | None, registry: str | None,
           chain_id: int | None, submitter_key: Path | None, as_json: bool, action: str, **args: Any) -> None:
    from ..did.ethr import parse_ethr_did
    from ..keys.keystore import load_key

    ident = parse_ethr_did(did)
    owner = load_key(key, read_password(password_file))
    with opened_registry(rpc_url, registry, chain_id, submitter_key, password_file) as reg:
        if ident.chain_id is not None and ident.chain_id != reg.chain_id:
            raise ResolutionError(INVALID_OPTIONS, f"{did} is on chain {ident.chain_id}, the registry on {reg.chain_id}")
        receipt = getattr(reg, action)(ident.address, signer=owner, **args)
    data = {"did": did, **receipt.to_json()}
    if as_json:
        print_json(data)
    else:
        out_console.print(f"{action.replace('_', ' ')}: block {receipt.block_number}, tx {receipt.transaction_hash}")


def _validity(valid_for: int | None) -> int:
    from ..registry import FOREVER

    return FOREVER if valid_for is None else valid_for


def _public_key(key_type: str, multibase: str) -> Any:
    from ..keys import KeyType, PublicKey

    public_key = PublicKey.from_multikey(multibase)
    if public_key.key_type is not KeyType.parse(key_type):
        raise InputError(MALFORMED_VALUE_ERROR, f"the multibase key is {public_key.key_type.value}, not {key_type}")
    return public_key


def register(app: typer.Typer) -> None:
    """Add the did:ethr write commands to the ``did`` group."""

    @app.command("add-key")
    @error_boundary
    def add_key(
        did: str = typer.Argument(..., help="The did:ethr to change."),
        key_type: str = typer.Option(..., "--type", help="ed25519, secp256k1, p256 or x25519."),
        public_key_multibase: str = typer.Option(..., "--public-key-multibase", help="The key as a Multikey (z…)."),
        purpose: str = typer.Option("veriKey", "--purpose", help="veriKey (assertion), sigAuth (+authentication) or enc."),
        valid_for: int = ValidForOption,
        key: Path = OwnerKeyOption,
        password_file: Path = PasswordFileOption,
        rpc_url: str = RpcUrlOption, registry: str = RegistryOption, chain_id: int = ChainIdOption,
        submitter_key: Path = SubmitterKeyOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Publish a verification key in the DID document (a registry attribute).

        Example: kaga-vc did add-key did:ethr:0x539:0xAbc… --type ed25519 --public-key-multibase z6Mk… --key owner.json
        """
        from ..registry import key_attribute

        name, value = key_attribute(_public_key(key_type, public_key_multibase), purpose)
        _write(did, key, password_file, rpc_url, registry, chain_id, submitter_key, as_json, "set_attribute",
               name=name, value=value, validity=_validity(valid_for))

    @app.command("add-service")
    @error_boundary
    def add_service(
        did: str = typer.Argument(..., help="The did:ethr to change."),
        service_type: str = typer.Option(..., "--type", help="Service type, e.g. LinkedDomains."),
        endpoint: str = typer.Option(..., "--endpoint", help="Service endpoint URL (or JSON)."),
        valid_for: int = ValidForOption,
        key: Path = OwnerKeyOption,
        password_file: Path = PasswordFileOption,
        rpc_url: str = RpcUrlOption, registry: str = RegistryOption, chain_id: int = ChainIdOption,
        submitter_key: Path = SubmitterKeyOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Publish a service endpoint in the DID document.

        Example: kaga-vc did add-service did:ethr:0x539:0xAbc… --type LinkedDomains --endpoint https://city.kaga.example --key owner.json
        """
        from ..registry import service_attribute

        name, value = service_attribute(service_type, endpoint)
        _write(did, key, password_file, rpc_url, registry, chain_id, submitter_key, as_json, "set_attribute",
               name=name, value=value, validity=_validity(valid_for))

    @app.command("add-delegate")
    @error_boundary
    def add_delegate(
        did: str = typer.Argument(..., help="The did:ethr to change."),
        delegate: str = typer.Option(..., "--delegate", help="Ethereum address of the delegate."),
        delegate_type: str = typer.Option("veriKey", "--delegate-type", help="veriKey or sigAuth."),
        valid_for: int = ValidForOption,
        key: Path = OwnerKeyOption,
        password_file: Path = PasswordFileOption,
        rpc_url: str = RpcUrlOption, registry: str = RegistryOption, chain_id: int = ChainIdOption,
        submitter_key: Path = SubmitterKeyOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Add a delegate (an Ethereum account that may sign for the DID).

        Example: kaga-vc did add-delegate did:ethr:0x539:0xAbc… --delegate 0xDef… --delegate-type sigAuth --key owner.json
        """
        if delegate_type not in ("veriKey", "sigAuth"):
            raise InputError(MALFORMED_VALUE_ERROR, "--delegate-type must be veriKey or sigAuth")
        _write(did, key, password_file, rpc_url, registry, chain_id, submitter_key, as_json, "add_delegate",
               delegate_type=delegate_type, delegate=delegate, validity=_validity(valid_for))

    @app.command("revoke")
    @error_boundary
    def revoke(
        did: str = typer.Argument(..., help="The did:ethr to change."),
        delegate: str = typer.Option(None, "--delegate", help="Revoke this delegate address."),
        delegate_type: str = typer.Option("veriKey", "--delegate-type", help="With --delegate: veriKey or sigAuth."),
        public_key_multibase: str = typer.Option(None, "--public-key-multibase", help="Revoke this key (Multikey)."),
        purpose: str = typer.Option("veriKey", "--purpose", help="With --public-key-multibase: the purpose it was added with."),
        service_type: str = typer.Option(None, "--service-type", help="Revoke the service of this type…"),
        endpoint: str = typer.Option(None, "--endpoint", help="…and this endpoint."),
        key: Path = OwnerKeyOption,
        password_file: Path = PasswordFileOption,
        rpc_url: str = RpcUrlOption, registry: str = RegistryOption, chain_id: int = ChainIdOption,
        submitter_key: Path = SubmitterKeyOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Revoke a delegate, a key or a service endpoint.

        Example: kaga-vc did revoke did:ethr:0x539:0xAbc… --public-key-multibase z6Mk… --key owner.json
        """
        from ..keys import PublicKey
        from ..registry import key_attribute, service_attribute

        chosen = [x is not None for x in (delegate, public_key_multibase, service_type)]
        if sum(chosen) != 1 or (service_type is not None) != (endpoint is not None):
            raise InputError(MALFORMED_VALUE_ERROR,
                             "give exactly one of --delegate, --public-key-multibase, --service-type with --endpoint")
        common = (did, key, password_file, rpc_url, registry, chain_id, submitter_key, as_json)
        if delegate is not None:
            _write(*common, "revoke_delegate", delegate_type=delegate_type, delegate=delegate)
            return
        if public_key_multibase is not None:
            name, value = key_attribute(PublicKey.from_multikey(public_key_multibase), purpose)
        else:
            name, value = service_attribute(service_type, endpoint)
        _write(*common, "revoke_attribute", name=name, value=value)

    @app.command("change-owner")
    @error_boundary
    def change_owner(
        did: str = typer.Argument(..., help="The did:ethr to change."),
        new_owner: str = typer.Option(..., "--new-owner", help="Ethereum address of the new owner."),
        key: Path = OwnerKeyOption,
        password_file: Path = PasswordFileOption,
        rpc_url: str = RpcUrlOption, registry: str = RegistryOption, chain_id: int = ChainIdOption,
        submitter_key: Path = SubmitterKeyOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Transfer control of the DID to another Ethereum account.

        Example: kaga-vc did change-owner did:ethr:0x539:0xAbc… --new-owner 0xDef… --key owner.json
        """
        from ..keys import to_checksum_address

        _write(did, key, password_file, rpc_url, registry, chain_id, submitter_key, as_json, "change_owner",
               new_owner=to_checksum_address(new_owner))

    @app.command("deactivate")
    @error_boundary
    def deactivate(
        did: str = typer.Argument(..., help="The did:ethr to deactivate."),
        key: Path = OwnerKeyOption,
        password_file: Path = PasswordFileOption,
        rpc_url: str = RpcUrlOption, registry: str = RegistryOption, chain_id: int = ChainIdOption,
        submitter_key: Path = SubmitterKeyOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Deactivate the DID (owner 0x0); on this project's registry this cannot be undone.

        Example: kaga-vc did deactivate did:ethr:0x539:0xAbc… --key owner.json
        """
        _write(did, key, password_file, rpc_url, registry, chain_id, submitter_key, as_json, "deactivate")

    @app.command("history")
    @error_boundary
    def history(
        did: str = typer.Argument(..., help="The did:ethr whose history to export."),
        out: Path = typer.Option(None, "--out", help="Write the history to this file (else stdout)."),
        rpc_url: str = RpcUrlOption, registry: str = RegistryOption, chain_id: int = ChainIdOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Export the full registry history of a did:ethr (JSON) for offline resolution at any version.

        Example: kaga-vc did history did:ethr:0x539:0xAbc… --out city-history.json
        """
        import json

        from ..registry import ethr_method

        with opened_registry(rpc_url, registry, chain_id) as reg:
            data = ethr_method(reg).history(did).to_json()
        if out is None:
            print_json(data)
        else:
            out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            if as_json:
                print_json({"did": did, "file": str(out)})
