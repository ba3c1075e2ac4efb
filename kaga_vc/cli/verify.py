"""``kaga-vc verify``: verify a credential or presentation, offline.

The options and the help live here; what the command does is :func:`kaga_vc.cli._verify_run.run_verify`,
shared with the fast entry (``_verify_fast.py``) that runs the offline verify without typer.
"""

from __future__ import annotations

from pathlib import Path

import typer

from ..credentials import Format
from ._common import JsonOption, PasswordFileOption, error_boundary
from ._verify_run import UsageProblem, exit_code, run_verify
from .chain import ChainIdOption, EmbeddedChainOption, RegistryOption, VerifyRpcUrlOption

__all__ = ["exit_code", "verify"]


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
    try:
        code = run_verify(
            file=file, challenge=challenge, domain=domain, now=now, max_clock_skew=max_clock_skew, rpc_url=rpc_url,
            registry=registry, chain_id=chain_id, embedded_chain=embedded_chain, request=request, bundle=bundle,
            policy=policy, city=city, trust_any_city=trust_any_city, anchor_proof=anchor_proof,
            status_lists=status_lists, verifier_key=verifier_key, log=log, category=category, no_log=no_log,
            password_file=password_file, required_type=required_type, formats=formats, did_web=did_web,
            allow_private_address=allow_private_address, as_json=as_json)
    except UsageProblem as problem:
        raise typer.BadParameter(problem.message, param_hint=problem.param_hint) from None
    raise typer.Exit(int(code))
