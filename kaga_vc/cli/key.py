"""``kaga-vc key``: generate, import and inspect encrypted keystore files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ..errors import INVALID_KEY, InputError
from ..keys import KeyType, PrivateKey, ethereum_address, import_v3_keystore
from ..keys.keystore import keystore_public_key, read_keystore, save_key
from ._common import (
    JsonOption,
    PasswordFileOption,
    error_boundary,
    print_fields,
    print_json,
    read_input,
    read_password,
)

app = typer.Typer(help="Generate, import and inspect encrypted keystore files.", no_args_is_help=True)


def describe_key(public_key: Any, path: Path | None = None, label: str = "") -> dict[str, Any]:
    """Public facts about a key (never the private part)."""
    from ..did import did_key_from_public_key

    info: dict[str, Any] = {
        "keyType": public_key.key_type.value,
        "publicKeyMultibase": public_key.to_multikey(),
        "publicKeyJwk": public_key.to_jwk(),
    }
    if public_key.key_type.info.signs:
        info["didKey"] = did_key_from_public_key(public_key)
    if public_key.key_type is KeyType.SECP256K1:
        info["ethereumAddress"] = ethereum_address(public_key)
    if path is not None:
        info["keystore"] = str(path)
    if label:
        info["label"] = label
    return info


def _render(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(info)
        return
    print_fields({name: value for name, value in info.items() if name != "publicKeyJwk"})


@app.command("generate")
@error_boundary
def generate(
    key_type: str = typer.Option(..., "--type", help="ed25519, secp256k1, p256, p384 or p521."),
    out: Path = typer.Option(..., "--out", help="Keystore file to create (mode 0600; never overwritten)."),
    label: str = typer.Option("", "--label", help="A note stored in clear beside the encrypted key."),
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Generate a key pair into a new encrypted keystore file.

    Example: kaga-vc key generate --type ed25519 --out city-assertion.json
    """
    kt = KeyType.parse(key_type)
    if not kt.info.signs:
        raise InputError(INVALID_KEY, f"{kt.value} keys cannot sign; choose ed25519, secp256k1, p256, p384 or p521")
    password = read_password(password_file, confirm=True)
    key = PrivateKey.generate(kt)
    save_key(out, key, password, label=label)
    _render(describe_key(key.public_key, out, label), as_json)


@app.command("import")
@error_boundary
def import_key(
    source: str = typer.Option(..., "--from", help="A JWK, a hex private key or an Ethereum V3 keystore file (- for stdin)."),
    out: Path = typer.Option(..., "--out", help="Keystore file to create (mode 0600; never overwritten)."),
    key_type: str = typer.Option("secp256k1", "--type", help="Key type of a hex private key."),
    source_password_file: Path | None = typer.Option(
        None, "--source-password-file", exists=True, dir_okay=False, help="Password of a V3 keystore being imported."
    ),
    label: str = typer.Option("", "--label", help="A note stored in clear beside the encrypted key."),
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Import a private key into a new encrypted keystore file.

    Example: kaga-vc key import --from city-account.v3.json --out city-owner.json
    """
    text = read_input(source).strip()
    key = _parse_private_key(text, key_type, source_password_file)
    password = read_password(password_file, confirm=True)
    save_key(out, key, password, label=label)
    _render(describe_key(key.public_key, out, label), as_json)


@app.command("show")
@error_boundary
def show(
    keystore: Path = typer.Argument(..., help="Keystore file."),
    as_json: bool = JsonOption,
) -> None:
    """Show a keystore's public key, did:key and Ethereum address (no password needed).

    Example: kaga-vc key show city-owner.json --json
    """
    label = str(read_keystore(keystore).get("label", ""))
    _render(describe_key(keystore_public_key(keystore), keystore, label), as_json)


def _parse_private_key(text: str, key_type: str, source_password_file: Path | None) -> PrivateKey:
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise InputError("PARSING_ERROR", "key file is not valid JSON") from None
        if not isinstance(data, dict):
            raise InputError("PARSING_ERROR", "key file must hold a JSON object")
        if "kty" in data:
            return PrivateKey.from_jwk(data)
        if "crypto" in {k.lower() for k in data}:
            v3_password = read_password(source_password_file, prompt="V3 keystore password")
            return import_v3_keystore(data, v3_password)
        raise InputError("PARSING_ERROR", "JSON key file is neither a JWK nor an Ethereum V3 keystore")
    return PrivateKey.from_hex(text, KeyType.parse(key_type))
