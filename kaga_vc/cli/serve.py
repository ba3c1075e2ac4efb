"""``kaga-vc serve``: the city's and the shops' HTTP service; ``kaga-vc admin-token``: its admin clients."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ..errors import MALFORMED_VALUE_ERROR, InputError
from ._common import (
    PASSWORD_ENV,
    JsonOption,
    PasswordFileOption,
    err_console,
    error_boundary,
    print_json,
    read_password,
)


def _issuer(value: str) -> tuple[str, str]:
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise InputError(MALFORMED_VALUE_ERROR, f"--issuer-key takes NAME=KEYSTORE, not {value!r}")
    return name, path


@error_boundary
def serve(
    role: str = typer.Option("all", "--role", help="issuer (VC-API issue/status, hosting), verifier (verify "
                             "endpoints, subject access) or all."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback unless told otherwise)."),
    port: int = typer.Option(8443, "--port", help="TCP port."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", exists=True, dir_okay=False,
                                         help="PEM certificate (chain): serve HTTPS. Without it: plain HTTP, with a warning."),
    tls_key: Path | None = typer.Option(None, "--tls-key", exists=True, dir_okay=False, help="PEM private key of --tls-cert."),
    records: str | None = typer.Option(None, "--records", help="The city's issuance records (else $KAGA_VC_RECORDS_URL, "
                                       "else SQLite in $KAGA_VC_HOME), e.g. postgresql://city@db/records."),
    log: str | None = typer.Option(None, "--log", help="The access log (else $KAGA_VC_ACCESSLOG_URL, else "
                                   "$KAGA_VC_HOME/accesslog.db) for subject access."),
    issuer_key: list[str] | None = typer.Option(None, "--issuer-key", help="NAME=KEYSTORE: an issuer signing as the "
                                                "keystore's did:key at /issuers/NAME/credentials/issue (repeat)."),
    status: list[str] | None = typer.Option(None, "--status", help="NAME or NAME=RECORDS_URL: that --issuer-key issuer "
                                            "keeps Bitstring Status Lists (entries added, lists hosted), its records "
                                            "in RECORDS_URL (else SQLite in $KAGA_VC_HOME/server) (repeat)."),
    city: bool | None = typer.Option(None, "--city/--no-city", help="Issue as the city (its did:ethr, status lists, "
                                     "records); default: when $KAGA_VC_HOME has a city."),
    base_url: str | None = typer.Option(None, "--base-url", help="Public origin written into status entries "
                                        "(default: https://HOST:PORT, or http:// without TLS)."),
    admin_tokens: Path | None = typer.Option(None, "--admin-tokens", dir_okay=False, help="Sealed admin tokens file "
                                             "(kaga-vc admin-token add); without it the admin endpoints are closed."),
    bundle: Path | None = typer.Option(None, "--bundle", dir_okay=False, help="Trust bundle file to host at "
                                       "/vc/trust-bundle.jwt (re-read on every request)."),
    trusted_city: str | None = typer.Option(None, "--trusted-city", help="The city DID the --bundle must be signed by "
                                            "to be trusted for verification (else $KAGA_VC_TRUSTED_CITY)."),
    policy: Path | None = typer.Option(None, "--policy", exists=True, dir_okay=False, help="Verifier policy (JSON file, "
                                       "as for kaga-vc verify --policy): purposes, bundle age, trusted cities; "
                                       "checked at start."),
    category: str | None = typer.Option(None, "--category", help="The shop's category in its access-log entries "
                                        "(e.g. lodging), as kaga-vc verify --category."),
    shop_name: str | None = typer.Option(None, "--shop-name", help="The shop's name, recorded in each access-log "
                                         "entry and shown in the resident's history, e.g. 'ゆのくに 旅館'."),
    shop_location: str | None = typer.Option(None, "--shop-location", help="Where the counter is (recorded and "
                                             "shown likewise), e.g. '山代温泉'."),
    did_document: Path | None = typer.Option(None, "--did-document", exists=True, dir_okay=False, help="The city's "
                                             "did:web document, served at /.well-known/did.json."),
    log_key: Path | None = typer.Option(None, "--log-key", dir_okay=False, help="The access log's subject-index key "
                                        "(else $KAGA_VC_ACCESSLOG_KEY, else $KAGA_VC_HOME/accesslog.key)."),
    verifier_key: Path | None = typer.Option(None, "--verifier-key", dir_okay=False, help="Keystore of this server's "
                                             "one verifier: it signs the presentation requests, and every access-log "
                                             "entry (subject-access calls too) names its DID (default: "
                                             "$KAGA_VC_HOME/verifier/verifier-key.json, created on first use). A log "
                                             "is one verifier's: the server does not start on another's (--log)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="uvicorn worker processes (use PostgreSQL "
                                "--records/--log with several)."),
    max_body: int = typer.Option(1024 * 1024, "--max-body", min=1024, help="Largest request body, in bytes."),
    verify_rate: int = typer.Option(300, "--verify-rate", min=0, help="Public verify calls per client and minute "
                                    "(0: unlimited)."),
    password_file: Path | None = PasswordFileOption,
) -> None:
    """Serve the VC-API, the hosted lists and bundle, and subject access over HTTP(S) until SIGTERM.

    Example: kaga-vc serve --tls-cert cert.pem --tls-key key.pem --issuer-key eddsa=ed25519.json --admin-tokens tokens.json
    """
    from ..issuer.service import CITY_FILE, city_dir
    from ..server import IssuerSettings, ServerSettings, check_log_owner
    from ..server import serve as run

    if bool(tls_cert) != bool(tls_key):
        raise InputError(MALFORMED_VALUE_ERROR, "--tls-cert and --tls-key go together")
    if policy is not None:  # a broken policy stops the start, not the first customer
        from ..verifier import Policy

        Policy.load(policy)
    statuses = dict(item.partition("=")[::2] for item in status or ())
    issuers = []
    for value in issuer_key or ():
        name, path = _issuer(value)
        if not Path(path).is_file():
            raise InputError(MALFORMED_VALUE_ERROR, f"--issuer-key {name}: no keystore at {path}")
        issuers.append(IssuerSettings(name, keystore=str(Path(path).resolve()), status=name in statuses,
                                      records_url=statuses.get(name) or None))
    unknown = set(statuses) - {i.name for i in issuers}
    if unknown:
        raise InputError(MALFORMED_VALUE_ERROR, f"--status names no --issuer-key: {', '.join(sorted(unknown))}")
    home = None
    if city is None:
        city = role != "verifier" and (city_dir() / CITY_FILE).exists()
    if city:
        issuers.insert(0, IssuerSettings("city", city=True, status=True))
    origin = base_url or f"{'https' if tls_cert else 'http'}://{host if ':' not in host else f'[{host}]'}:{port}"
    settings = ServerSettings(
        role=role, base_url=origin.rstrip("/"), issuers=tuple(issuers), home=home, records_url=records, log_url=log,
        admin_tokens=str(admin_tokens.resolve()) if admin_tokens else None,
        bundle=str(bundle.resolve()) if bundle else None, max_body_bytes=max_body, verify_rate_per_minute=verify_rate,
        extra={**{k: str(v.resolve()) for k, v in (("log_key", log_key), ("verifier_key", verifier_key),
                                                   ("did_document", did_document)) if v},
               **({"policy": str(policy.resolve())} if policy else {}),
               **{k: v for k, v in (("trusted_city", trusted_city), ("category", category), ("shop_name", shop_name),
                                    ("shop_location", shop_location)) if v}},
    )
    check_log_owner(settings)  # before binding: never a server writing into another verifier's log
    if issuers or admin_tokens is not None:
        password: str | None = read_password(password_file)
    else:  # subject access (the operator key) uses it when given; a plain verifier needs none
        password = read_password(password_file) if password_file or os.environ.get(PASSWORD_ENV) else None
    if admin_tokens is None and settings.issues:
        err_console.print("note: no --admin-tokens: issue and status endpoints refuse every call (401)")
    err_console.print(f"kaga-vc serve: role {role}, {len(issuers)} issuer(s), {origin}, {workers} worker(s)")
    run(settings, host=host, port=port, tls_cert=str(tls_cert) if tls_cert else None,
        tls_key=str(tls_key) if tls_key else None, workers=workers, password=password)


admin_app = typer.Typer(help="Admin clients of kaga-vc serve (bearer tokens / OAuth2 client credentials).",
                        no_args_is_help=True)


@admin_app.command("add")
@error_boundary
def add(
    name: str = typer.Argument(..., help="Client name (a staff member or a system), letters, digits, - _ ."),
    file: Path = typer.Option(..., "--file", dir_okay=False, help="The sealed admin tokens file (created if missing)."),
    scope: list[str] | None = typer.Option(None, "--scope", help="issue and/or status (repeat; default both)."),
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Add an admin client and print its secret once (a bearer token, and its OAuth2 client secret).

    Example: kaga-vc admin-token add tanaka --file admin-tokens.json --scope status
    """
    from ..server import SCOPES, add_client

    secret = add_client(file, read_password(password_file, confirm=not file.exists()), name,
                        scopes=tuple(scope) if scope else SCOPES)
    if as_json:
        print_json({"client_id": name, "client_secret": secret})
    else:
        err_console.print(f"client {name} added to {file}; its secret (shown once):")
        print(secret)


@admin_app.command("list")
@error_boundary
def list_(
    file: Path = typer.Option(..., "--file", exists=True, dir_okay=False, help="The sealed admin tokens file."),
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """List the admin clients and their scopes (secrets are not stored, so never shown).

    Example: kaga-vc admin-token list --file admin-tokens.json --json
    """
    from ..server import list_clients

    clients = list_clients(file, read_password(password_file))
    if as_json:
        print_json([{"client_id": name, "scopes": list(scopes)} for name, scopes in clients])
    else:
        for name, scopes in clients:
            print(f"{name}\t{' '.join(scopes)}")


@admin_app.command("remove")
@error_boundary
def remove(
    name: str = typer.Argument(..., help="Client name."),
    file: Path = typer.Option(..., "--file", exists=True, dir_okay=False, help="The sealed admin tokens file."),
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Remove an admin client: its secret stops working (its access tokens when the server restarts).

    Example: kaga-vc admin-token remove tanaka --file admin-tokens.json
    """
    from ..server import remove_client

    remove_client(file, read_password(password_file), name)
    if as_json:
        print_json({"removed": name})
    else:
        err_console.print(f"client {name} removed from {file}")
