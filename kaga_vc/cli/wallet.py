"""``kaga-vc wallet``: the resident's wallet (holder key and credentials, encrypted at rest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ._common import (
    JsonOption,
    PasswordFileOption,
    err_console,
    error_boundary,
    out_console,
    print_json,
    read_input,
    read_password,
)

app = typer.Typer(help="The resident's wallet: a holder DID and credentials, encrypted at rest.", no_args_is_help=True)

WalletOption = typer.Option(None, "--wallet", help="Wallet file (default: $KAGA_VC_HOME/wallet/wallet.json).")


def _path(wallet: Path | None) -> Path:
    from ..holder import default_wallet_path

    return wallet or default_wallet_path()


def _open(wallet: Path | None, password_file: Path | None) -> Any:
    from ..holder import open_wallet

    path = _path(wallet)
    if not path.exists():
        from ..errors import WALLET_NOT_FOUND, InputError

        raise InputError(WALLET_NOT_FOUND, f"no wallet at {path}: run `kaga-vc wallet init` first")
    return open_wallet(path, read_password(password_file, prompt="Wallet password"))


@app.command("init")
@error_boundary
def init(
    wallet: Path | None = WalletOption,
    key_type: str = typer.Option("ed25519", "--key-type", help="Holder key type: ed25519 (default) or p256."),
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a wallet with a new holder key and print the holder's DID (did:key); never replaces a wallet.

    Example: kaga-vc wallet init --json
    """
    from ..holder import create_wallet

    path = _path(wallet)
    created = create_wallet(path, read_password(password_file, confirm=True, prompt="New wallet password"),
                            key_type=key_type)
    if as_json:
        print_json({"did": created.did, "wallet": str(path)})
    else:
        print(created.did)


@app.command("add")
@error_boundary
def add(
    files: list[str] = typer.Argument(..., help="Credential files (JSON, JWT, SD-JWT), or - for stdin."),
    wallet: Path | None = WalletOption,
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Store credentials issued to this wallet's DID (encrypted).

    Example: kaga-vc wallet add kyc.jwt residency.json
    """
    opened = _open(wallet, password_file)
    added = [opened.add(read_input(f)).summary() for f in files]
    if as_json:
        print_json({"added": added})
    else:
        for item in added:
            out_console.print(f"added {item['id']}  {item['format']}  {', '.join(item['types'])}")


@app.command("list")
@error_boundary
def list_credentials(
    wallet: Path | None = WalletOption,
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """List the wallet's credentials (types, issuer, claim names; never claim values).

    Example: kaga-vc wallet list --json
    """
    opened = _open(wallet, password_file)
    items = [c.summary() for c in opened.credentials()]
    if as_json:
        print_json({"did": opened.did, "credentials": items})
        return
    from rich.table import Table

    out_console.print(f"holder {opened.did}")
    table = Table("id", "format", "types", "issuer", "claims")
    for item in items:
        table.add_row(item["id"], item["format"], ", ".join(item["types"]), item["issuer"] or "-",
                      ", ".join(item["claims"]))
    out_console.print(table)


@app.command("present")
@error_boundary
def present(
    request: str = typer.Argument(..., help="The request: a file, - for stdin, or the compact string itself."),
    out: Path | None = typer.Option(None, "--out", help="Write the response (KVP1 compact string) here instead of stdout."),
    qr: Path | None = typer.Option(None, "--qr", help="Also write the response as a QR code: .png, .svg or .txt."),
    verifier: list[str] | None = typer.Option(None, "--verifier", help="Refuse a request from any other verifier DID."),
    bundle: Path | None = typer.Option(None, "--bundle", help="Trust bundle to resolve a did:ethr verifier offline."),
    wallet: Path | None = WalletOption,
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Answer a presentation request, disclosing only the requested claims where the format allows.

    Example: kaga-vc wallet present request.jwt --out response.txt --qr response.png
    """
    token = _request_text(request)
    resolver = None
    if bundle is not None:
        from ..verifier import read_bundle

        resolver = read_bundle(read_input(str(bundle))).resolver()
    opened = _open(wallet, password_file)
    answer = opened.present(token, resolver=resolver, expected_verifier=verifier or None)
    if qr is not None:
        from ..verifier.qr import write_qr

        write_qr(answer.compact, qr)
    if out is not None:
        out.write_text(answer.compact + "\n", encoding="utf-8")
    if as_json:
        print_json({"request": answer.request.id, "verifier": answer.request.verifier, "purpose": answer.request.purpose,
                    "disclosed": answer.disclosed, "warnings": [w.to_json() for w in answer.warnings],
                    "response": answer.compact, "out": str(out) if out else None, "qr": str(qr) if qr else None})
        return
    for warning in answer.warnings:
        err_console.print(f"[yellow]warning[/] {warning.code}: {warning.detail}")
    if out is None:
        print(answer.compact)
    else:
        err_console.print(f"answered {answer.request.id} for {answer.request.verifier} ({answer.request.purpose})")


def _request_text(value: str) -> str:
    try:
        is_file = value == "-" or Path(value).is_file()
    except OSError:  # a compact string longer than a file name may be
        is_file = False
    return read_input(value).strip() if is_file else value.strip()
