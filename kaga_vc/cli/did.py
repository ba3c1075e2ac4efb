"""``kaga-vc did``: create and resolve DIDs."""

from __future__ import annotations

from pathlib import Path

import typer

from ..did import ResolutionOptions, did_key_from_public_key
from ..errors import INVALID_OPTIONS, ResolutionError
from ..keys.keystore import keystore_public_key
from ._common import JsonOption, error_boundary, out_console, print_json
from ._resolver import cli_resolver

app = typer.Typer(help="Create and resolve DIDs (did:key; did:ethr and did:web where configured).", no_args_is_help=True)


@app.command("create")
@error_boundary
def create(
    method: str = typer.Option("key", "--method", help="DID method: key."),
    key: Path = typer.Option(..., "--key", exists=True, dir_okay=False, help="Keystore file whose public key the DID holds."),
    as_json: bool = JsonOption,
) -> None:
    """Create a DID for a keystore's key (did:key needs no password and no network).

    Example: kaga-vc did create --method key --key resident.json
    """
    if method != "key":
        raise ResolutionError("methodNotSupported", f"cannot create did:{method} here")
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
        properties={
            "publicKeyFormat": public_key_format,
            "enableEncryptionKeyDerivation": enable_encryption_key_derivation,
        },
    )
    result = cli_resolver().resolve(did, options)
    print_json(result.to_json() if as_json else result.did_document)
