"""``kaga-vc request``: the verifier creates a signed presentation request (compact string and QR code)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import typer

from ._common import JsonOption, PasswordFileOption, err_console, error_boundary, print_json
from ._verifier_home import VERIFIER_KEY_FILE, verifier_key_path, verifier_signer

__all__ = ["VERIFIER_KEY_FILE", "app", "verifier_key_path", "verifier_signer"]

app = typer.Typer(help="Presentation requests: what a verifier asks a wallet for, signed with its key.",
                  no_args_is_help=True)



@app.command("create")
@error_boundary
def create(
    purpose: str = typer.Option(..., "--purpose", help="Why the data is asked for (shown to the resident, logged)."),
    claims: list[str] = typer.Option(..., "--claims",
                                     help="Claims to disclose: 'ageOver18,residentOfKaga' (any type) or "
                                     "'KycCredential:ageOver18'. Repeat for several credentials."),
    name: str | None = typer.Option(None, "--name", help="The shop's name as the resident sees it in the wallet "
                                    "and in their history, e.g. '山代温泉 ゆのくに'."),
    location: str | None = typer.Option(None, "--location", help="Where the request is made (e.g. the shop's address)."),
    service: str | None = typer.Option(None, "--service", help="The service id the request is for."),
    expires_in: int = typer.Option(300, "--expires-in", help="Seconds the request stays valid."),
    key: Path | None = typer.Option(None, "--key", help="Verifier keystore (default: $KAGA_VC_HOME/verifier/verifier-key.json, created on first use)."),
    qr: Path | None = typer.Option(None, "--qr", help="Also write a QR code: .png, .svg or .txt (terminal text)."),
    out: Path | None = typer.Option(None, "--out", help="Write the request (compact JWS) here instead of stdout."),
    allow_unknown: bool = typer.Option(False, "--allow-unknown", help="Accept credential types and claim names "
                                       "this installation has no schema for (another issuer's)."),
    password_file: Path | None = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a signed presentation request with a fresh nonce; prints the compact string.

    Types and claim names are checked against the Kaga credential types and their schemas, so a
    misspelling fails here rather than at the wallet (--allow-unknown for another issuer's types).

    Example: kaga-vc request create --name "山代温泉 ゆのくに" --purpose "hotel check-in" --claims KycCredential:ageOver18 --qr request.png --out request.jwt
    """
    from ..verifier.request import CredentialQuery, create_request

    queries = [CredentialQuery.parse(c) for c in claims]
    if not allow_unknown:
        for query in queries:
            check_query(query.type, query.claims)
    signer = verifier_signer(key, password_file)
    request = create_request(signer=signer, purpose=purpose, credentials=queries,
                             location=location, service=service, name=name, lifetime=timedelta(seconds=expires_in))
    if qr is not None:
        from ..verifier.qr import write_qr

        write_qr(request.token, qr)
    if out is not None:
        _write(out, request.token + "\n")
    if as_json:
        print_json({**request.to_json(), "request": request.token, "out": str(out) if out else None,
                    "qr": str(qr) if qr else None})
    elif out is None:
        print(request.token)
    else:
        err_console.print(f"request {request.id} from {request.verifier}, expires {request.expires.isoformat()}")


def check_query(type_name: str, claims: tuple[str, ...]) -> None:
    """InputError unless the type is a Kaga credential type (or ``*``) and each claim is in its schema."""
    import difflib

    from ..credentials.kaga import CredentialKind, load_schema
    from ..errors import REQUEST_INVALID, InputError

    def known_claims(kind: CredentialKind) -> set[str]:
        subject = load_schema(kind).get("properties", {}).get("credentialSubject", {})
        return set(subject.get("properties", {})) - {"id"}

    kinds = {kind.type_name: kind for kind in CredentialKind}
    if type_name == "*":
        names = set().union(*(known_claims(kind) for kind in kinds.values()))
        where = "any Kaga credential type"
    elif type_name in kinds:
        names, where = known_claims(kinds[type_name]), type_name
    else:
        close = difflib.get_close_matches(type_name, list(kinds), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else f"; known: {', '.join(sorted(kinds))}"
        raise InputError(REQUEST_INVALID, f"unknown credential type {type_name!r}{hint}")
    for claim in claims:
        if claim not in names:
            lowered = {n.lower(): n for n in names}
            close = [lowered[claim.lower()]] if claim.lower() in lowered else \
                difflib.get_close_matches(claim, sorted(names), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else f"; known: {', '.join(sorted(names))}"
            raise InputError(REQUEST_INVALID, f"{where} has no claim {claim!r}{hint}")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
