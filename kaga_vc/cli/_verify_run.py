"""What ``kaga-vc verify`` does, free of typer: the typer command (``verify.py``) and the fast entry
(``_verify_fast.py``) both call :func:`run_verify`, so the two differ only in how options are parsed.
Rich is imported only to print a human report (``--json`` prints none).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
from ._output import ExitCode, err_console, note, out_console, print_json, read_input

_INPUT_CODES = {PARSING_ERROR, DOCUMENT_TOO_DEEP, DOCUMENT_TOO_LARGE, DUPLICATE_JSON_KEY,
                "kaga:response-invalid", "kaga:request-invalid", "kaga:bundle-invalid"}


class UsageProblem(Exception):
    """A usage error of ``kaga-vc verify`` (the typer command shows it as ``typer.BadParameter``)."""

    def __init__(self, message: str, param_hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param_hint = message, param_hint


def _anchor_checked(data: str | dict[str, object], result: VerificationResult, chain: Any,
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


def run_verify(*, file: str, challenge: str | None = None, domain: str | None = None, now: str | None = None,
               max_clock_skew: int = 300, rpc_url: str | None = None, registry: str | None = None,
               chain_id: int | None = None, embedded_chain: bool = False, request: str | None = None,
               bundle: str | None = None, policy: str | None = None, city: str | None = None,
               trust_any_city: bool = False, anchor_proof: Path | None = None, status_lists: str | None = None,
               verifier_key: Path | None = None, log: str | None = None, category: str | None = None,
               no_log: bool = False, password_file: Path | None = None, required_type: str | None = None,
               formats: list[str] | None = None, did_web: bool = False, allow_private_address: bool = False,
               as_json: bool = False) -> ExitCode:
    """What ``kaga-vc verify`` does, option by option (see its help); the exit code.

    Raises :class:`UsageProblem` for a usage error, before reading any input; a library error
    (``KagaError``) is left to the caller's error boundary.
    """
    at = _parse_now(now)
    # every usage error before anything is read (stdin) or unlocked: the fast entry then hands the
    # command line to the full CLI, which reports it, with nothing consumed (_verify_fast.py)
    accepted = _accepted_formats(formats)
    if required_type is not None and (bundle is None or request is not None):
        raise UsageProblem("applies to one credential checked with --bundle alone (a request names its types)",
                           param_hint="--type")
    if request is not None and accepted is not None:
        raise UsageProblem("--format applies to a credential or presentation file, not to --request")
    if request is not None and bundle is None:
        raise UsageProblem("--request and --bundle go together")
    text = read_input(file)
    if bundle is not None and request is None:  # a shop checking one credential offline, with the bundle alone
        result = _verify_with_bundle(text, bundle, city, at, timedelta(seconds=max_clock_skew), trust_any_city,
                                     accepted, required_type)
        _render(result, as_json)
        return exit_code(result)
    if request is not None or bundle is not None:
        from contextlib import nullcontext

        from ._verifier_home import verification_recorder

        # the key is unlocked and the log opened first: a wrong password consumes no nonce (issue 13)
        recorder = nullcontext(None) if no_log else verification_recorder(
            verifier_key=verifier_key, log=log, category=category, quiet=as_json, password_file=password_file)
        with recorder as on_complete:
            result = _verify_response(text, request, bundle, policy, city, at, timedelta(seconds=max_clock_skew),
                                      trust_any_city, on_complete)
        _render(result, as_json)
        return exit_code(result)
    stripped = text.strip()
    data: object = text
    if stripped.startswith("{"):
        try:
            data = parse_json(text)
        except KagaError as error:
            result = VerificationResult(False, None, (Problem.from_error(error),), checked_at=at or datetime.now(UTC))
            _render(result, as_json)
            return exit_code(result)
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
    from ._resolver import cli_resolver
    from .chain import issuance_time_resolvers, named_chain

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
        from rich.text import Text

        err_console.print(Text("hint: a did:ethr issuer is resolved from a trust bundle (--bundle trust-bundle.jwt, "
                               "offline) or from a chain (--embedded-chain, or --rpc-url with --registry)"),
                          soft_wrap=True)
    elif code == ExitCode.COULD_NOT_CHECK and not did_web and str(result.issuer or "").startswith("did:web:") \
            and not as_json:
        from rich.text import Text

        err_console.print(Text("hint: a did:web issuer is resolved from a trust bundle that carries it (--bundle, "
                               "offline) or online with --did-web"), soft_wrap=True)
    return code


def _accepted_formats(names: list[str] | None) -> frozenset[Format] | None:
    if not names:
        return None
    known = {f.value: f for f in Format}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageProblem(f"unknown format {unknown[0]!r}; use one of {', '.join(known)}", param_hint="--format")
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
        bundle_parameters,
        check_bundle,
        credential_types,
        default_bundle_memory_path,
        read_bundle,
    )
    from ._verifier_home import trusted_city

    pinned = trusted_city(city)
    trust = read_bundle(read_input(bundle_file), trusted_city=pinned)
    with BundleMemory(default_bundle_memory_path()) as memory:  # pinning, expiry, rollback: the verifier's check
        refused, _ = check_bundle(trust, trusted_cities=(pinned,) if pinned else (), trust_any_city=trust_any_city,
                                  memory=memory, now=at)
    if refused:
        return VerificationResult(False, None, tuple(refused), checked_at=at or datetime.now(UTC))
    data: object = parse_json(text) if text.strip().startswith("{") else text.strip()
    # at its issuance time, and a key the city no longer lists only for a credential anchored while it
    # was valid (the bundle lists those: kaga_vc.verifier.anchors)
    params = bundle_parameters(trust, now=at, max_clock_skew=skew, formats=formats)
    result = verify_credential(data, params, resolver=params.resolver_for(data))  # type: ignore[arg-type]
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
    from ._verifier_home import trusted_city

    if request is None or bundle is None:  # run_verify checked it before reading anything
        raise UsageProblem("--request and --bundle go together")
    policy = Policy.load(policy_file) if policy_file else Policy()
    pinned = trusted_city(city)
    if pinned:
        policy = policy.pinned(pinned)
    if trust_any_city:
        note("[bold red]WARNING[/]: --trust-any-city: a bundle signed by ANY city is accepted")
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
