"""``kaga-vc verify``: verify a credential or presentation, offline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.text import Text

from ..credentials import (
    Format,
    Problem,
    VerificationResult,
    VerifyParameters,
    parse_json,
    verify_credential,
    verify_presentation,
)
from ..credentials.formats import detect
from ..errors import (
    DOCUMENT_TOO_DEEP,
    DOCUMENT_TOO_LARGE,
    DUPLICATE_JSON_KEY,
    PARSING_ERROR,
    InputError,
    KagaError,
)
from ._common import (
    ExitCode,
    JsonOption,
    PasswordFileOption,
    err_console,
    error_boundary,
    out_console,
    print_json,
    read_input,
)
from ._resolver import cli_resolver
from .chain import (
    ChainIdOption,
    ChainResolvers,
    EmbeddedChainOption,
    RegistryOption,
    VerifyRpcUrlOption,
    issuance_time_resolvers,
    named_chain,
)

_INPUT_CODES = {PARSING_ERROR, DOCUMENT_TOO_LARGE, DOCUMENT_TOO_DEEP, DUPLICATE_JSON_KEY,
                "kaga:response-invalid", "kaga:request-invalid", "kaga:bundle-invalid"}


def _anchor_checked(data: str | dict[str, object], result: VerificationResult, chain: ChainResolvers,
                    anchor_proof: Path | None, at: datetime | None, skew: timedelta) -> VerificationResult:
    """A key the issuer's DID no longer accepts needs an issuance anchor from while it was valid."""
    from ..accesslog.issuance import InclusionProof, check_key_still_valid
    from ..registry.anchor import ChainAnchor
    from ..verifier import issuance_of

    issuer, _ = issuance_of(data)
    proof = None
    if anchor_proof is not None:
        proof = InclusionProof.from_json(parse_json(anchor_proof.read_text(encoding="utf-8")))

    def verify_at(when: datetime | None) -> VerificationResult:
        return verify_credential(data, resolver=chain.at(issuer, when), now=at, max_clock_skew=skew)

    def lookup(anchorer: str, log_id: bytes, *, contract: str) -> object:
        return ChainAnchor(chain.registry, contract).read_log(anchorer, log_id)

    return check_key_still_valid(data, result, verify_at=verify_at, proof=proof, lookup=lookup)


def exit_code(result: VerificationResult) -> ExitCode:
    """0 verified, 3 unreadable input, 4 could not check, 1 checked and invalid."""
    if result.verified:
        return ExitCode.OK
    if any(p.code in _INPUT_CODES for p in result.problems):
        return ExitCode.BAD_INPUT
    if result.could_not_check:
        return ExitCode.COULD_NOT_CHECK
    return ExitCode.INVALID


@error_boundary
def verify(
    file: str = typer.Argument(..., help="Credential or presentation (JSON, JWT, SD-JWT) file, or - for stdin."),
    challenge: str | None = typer.Option(None, "--challenge", help="The challenge (nonce) a presentation must carry."),
    domain: str | None = typer.Option(None, "--domain", help="The domain a presentation must be bound to."),
    now: str | None = typer.Option(None, "--now", help="Check validity at this instant (ISO 8601 with offset)."),
    max_clock_skew: int = typer.Option(300, "--max-clock-skew", help="Tolerated clock skew, in seconds."),
    rpc_url: str | None = VerifyRpcUrlOption,
    registry: str | None = RegistryOption,
    chain_id: int | None = ChainIdOption,
    embedded_chain: bool = EmbeddedChainOption,
    request: str | None = typer.Option(None, "--request", help="The presentation request (file) the input answers; needs --bundle."),
    bundle: str | None = typer.Option(None, "--bundle", help="The city's trust bundle (file) for offline verification: "
                                      "alone, it checks one credential (issuer keys, status, trust) with no network."),
    policy: str | None = typer.Option(None, "--policy", help="Verifier policy (JSON file): purposes, bundle age, trusted cities."),
    city: str | None = typer.Option(None, "--city", help="The city DID that must have signed the bundle (else $KAGA_VC_TRUSTED_CITY, "
                                    "else the city whose keys are in $KAGA_VC_HOME, the city's own home; "
                                    "none: the bundle is refused)."),
    trust_any_city: bool = typer.Option(False, "--trust-any-city", help="DANGEROUS: with --bundle, accept a bundle "
                                        "signed by any city (no pinned city). For tests only."),
    anchor_proof: Path | None = typer.Option(
        None, "--anchor-proof", exists=True, dir_okay=False, help="With a chain: the credential's issuance anchor "
        "proof (kaga-vc city anchor). Needed when the issuer's DID no longer accepts the signing key "
        "(rotated, revoked, deactivated): else kaga:key-no-longer-valid."),
    status_lists: str | None = typer.Option(
        None, "--status-lists", help="Check status against these status list credentials: a file or directory "
        "written by kaga-vc status publish (else status is not checked: a warning). A list older than one "
        "seen before is refused (remembered in $KAGA_VC_HOME/verifier/status-lists.sqlite3)."),
    verifier_key: Path | None = typer.Option(None, "--verifier-key", dir_okay=False, help="With --request: the verifier's keystore "
                                             "that signs the access-log entry (default: the one `request create` uses)."),
    log: str | None = typer.Option(None, "--log", help="With --request: the access log to record in (else $KAGA_VC_ACCESSLOG_URL, "
                                   "else $KAGA_VC_HOME/accesslog.db)."),
    category: str | None = typer.Option(None, "--category", help="With --request: the verifier's category in the access log "
                                        "(e.g. lodging, healthcare)."),
    no_log: bool = typer.Option(False, "--no-log", help="With --request: do not record this verification in the access log."),
    password_file: Path | None = PasswordFileOption,
    required_type: str | None = typer.Option(
        None, "--type", help="With --bundle alone: the credential must be trusted as this type (e.g. KycCredential): "
        "its issuer trusted for it in the bundle, else kaga:credential-type-not-accepted. A credential is only "
        "ever trusted as the types the bundle trusts its issuer for (details.trustedTypes)."),
    formats: list[str] | None = typer.Option(
        None, "--format", help="Accept only this securing format (repeatable): " + ", ".join(f.value for f in Format)
        + ". Any other is refused (kaga:format-not-accepted). Default: every format. Whether the input is a "
        "credential or a presentation is read from its format, never from --challenge."),
    did_web: bool = typer.Option(False, "--did-web", help="Resolve did:web issuers and holders over HTTPS (online). "
                                 "Offline, a did:web issuer verifies from a trust bundle that carries it (--bundle)."),
    allow_private_address: bool = typer.Option(
        False, "--allow-private-address", help="With --did-web: a DID document may come from a loopback, private or "
        "link-local address (plain HTTP only to a loopback one); refused by default."),
    as_json: bool = JsonOption,
) -> None:
    """Verify a credential or presentation offline; exit 0 verified, 1 invalid, 3 bad input, 4 could not check.

    With --request and --bundle, verify a wallet's response against the request (nonce single use,
    audience, holder binding, issuer trust, status); a refused or replayed presentation exits 1. The
    verification, accepted or refused, is recorded in the access log signed by the verifier's key
    (its password: --password-file, $KAGA_VC_PASSWORD or $KAGA_VC_PASSWORD_FILE). The key is unlocked
    first and the nonce is used only once the entry is written: a wrong password exits 3 and the
    same response can be verified again.
    Example: kaga-vc verify credential.json --json
    Example: kaga-vc verify response.txt --request request.jwt --bundle trust-bundle.jwt --json
    Example: kaga-vc verify credential.json --status-lists published/status/ --json
    Example: kaga-vc verify kyc.sd-jwt --bundle trust-bundle.jwt --type KycCredential
    Example: kaga-vc verify presentation.jwt --format vp+jwt --challenge NONCE --json
    Example: kaga-vc verify clinic-credential.json --did-web --json
    """
    at = _parse_now(now)
    accepted = _accepted_formats(formats)
    if required_type is not None and (bundle is None or request is not None):
        raise typer.BadParameter("applies to one credential checked with --bundle alone (a request names its types)",
                                 param_hint="--type")
    text = read_input(file)
    if bundle is not None and request is None:  # a shop checking one credential offline, with the bundle alone
        result = _verify_with_bundle(text, bundle, city, at, timedelta(seconds=max_clock_skew), trust_any_city,
                                     accepted, required_type)
        _render(result, as_json)
        raise typer.Exit(int(exit_code(result)))
    if request is not None or bundle is not None:
        if accepted is not None:
            raise typer.BadParameter("--format applies to a credential or presentation file, not to --request")
        from contextlib import nullcontext

        from .log import verification_recorder

        # the key is unlocked and the log opened first: a wrong password consumes no nonce (issue 13)
        recorder = nullcontext(None) if no_log else verification_recorder(
            verifier_key=verifier_key, log=log, category=category, quiet=as_json, password_file=password_file)
        with recorder as on_complete:
            result = _verify_response(text, request, bundle, policy, city, at, timedelta(seconds=max_clock_skew),
                                      trust_any_city, on_complete)
        _render(result, as_json)
        raise typer.Exit(int(exit_code(result)))
    stripped = text.strip()
    data: object = text
    if stripped.startswith("{"):
        try:
            data = parse_json(text)
        except KagaError as error:
            result = VerificationResult(False, None, (Problem.from_error(error),), checked_at=at or datetime.now(UTC))
            _render(result, as_json)
            raise typer.Exit(int(exit_code(result))) from None
    skew = timedelta(seconds=max_clock_skew)
    source = None
    if status_lists is not None:
        from ..status import StatusListMemory, default_status_memory_path, load_status_lists

        # an older list than one this verifier already saw is refused (kaga:status-list-rollback)
        source = StatusListMemory(default_status_memory_path()).guard(load_status_lists(status_lists))
    # credential or presentation: from the detected format; a challenge or domain asked of a
    # credential goes to verify_presentation, which refuses it (never silently unchecked)
    presentation = _is_presentation(data) or challenge is not None or domain is not None
    # did:ethr issuers resolve online only when a chain is named (--rpc-url or $KAGA_VC_RPC_URL, --embedded-chain)
    # a credential's issuer is resolved as of the credential's issuance time (keys rotate)
    base = cli_resolver()
    if did_web:  # online: the DID document at the did:web URL, now (a did:web has no history)
        from ..did.web import WebMethod

        base = base.with_method(WebMethod(insecure_localhost=allow_private_address))
    with issuance_time_resolvers(base, rpc_url, registry, chain_id, embedded_chain) as chain:
        params = VerifyParameters(resolver=chain.current, now=at, max_clock_skew=skew, status_source=source,
                                  formats=accepted, credential_resolver=chain.at_issuance)
        if presentation:
            result = verify_presentation(data, params, challenge=challenge, domain=domain)  # type: ignore[arg-type]
        else:
            result = verify_credential(data, params, resolver=chain.at_issuance(data))  # type: ignore[arg-type]
            if chain.registry is not None and isinstance(data, (str, dict)):
                result = _anchor_checked(data, result, chain, anchor_proof, at, skew)
    _render(result, as_json)
    code = exit_code(result)
    if code == ExitCode.COULD_NOT_CHECK and not named_chain(rpc_url, embedded_chain) and str(result.issuer or "").startswith(
            "did:ethr:") and not as_json:
        err_console.print(Text("hint: a did:ethr issuer is resolved from a trust bundle (--bundle trust-bundle.jwt, "
                               "offline) or from a chain (--embedded-chain, or --rpc-url with --registry)"),
                          soft_wrap=True)
    elif code == ExitCode.COULD_NOT_CHECK and not did_web and str(result.issuer or "").startswith("did:web:") \
            and not as_json:
        err_console.print(Text("hint: a did:web issuer is resolved from a trust bundle that carries it (--bundle, "
                               "offline) or online with --did-web"), soft_wrap=True)
    raise typer.Exit(int(code))


def _accepted_formats(names: list[str] | None) -> frozenset[Format] | None:
    if not names:
        return None
    known = {f.value: f for f in Format}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise typer.BadParameter(f"unknown format {unknown[0]!r}; use one of {', '.join(known)}", param_hint="--format")
    return frozenset(known[name] for name in names)


def _is_presentation(data: object) -> bool:
    """Whether the input's detected format is a presentation (unreadable input: the credential path reports it)."""
    try:
        return detect(data).is_presentation  # type: ignore[arg-type]
    except KagaError:
        return False


def _verify_with_bundle(text: str, bundle_file: str, city: str | None, at: datetime | None,
                        skew: timedelta, trust_any_city: bool = False,
                        formats: frozenset[Format] | None = None, required_type: str | None = None
                        ) -> VerificationResult:
    """One credential against the city's bundle: its issuer's keys, status lists and trust, all offline.

    The credential is trusted only as the types the bundle trusts its issuer for (issue 11: a city
    trusted for residency that also writes KycCredential into a credential vouches for no KYC).
    """
    import dataclasses

    from ..errors import CREDENTIAL_TYPE_NOT_ACCEPTED, ISSUER_NOT_TRUSTED
    from ..verifier import (
        BundleMemory,
        check_bundle,
        credential_types,
        default_bundle_memory_path,
        read_bundle,
    )
    from .bundle import trusted_city

    pinned = trusted_city(city)
    trust = read_bundle(read_input(bundle_file), trusted_city=pinned)
    with BundleMemory(default_bundle_memory_path()) as memory:  # pinning, expiry, rollback: the verifier's check
        refused, _ = check_bundle(trust, trusted_cities=(pinned,) if pinned else (), trust_any_city=trust_any_city,
                                  memory=memory, now=at)
    if refused:
        return VerificationResult(False, None, tuple(refused), checked_at=at or datetime.now(UTC))
    data: object = parse_json(text) if text.strip().startswith("{") else text.strip()
    result = verify_credential(data, resolver=trust.resolver(), now=at, max_clock_skew=skew,  # type: ignore[arg-type]
                               status_source=trust, formats=formats)
    if not result.verified:
        return result
    issuer = trust.issuers.get(str(result.issuer))
    types = credential_types(result)
    if issuer is None:
        problem = Problem(ISSUER_NOT_TRUSTED, f"the issuer {result.issuer} is not in the trust bundle")
    elif not issuer.accepts(types):
        problem = Problem(CREDENTIAL_TYPE_NOT_ACCEPTED, f"the bundle does not accept {', '.join(types)} from "
                          f"{result.issuer}")
    else:
        trusted = [t for t in types if not issuer.types or t in issuer.types]
        details = {**result.details, "types": types, "trustedTypes": trusted}
        if required_type is None or required_type in trusted:
            return dataclasses.replace(result, checks=(*result.checks, "bundleTrust"), details=details)
        problem = Problem(CREDENTIAL_TYPE_NOT_ACCEPTED, f"the bundle does not trust {result.issuer} for "
                          f"{required_type} (trusted for: {', '.join(trusted)})")
        return dataclasses.replace(result, verified=False, problems=(*result.problems, problem), details=details)
    return dataclasses.replace(result, verified=False, problems=(*result.problems, problem))


def _verify_response(text: str, request: str | None, bundle: str | None, policy_file: str | None, city: str | None,
                     at: datetime | None, skew: timedelta, trust_any_city: bool = False,
                     on_complete: Callable[[VerificationResult], object] | None = None) -> VerificationResult:
    """The offline verifier (kaga_vc.verifier): response + request + bundle, nonce store in $KAGA_VC_HOME."""
    from dataclasses import replace

    from ..verifier import NonceStore, Policy, default_nonce_path, verify_response
    from .bundle import trusted_city

    if request is None or bundle is None:
        raise typer.BadParameter("--request and --bundle go together")
    policy = Policy.load(policy_file) if policy_file else Policy()
    pinned = trusted_city(city)
    if pinned:
        policy = policy.pinned(pinned)
    if trust_any_city:
        from ._common import err_console

        err_console.print("[bold red]WARNING[/]: --trust-any-city: a bundle signed by ANY city is accepted")
        policy = replace(policy, trust_any_city=True)
    with NonceStore(default_nonce_path()) as store:
        return verify_response(text, request=read_input(request), bundle=read_input(bundle), policy=policy,
                               nonce_store=store, now=at, max_clock_skew=skew, on_complete=on_complete)


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(PARSING_ERROR, f"--now is not an ISO 8601 instant: {value!r}") from None
    if parsed.tzinfo is None:
        raise InputError(PARSING_ERROR, "--now needs a time zone offset")
    return parsed.astimezone(UTC)


def _render(result: VerificationResult, as_json: bool) -> None:
    if as_json:
        print_json(result.to_json())
        return
    from rich.table import Table

    status = "[bold green]verified[/]" if result.verified else (
        "[bold yellow]could not check[/]" if result.could_not_check else "[bold red]not verified[/]"
    )
    out_console.print(f"{status}  format={result.format or '?'}  issuer={result.issuer or '-'}  subject={result.subject or '-'}")
    if result.checks:
        out_console.print("checks: " + ", ".join(result.checks))
    trusted, named = result.details.get("trustedTypes"), result.details.get("types")
    if isinstance(trusted, list) and isinstance(named, list):  # --bundle: what the bundle vouches for
        untrusted = [t for t in named if t not in trusted]
        out_console.print("trusted as: " + (", ".join(trusted) or "-")
                          + (f"  (not trusted as: {', '.join(untrusted)})" if untrusted else ""))
    claims = result.details.get("claims") if result.format == "kaga-presentation-response" else None
    if claims:
        out_console.print("disclosed: " + ", ".join(f"{k}={v}" for k, v in claims.items()))
    if result.problems or result.warnings:
        table = Table("", "code", "detail")
        for problem in result.problems:
            table.add_row("problem", problem.code, problem.detail)
        for warning in result.warnings:
            table.add_row("warning", warning.code, warning.detail)
        out_console.print(table)
