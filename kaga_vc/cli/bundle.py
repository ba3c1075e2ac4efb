"""``kaga-vc bundle``: the city's signed trust bundle for offline verifiers (sync, show, verify)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from ._common import (
    ExitCode,
    JsonOption,
    PasswordFileOption,
    err_console,
    error_boundary,
    out_console,
    print_fields,
    print_json,
    read_input,
    read_password,
)
from .chain import ChainIdOption, RegistryOption, RpcUrlOption

app = typer.Typer(help="Trust bundles: issuers' did:ethr histories, status lists, types and schemas, signed by the city.",
                  no_args_is_help=True)

CityOption = typer.Option(None, "--city", help="The city DID that must have signed the bundle (else $KAGA_VC_TRUSTED_CITY).")
TRUSTED_CITY_ENV = "KAGA_VC_TRUSTED_CITY"


def parse_issuer(value: str, default_types: tuple[str, ...]) -> Any:
    """``DID`` or ``DID=TypeA,TypeB`` → a TrustedIssuer."""
    from ..verifier import TrustedIssuer

    did, _, types = value.partition("=")
    kinds = tuple(t.strip() for t in types.split(",") if t.strip()) or default_types
    return TrustedIssuer(did.strip(), kinds)


def trusted_city(value: str | None) -> str | None:
    import os

    return value or os.environ.get(TRUSTED_CITY_ENV) or None


@app.command("sync")
@error_boundary
def sync(
    issuer: list[str] | None = typer.Option(None, "--issuer", help="Trusted issuer: DID or DID=TypeA,TypeB (repeat). "
                                            "Default: the city, for all of its credential types."),
    out: Path = typer.Option(Path("trust-bundle.jwt"), "--out", help="Where to write the signed bundle."),
    status_lists: Path | None = typer.Option(None, "--status-lists", help="Extra status list credentials: a JSON file {url: credential}."),
    rpc_url: str | None = RpcUrlOption,
    registry: str | None = RegistryOption,
    chain_id: int | None = ChainIdOption,
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Read the issuers' did:ethr histories from the chain, add the city's current status lists, types and schemas, sign.

    Run by the city (its keys under $KAGA_VC_HOME/city sign); businesses receive the file.
    Example: kaga-vc bundle sync --issuer did:ethr:0x539:0x… --out trust-bundle.jwt
    """
    from ..credentials import issue_credential
    from ..credentials.kaga import CredentialKind, load_schema
    from ..issuer.service import city_bundle_signer, open_city_issuer, read_city
    from ..status import FileStatusListSource, StatusLists
    from ..verifier import sync_bundle
    from .chain import opened_registry

    config = read_city()
    all_types = tuple(kind.type_name for kind in CredentialKind)
    issuers = [parse_issuer(i, all_types if i.partition("=")[0].strip() == config.did else ()) for i in issuer or []]
    if not issuers:
        issuers = [parse_issuer(config.did, all_types)]
    password = read_password(password_file)
    bundle_signer = city_bundle_signer(password)
    with open_city_issuer(password) as city:
        signer = city.ed25519_signer
        lists: dict[str, Any] = {}
        if isinstance(city.status, StatusLists):
            lists.update(city.status.build_all(lambda c: issue_credential(c, signer=signer), issuer=config.did))
        if status_lists is not None:
            lists.update(FileStatusListSource(status_lists).documents)
        schemas = {kind.type_name: load_schema(kind) for kind in CredentialKind
                   if any(kind.type_name in i.types for i in issuers)}
        with opened_registry(rpc_url or config.rpc_url, registry or config.registry, chain_id) as reg:
            from ..registry import ethr_method

            bundle = sync_bundle(ethr_method(reg), signer=bundle_signer, issuers=issuers, status_lists=lists,
                                 schemas=schemas)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(bundle.token + "\n", encoding="utf-8")
    summary = {**bundle.summary(), "out": str(out)}
    if as_json:
        print_json(summary)
    else:
        err_console.print(f"wrote {out}: {len(bundle.issuers)} issuer(s), {len(bundle.status_lists)} status list(s), "
                          f"block {bundle.chain.get('block')}")


def _read(path: str, city: str | None) -> Any:
    from ..verifier import read_bundle

    return read_bundle(read_input(path), trusted_city=trusted_city(city))


@app.command("fetch")
@error_boundary
def fetch(
    url: str = typer.Argument(..., help="HTTPS URL of the city's published bundle (http:// only to a loopback address)."),
    out: Path = typer.Option(Path("trust-bundle.jwt"), "--out", help="Where to write the bundle once it verifies."),
    city: str | None = CityOption,
    as_json: bool = JsonOption,
) -> None:
    """Download a trust bundle, check the city's signature, then save it for offline use.

    Example: kaga-vc bundle fetch https://city.kaga.ishikawa.jp/vc/trust-bundle.jwt --city did:ethr:0x539:0x… --out trust-bundle.jwt
    """
    from .._files import write_atomically
    from ..verifier.fetch import fetch_bundle

    bundle = fetch_bundle(url, trusted_city=trusted_city(city))
    write_atomically(out, bundle.token + "\n", mode=0o644)
    summary = {**bundle.summary(), "out": str(out), "url": url}
    if as_json:
        print_json(summary)
    else:
        err_console.print(f"fetched and verified {url}: city {bundle.city}, {len(bundle.issuers)} issuer(s); wrote {out}")


@app.command("show")
@error_boundary
def show(
    bundle: str = typer.Argument(..., help="Bundle file, or - for stdin."),
    city: str | None = CityOption,
    as_json: bool = JsonOption,
) -> None:
    """Show what a bundle holds (checks its signature first): city, age, issuers, histories, status lists, types.

    Example: kaga-vc bundle show trust-bundle.jwt --json
    """
    summary = _read(bundle, city).summary()
    if as_json:
        print_json(summary)
        return
    print_fields(summary)


@app.command("verify")
@error_boundary
def verify(
    bundle: str = typer.Argument(..., help="Bundle file, or - for stdin."),
    city: str | None = CityOption,
    max_age: int = typer.Option(7 * 86400, "--max-age", help="Maximum age in seconds before the bundle counts as stale."),
    as_json: bool = JsonOption,
) -> None:
    """Check a bundle's signature (by the city, at its creation) and its age; exit 0 valid, 1 invalid or stale.

    Example: kaga-vc bundle verify trust-bundle.jwt --city did:ethr:0x539:0x… --max-age 86400
    """
    from ..errors import BUNDLE_STALE

    loaded = _read(bundle, city)
    age = loaded.age(datetime.now(UTC))
    stale = age > timedelta(seconds=max_age)
    data = {"verified": not stale, "city": loaded.city, "createdAt": loaded.created.isoformat(),
            "ageSeconds": int(age.total_seconds()), "digest": loaded.digest,
            "problems": [{"code": BUNDLE_STALE, "detail": f"older than {max_age} s"}] if stale else []}
    if as_json:
        print_json(data)
    elif stale:
        out_console.print(f"[bold red]stale[/]  {BUNDLE_STALE}: signed by {loaded.city}, {data['ageSeconds']} s old")
    else:
        out_console.print(f"[bold green]valid[/]  signed by {loaded.city}, {data['ageSeconds']} s old")
    raise typer.Exit(int(ExitCode.INVALID if stale else ExitCode.OK))
