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
from ._verifier_home import TRUSTED_CITY_ENV, home_city, trusted_city
from .chain import ChainIdOption, EmbeddedChainOption, RegistryOption, RpcUrlOption, VerifyRpcUrlOption

__all__ = ["TRUSTED_CITY_ENV", "app", "home_city", "parse_issuer", "pinned_city", "trusted_city"]

app = typer.Typer(help="Trust bundles: issuers' did:ethr histories, status lists, types and schemas, signed by the city.",
                  no_args_is_help=True)

CityOption = typer.Option(None, "--city", help="The city DID that must have signed the bundle (else $KAGA_VC_TRUSTED_CITY, "
                          "else the city whose keys are in $KAGA_VC_HOME, i.e. the city's own home; a shop "
                          "must name it).")
TrustAnyCityOption = typer.Option(False, "--trust-any-city", help="DANGEROUS: accept a bundle signed by any city "
                                  "(no pinned city). Anyone can make a city; use only for tests.")


def parse_issuer(value: str, default_types: tuple[str, ...]) -> Any:
    """``DID`` or ``DID=TypeA,TypeB`` → a TrustedIssuer."""
    from ..verifier import TrustedIssuer

    did, _, types = value.partition("=")
    kinds = tuple(t.strip() for t in types.split(",") if t.strip()) or default_types
    return TrustedIssuer(did.strip(), kinds)


def pinned_city(value: str | None, trust_any_city: bool) -> str | None:
    """The city a bundle must come from; ``kaga:bundle-signer-not-pinned`` when there is none and any city
    was not trusted explicitly (then a loud warning on stderr)."""
    from ..errors import BUNDLE_SIGNER_NOT_PINNED, ProofError

    city = trusted_city(value)
    if city is None and not trust_any_city:
        raise ProofError(BUNDLE_SIGNER_NOT_PINNED, "no trusted city: pass --city DID or set $KAGA_VC_TRUSTED_CITY "
                                                   "(or, for tests only, --trust-any-city)")
    if city is None:
        err_console.print("[bold red]WARNING[/]: --trust-any-city: a bundle signed by ANY city is accepted; "
                          "anyone can make a city and sign one")
    return city


@app.command("sync")
@error_boundary
def sync(
    issuer: list[str] | None = typer.Option(None, "--issuer", help="Trusted issuer: DID or DID=TypeA,TypeB (repeat). "
                                            "Default: the city, for all of its credential types."),
    out: Path = typer.Option(Path("trust-bundle.jwt"), "--out", help="Where to write the signed bundle."),
    status_lists: Path | None = typer.Option(None, "--status-lists", help="Extra status list credentials: a JSON file {url: credential}."),
    valid_for: int = typer.Option(7 * 86400, "--valid-for", help="Seconds until the bundle expires (verifiers refuse it after)."),
    rpc_url: str | None = RpcUrlOption,
    registry: str | None = RegistryOption,
    chain_id: int | None = ChainIdOption,
    allow_private_address: bool = typer.Option(
        False, "--allow-private-address", help="A did:web issuer's DID document may come from a loopback, private "
        "or link-local address (plain HTTP only to a loopback one); refused by default."),
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Read the issuers' did:ethr histories from the chain, add the city's current status lists, types and schemas, sign.

    A did:web issuer's DID document is fetched now (HTTPS) and carried in the bundle, signed with the
    rest: verifiers resolve it offline. For each city key that was rotated away (no longer in the
    city's DID document) the bundle lists the digests of the credentials anchored while it was valid
    (from the issuance records); offline, a credential of such a key that is not listed is refused
    (kaga:key-no-longer-valid: it could be backdated). Run by the city (its keys under $KAGA_VC_HOME/city sign);
    businesses receive the file.
    Example: kaga-vc bundle sync --issuer did:ethr:0x539:0x… --out trust-bundle.jwt
    Example: kaga-vc bundle sync --issuer did:web:clinic.example=VaccinationCredential --issuer did:ethr:0x539:0x…
    """
    from ..credentials import issue_credential
    from ..credentials.kaga import CredentialKind, load_schema
    from ..did.web import WebMethod
    from ..issuer.service import city_bundle_signer, city_dir, open_city_issuer, read_city
    from ..status import FileStatusListSource, StatusLists
    from ..verifier import sync_bundle
    from ..verifier.bundle import next_bundle_sequence
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
        store: Any = city.records  # what the city anchored, per signing key: listed for the keys it retired
        anchored = {method: [(bytes.fromhex(d), t, issued) for d, t, issued in store.anchored_issuances(method)]
                    for method in store.signing_methods()}
        with opened_registry(rpc_url or config.rpc_url, registry or config.registry, chain_id) as reg:
            from ..registry import ethr_method

            bundle = sync_bundle(ethr_method(reg), signer=bundle_signer, issuers=issuers, status_lists=lists,
                                 schemas=schemas, valid_for=timedelta(seconds=valid_for),
                                 sequence=next_bundle_sequence(city_dir() / "bundle-sequence"),
                                 web=WebMethod(insecure_localhost=allow_private_address), anchored=anchored)
    from .._files import write_atomically

    write_atomically(out, bundle.token + "\n", mode=0o644)  # public; a planted symlink is replaced, not followed
    summary = {**bundle.summary(), "out": str(out)}
    if as_json:
        print_json(summary)
    else:
        err_console.print(f"wrote {out}: {len(bundle.issuers)} issuer(s), {len(bundle.status_lists)} status list(s), "
                          f"block {bundle.chain.get('block')}")


def _read(path: str, city: str | None, trust_any_city: bool = False) -> Any:
    from ..verifier import read_bundle

    return read_bundle(read_input(path), trusted_city=pinned_city(city, trust_any_city))


@app.command("fetch")
@error_boundary
def fetch(
    url: str = typer.Argument(..., help="HTTPS URL of the city's published bundle (http:// only to a loopback address)."),
    out: Path = typer.Option(Path("trust-bundle.jwt"), "--out", help="Where to write the bundle once it verifies."),
    city: str | None = CityOption,
    trust_any_city: bool = TrustAnyCityOption,
    allow_private_address: bool = typer.Option(False, "--allow-private-address", help="Allow a host on a loopback, "
                                               "private or link-local address (a local mirror); refused by default."),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds for the whole download (one deadline)."),
    ca_file: Path | None = typer.Option(None, "--ca-file", help="PEM file of the certificate authorities to trust "
                                        "for HTTPS (else $REQUESTS_CA_BUNDLE, else $SSL_CERT_FILE, else the "
                                        "system's)."),
    as_json: bool = JsonOption,
) -> None:
    """Download a trust bundle, check the city's signature, then save it for offline use.

    Never saves an expired bundle, nor one older than the bundle already at --out or the newest this
    verifier has seen (kaga:bundle-rollback).

    Example: kaga-vc bundle fetch https://city.kaga.ishikawa.jp/vc/trust-bundle.jwt --city did:ethr:0x539:0x… --out trust-bundle.jwt
    """
    from ..verifier.bundle import BundleMemory, default_bundle_memory_path
    from ..verifier.fetch import fetch_bundle, install_bundle

    bundle = fetch_bundle(url, trusted_city=pinned_city(city, trust_any_city), timeout=timeout,
                          allow_private_addresses=allow_private_address, ca_file=ca_file)
    with BundleMemory(default_bundle_memory_path()) as memory:
        install_bundle(bundle, out, memory=memory)
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
    trust_any_city: bool = TrustAnyCityOption,
    as_json: bool = JsonOption,
) -> None:
    """Show what a bundle holds (checks its signature first): city, age, issuers, histories, status lists, types.

    Example: kaga-vc bundle show trust-bundle.jwt --json
    """
    summary = _read(bundle, city, trust_any_city).summary()
    if as_json:
        print_json(summary)
        return
    print_fields(summary)


@app.command("verify")
@error_boundary
def verify(
    bundle: str = typer.Argument(..., help="Bundle file, or - for stdin."),
    city: str | None = CityOption,
    trust_any_city: bool = TrustAnyCityOption,
    max_age: int = typer.Option(7 * 86400, "--max-age", help="Maximum age in seconds before the bundle counts as stale."),
    rpc_url: str | None = VerifyRpcUrlOption,
    registry: str | None = RegistryOption,
    chain_id: int | None = ChainIdOption,
    embedded_chain: bool = EmbeddedChainOption,
    as_json: bool = JsonOption,
) -> None:
    """Check a bundle's signature (by the city), its expiry and its age; exit 0 valid, 1 invalid, expired or stale.

    Offline by default. With a chain (--embedded-chain, --rpc-url or $KAGA_VC_RPC_URL) it also checks that
    the bundle's key is still the city's KagaBundleKey on its did:ethr (kaga:bundle-key-retired otherwise).
    Example: kaga-vc bundle verify trust-bundle.jwt --city did:ethr:0x539:0x… --max-age 86400
    """
    from ..errors import BUNDLE_EXPIRED, BUNDLE_STALE, KagaError
    from .chain import named_chain, opened_named_chain

    loaded = _read(bundle, city, trust_any_city)
    now = datetime.now(UTC)
    age = loaded.age(now)
    problems = []
    if loaded.is_expired(now):
        problems.append({"code": BUNDLE_EXPIRED, "detail": f"expired at {loaded.expires.isoformat()}"})
    if age > timedelta(seconds=max_age):
        problems.append({"code": BUNDLE_STALE, "detail": f"older than {max_age} s"})
    online = named_chain(rpc_url, embedded_chain) and loaded.key_certificate is not None
    if online:
        from ..did import Resolver
        from ..registry import ethr_method
        from ..verifier.bundle_key import check_published

        with opened_named_chain(rpc_url, registry, chain_id, embedded_chain) as reg:
            document = Resolver({"ethr": ethr_method(reg)}).resolve(loaded.city).did_document
        try:
            check_published(loaded.key_certificate, document)
        except KagaError as error:
            problems.append({"code": error.code, "detail": error.detail})
    stale = bool(problems)
    data = {"verified": not stale, "city": loaded.city, "createdAt": loaded.created.isoformat(),
            "sequence": loaded.sequence, "expiresAt": loaded.expires.isoformat() if loaded.expires else None,
            "ageSeconds": int(age.total_seconds()), "digest": loaded.digest, "chainChecked": online,
            "problems": problems}
    if as_json:
        print_json(data)
    elif stale:
        out_console.print(f"[bold red]refused[/]  {', '.join(p['code'] for p in problems)}: signed by {loaded.city}, "
                          f"{data['ageSeconds']} s old")
    else:
        out_console.print(f"[bold green]valid[/]  signed by {loaded.city}, {data['ageSeconds']} s old")
    raise typer.Exit(int(ExitCode.INVALID if stale else ExitCode.OK))
