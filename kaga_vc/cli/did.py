"""``kaga-vc did``: create and resolve DIDs."""

from __future__ import annotations

from pathlib import Path

import typer

from ..did import ResolutionOptions, did_key_from_public_key
from ..errors import INVALID_OPTIONS, ResolutionError
from ..keys.keystore import keystore_public_key
from ._common import JsonOption, error_boundary, out_console, print_json
from ._resolver import cli_resolver
from .chain import ChainIdOption, RegistryOption, RpcUrlOption
from .did_ethr import create_ethr, parse_version_time, resolve_ethr
from .did_ethr import register as _register_ethr_commands

app = typer.Typer(help="Create and resolve DIDs (did:key; did:ethr and did:web where configured).", no_args_is_help=True)


@app.command("create")
@error_boundary
def create(
    method: str = typer.Option("key", "--method", help="DID method: key or ethr."),
    key: Path = typer.Option(..., "--key", exists=True, dir_okay=False, help="Keystore file whose public key the DID holds."),
    rpc_url: str = RpcUrlOption,
    registry: str = RegistryOption,
    chain_id: int = ChainIdOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a DID for a keystore's key (did:key, or did:ethr on the configured chain; no password needed).

    Example: kaga-vc did create --method key --key resident.json
    """
    if method == "ethr":
        did = create_ethr(key, rpc_url, registry, chain_id)
    elif method != "key":
        raise ResolutionError("methodNotSupported", f"cannot create did:{method} here")
    else:
        did = did_key_from_public_key(keystore_public_key(key))
    if as_json:
        print_json({"did": did})
    else:
        out_console.print(did)


@app.command("resolve")
@error_boundary
def resolve(
    did: str = typer.Argument(..., help="The DID to resolve."),
    public_key_format: str = typer.Option(
        "Multikey", "--public-key-format", help="did:key: Multikey, JsonWebKey2020 or a legacy verification method type."
    ),
    enable_encryption_key_derivation: bool = typer.Option(
        False, "--enable-encryption-key-derivation", help="did:key: add the X25519 key agreement key of an Ed25519 key."
    ),
    accept: str = typer.Option("application/did+ld+json", "--accept", help="application/did+ld+json or application/did+json."),
    version_id: str = typer.Option(None, "--version-id", help="did:ethr: resolve as of this block number."),
    version_time: str = typer.Option(None, "--version-time", help="did:ethr: resolve as of this time (Unix or ISO 8601)."),
    profile: str = typer.Option("current", "--profile", help="did:ethr output: current (spec) or legacy (ethr-did-resolver 11.1.3)."),
    rpc_url: str = RpcUrlOption,
    registry: str = RegistryOption,
    chain_id: int = ChainIdOption,
    as_json: bool = typer.Option(
        False, "--json", help="Print the whole resolution result (document and metadata) as one JSON document."
    ),
) -> None:
    """Resolve a DID and print its DID document as JSON.

    Example: kaga-vc did resolve did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp
    """
    if not public_key_format:
        raise ResolutionError(INVALID_OPTIONS, "--public-key-format must not be empty")
    options = ResolutionOptions(
        accept=accept,
        version_id=version_id,
        version_time=parse_version_time(version_time) if version_time else None,
        properties={
            "publicKeyFormat": public_key_format,
            "enableEncryptionKeyDerivation": enable_encryption_key_derivation,
        },
    )
    if did.startswith("did:ethr:"):
        data = resolve_ethr(did, options, profile, rpc_url, registry, chain_id)
        print_json(data if as_json else data["didDocument"])
        return
    resolver = cli_resolver()
    if did.startswith("did:web:"):
        from ..did.web import WebMethod

        resolver = resolver.with_method(WebMethod())
    result = resolver.resolve(did, options)
    print_json(result.to_json() if as_json else result.did_document)


_register_ethr_commands(app)
