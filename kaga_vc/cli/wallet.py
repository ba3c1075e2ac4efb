"""``kaga-vc wallet``: the resident's wallet (holder key and credentials, encrypted at rest)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

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

    Running it again on an existing wallet changes nothing and prints that wallet's DID (exit 0, as
    `city init` does). Example: kaga-vc wallet init --json
    """
    from ..holder import create_wallet, read_wallet_did

    path = _path(wallet)
    if path.exists():
        did = read_wallet_did(path)
        if as_json:
            print_json({"did": did, "wallet": str(path), "created": False})
        else:
            err_console.print(f"already set up: {path}")
            print(did)
        return
    created = create_wallet(path, read_password(password_file, confirm=True, prompt="New wallet password"),
                            key_type=key_type)
    if as_json:
        print_json({"did": created.did, "wallet": str(path), "created": True})
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
    added: list[dict[str, Any]] = []
    already: list[dict[str, Any]] = []
    for f in files:
        known = {c.id for c in opened.credentials()}
        stored = opened.add(read_input(f))
        (already if stored.id in known else added).append(stored.summary())
    if as_json:
        print_json({"added": added, "alreadyInWallet": already})
        return
    for item in added:
        out_console.print(Text(f"added {item['id']}  {item['format']}  {', '.join(item['types'])}"), soft_wrap=True)
    for item in already:
        out_console.print(Text(f"already in the wallet: {item['id']}  {', '.join(item['types'])} (nothing changed)"),
                          soft_wrap=True)


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
    from rich.table import Column, Table

    out_console.print(Text(f"holder {opened.did}"), soft_wrap=True)
    table = Table(*(Column(name, overflow="fold") for name in ("id", "format", "types", "issuer", "claims")))
    for item in items:
        table.add_row(item["id"], item["format"], ", ".join(item["types"]), item["issuer"] or "-",
                      ", ".join(item["claims"]))
    out_console.print(table)


@app.command("remove")
@error_boundary
def remove(
    credential_id: str = typer.Argument(..., help="The id `wallet list` shows (urn:sha256:…)."),
    wallet: Path | None = WalletOption,
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Delete one credential from the wallet (the wallet file is rewritten, encrypted).

    Example: kaga-vc wallet remove urn:sha256:0123456789abcdef0123456789abcdef
    """
    opened = _open(wallet, password_file)
    opened.remove(credential_id)
    if as_json:
        print_json({"removed": credential_id})
    else:
        out_console.print(Text(f"removed {credential_id}"), soft_wrap=True)


@app.command("present")
@error_boundary
def present(
    request: str = typer.Argument(..., help="The request: a file, - for stdin, or the compact string itself."),
    out: Path | None = typer.Option(None, "--out", help="Write the response (KVP1 compact string) here instead of stdout."),
    qr: Path | None = typer.Option(None, "--qr", help="Also write the response as a QR code: .png, .svg or .txt."),
    verifier: list[str] | None = typer.Option(None, "--verifier", help="Refuse a request from any other verifier DID."),
    bundle: Path | None = typer.Option(None, "--bundle", help="Trust bundle to resolve a did:ethr verifier offline."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Disclose without asking (scripts); on a terminal the "
                             "wallet shows what it is about to disclose and asks first."),
    wallet: Path | None = WalletOption,
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Answer a presentation request, disclosing only the requested claims where the format allows.

    The request may be the file `request create` wrote, its QR code (.png or .jpg) or the string.
    Nothing is written until the disclosure is confirmed (or --yes).
    Example: kaga-vc wallet present request.png --out response.txt --qr response.png
    Example: kaga-vc wallet present request.jwt --yes --out response.txt
    """
    token = _request_text(request)
    resolver = None
    if bundle is not None:
        from ..verifier import read_bundle

        resolver = read_bundle(read_input(str(bundle))).resolver()
    opened = _open(wallet, password_file)
    answer = opened.present(token, resolver=resolver, expected_verifier=verifier or None)
    if not yes and sys.stdin.isatty():
        _show_disclosure(answer, opened)
        if not typer.confirm("Disclose this?", default=False, err=True):
            raise typer.Abort()
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


def _show_disclosure(answer: Any, opened: Any) -> None:
    """What the wallet is about to send: to whom, why, where, and which claims of which credential."""
    req = answer.request
    who = f"{req.name} ({req.verifier})" if getattr(req, "name", None) else req.verifier
    err_console.print(Text(f"{who} asks, for: {req.purpose}"), soft_wrap=True)
    where = getattr(req, "location", None) or getattr(req, "service", None)
    if where:
        err_console.print(Text(f"  at: {where}"), soft_wrap=True)
    types = {c.id: ", ".join(c.types) for c in opened.credentials()}
    for credential_id, claims in answer.disclosed.items():
        err_console.print(Text(f"  from {types.get(credential_id, credential_id)}: {', '.join(claims) or 'no claim'}"),
                          soft_wrap=True)
    for warning in answer.warnings:
        err_console.print(Text(f"  warning {warning.code}: {warning.detail}", style="yellow"), soft_wrap=True)


def _request_text(value: str) -> str:
    try:
        is_file = value == "-" or Path(value).is_file()
    except OSError:  # a compact string longer than a file name may be
        is_file = False
    return read_input(value).strip() if is_file else value.strip()
