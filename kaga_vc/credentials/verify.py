"""One verify pipeline for every securing format (DESIGN.md "Standards", issue 11).

The format is recognised from the envelope's structure and ``typ`` (:mod:`.formats`), checked
against the formats the caller accepts (``kaga:format-not-accepted``), and dispatched to its
verifier: Data Integrity in ``_verify_di``, the JOSE family in ``_verify_jose``. Embedded
credentials come back through this same pipeline, and status is applied here, once per credential.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import FORMAT_NOT_ACCEPTED, MALFORMED_VALUE_ERROR
from .formats import DATA_INTEGRITY, FORMATS, JWT_VC11, SD_JWT, VC_JWT, Format, detect, sniff


def detect_format(data: str | bytes | dict[str, Any]) -> str:
    """The securing family of ``data`` (``data-integrity``, ``vc+jwt``, ``jwt-vc11``, ``dc+sd-jwt``).

    :func:`~kaga_vc.credentials.formats.detect` gives the precise :class:`Format`.
    """
    return detect(data).family


# -- the entry points -----------------------------------------------------------------------------
#
# Data Integrity is verified in ``_verify_di``, the JOSE family (``vc+jwt``, ``jwt-vc11``,
# ``dc+sd-jwt``) in ``_verify_jose``. Both entry points take one frozen :class:`VerifyParameters`
# (or the keyword arguments that build one): an unknown keyword is a ``TypeError``, never ignored.

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from ..did import Resolver
from ..errors import KagaError
from ..proofs import Cryptosuite, DocumentLoader
from ..proofs.jose import JOSELimits
from ._result import Problem, VerificationResult
from .parameters import VerifyParameters, build_parameters

if TYPE_CHECKING:
    from ..status import StatusListSource


def _refused(code: str, detail: str, now: datetime, fmt: Format | None = None, **context: Any) -> VerificationResult:
    family = fmt.family if fmt is not None else None
    return VerificationResult(False, family, (Problem(code, detail, None, context),), checked_at=now)


def _detect(data: Any, params: VerifyParameters, now: datetime, *,
            presentation: bool) -> tuple[Format, Any] | VerificationResult:
    """The input's format and the input to verify, or the refusal (unreadable, not accepted, misrouted)."""
    try:
        fmt, value = sniff(data)
    except KagaError as error:
        return VerificationResult(False, None, (Problem.from_error(error),), checked_at=now)
    if params.formats is not None and fmt not in params.formats:
        return _refused(FORMAT_NOT_ACCEPTED, f"the format {fmt.value} is not accepted here", now, fmt,
                        format=fmt.value, accepted=sorted(params.formats))
    if fmt.family == DATA_INTEGRITY:  # its verifier reads the document first (a parse error comes first)
        return fmt, value
    if fmt.is_presentation and not presentation and fmt is not Format.SD_JWT_KB:
        return _refused(MALFORMED_VALUE_ERROR, "this is a presentation: use verify_presentation", now, fmt,
                        format=fmt.value)
    if presentation and not fmt.is_presentation and fmt is not Format.SD_JWT_VC:
        return _refused(MALFORMED_VALUE_ERROR, "this is a credential, not a presentation: use verify_credential",
                        now, fmt, format=fmt.value)
    return fmt, value


def verify_credential(
    credential: str | bytes | dict[str, Any],
    parameters: VerifyParameters | None = None,
    *,
    resolver: Resolver | None = None,
    credential_resolver: Callable[[Any], Resolver] | None = None,
    loader: DocumentLoader | None = None,
    suites: Mapping[str, Cryptosuite] | None = None,
    formats: frozenset[Format] | None = None,
    algorithms: frozenset[str] | None = None,
    status_source: StatusListSource | None = None,
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    max_clock_skew: timedelta | None = None,
    limits: JOSELimits | None = None,
) -> VerificationResult:
    """Verify a credential in any supported securing format; never raises for "invalid".

    ``credential`` is the text received (JSON, a JWT, an SD-JWT) or a parsed JSON object. What the
    verification may use is one :class:`VerifyParameters` (``parameters``); the keyword arguments
    build one or replace its fields (see that class for each). The result lists every check done and
    every problem with its stable code (``result.codes``); ``result.could_not_check`` tells "a DID or
    context was unavailable" from "checked and wrong". With ``status_source`` the Bitstring Status List
    is checked (``kaga:credential-revoked``, ``kaga:credential-suspended``,
    ``kaga:status-list-unavailable``, ``kaga:status-list-invalid``); without it a credential with a
    status entry gets the warning ``kaga:status-not-checked``.
    """
    params = build_parameters(
        parameters, resolver=resolver, credential_resolver=credential_resolver, loader=loader, suites=suites,
        formats=formats, algorithms=algorithms, status_source=status_source, now=now, clock=clock,
        max_clock_skew=max_clock_skew, limits=limits,
    )
    return verify_credential_with(credential, params)


def verify_credential_with(credential: Any, params: VerifyParameters) -> VerificationResult:
    """:func:`verify_credential` with its parameters built: the one recursion every format goes through."""
    now = params.instant()
    params = params.at(now)
    detected = _detect(credential, params, now, presentation=False)
    if isinstance(detected, VerificationResult):
        return detected
    fmt, credential = detected
    if fmt.family == DATA_INTEGRITY:
        from ._verify_di import verify_credential_di

        result: VerificationResult = verify_credential_di(
            credential, resolver=params.resolver, loader=params.loader, suites=params.suites, now=now,
            max_clock_skew=params.max_clock_skew,
        )
    else:
        from . import _verify_jose

        result = _verify_jose.verify_credential(
            credential, format=fmt.family, resolver=params.document_resolver(), now=now, max_clock_skew=params.max_clock_skew,
            limits=params.jose_limits(),
        )
    return _checked(credential, _with_status(result, params), params)


def _checked(document: Any, result: VerificationResult, params: VerifyParameters) -> VerificationResult:
    """The caller's last rule on a credential (``VerifyParameters.credential_check``), if it gave one."""
    if params.credential_check is None:
        return result
    return params.credential_check(document, result)


_LIST_CACHE: Any = None


def _with_status(result: VerificationResult, params: VerifyParameters) -> VerificationResult:
    """Check the credential's status lists (or warn that they were not checked); see :mod:`kaga_vc.status`.

    Each list credential is verified by this same pipeline (with its own resolver, no status of its
    own). Lists that verified are remembered by their exact bytes and the parameters they were
    verified under (a bounded cache): a list is verified once, not once per credential pointing at it.
    """
    global _LIST_CACHE
    from ..status import VerifiedListCache, apply_status

    if _LIST_CACHE is None:
        _LIST_CACHE = VerifiedListCache()

    def verify_list(document: Any) -> VerificationResult:
        return verify_credential_with(
            document, dataclasses.replace(params, resolver=params.resolver_for(document), status_source=None,
                                          credential_check=None))

    checked: VerificationResult = apply_status(result, source=params.status_source, verify_list=verify_list,
                                               cache=_LIST_CACHE, cache_settings=params.cache_key())
    return checked


def verify_presentation(
    presentation: str | bytes | dict[str, Any],
    parameters: VerifyParameters | None = None,
    *,
    challenge: str | None = None,
    domain: str | Sequence[str] | None = None,
    resolver: Resolver | None = None,
    credential_resolver: Callable[[Any], Resolver] | None = None,
    loader: DocumentLoader | None = None,
    suites: Mapping[str, Cryptosuite] | None = None,
    formats: frozenset[Format] | None = None,
    algorithms: frozenset[str] | None = None,
    status_source: StatusListSource | None = None,
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    max_clock_skew: timedelta | None = None,
    limits: JOSELimits | None = None,
) -> VerificationResult:
    """Verify a presentation (its proof, ``challenge``, ``domain``, holder) and every credential in it.

    Pass the ``challenge`` (nonce) and ``domain`` the verifier asked for: a mismatch is
    ``INVALID_CHALLENGE_ERROR`` / ``INVALID_DOMAIN_ERROR``; without a challenge the result carries
    the warning ``kaga:challenge-not-checked``. Embedded credentials are verified with
    :func:`verify_credential` (any format, the same parameters), their problems listed with
    ``context["credential"]``.
    """
    params = build_parameters(
        parameters, resolver=resolver, credential_resolver=credential_resolver, loader=loader, suites=suites,
        formats=formats, algorithms=algorithms, status_source=status_source, now=now, clock=clock,
        max_clock_skew=max_clock_skew, limits=limits,
    )
    return verify_presentation_with(presentation, params, challenge=challenge, domain=domain)


def verify_presentation_with(presentation: Any, params: VerifyParameters, *, challenge: str | None = None,
                             domain: str | Sequence[str] | None = None) -> VerificationResult:
    """:func:`verify_presentation` with its parameters built."""
    return verify_presentation_checked(presentation, params, challenge=challenge, domain=domain).result


@dataclasses.dataclass(frozen=True, slots=True)
class PresentationCheck:
    """A presentation's verdict and the result of each credential in it, as the one pipeline made them.

    ``credentials`` pairs each embedded credential's index in the presentation with its own result
    (proof, validity, status: each verified once, here); an entry the presentation's format may not
    carry has no result (its problem is in ``result``, with ``context["credential"]``). An SD-JWT+KB
    is its credential: ``((0, result),)``. Policy layers (the verifier) act on these results instead
    of verifying the credentials again. ``proof_held``: the presentation's own proof held — the
    holder's signature with the challenge and domain asked for (an SD-JWT+KB: the issuer-signed JWT
    and its KB-JWT), whatever the status or the other credentials say.
    """

    result: VerificationResult
    credentials: tuple[tuple[int, VerificationResult], ...] = ()
    proof_held: bool = False


def verify_presentation_checked(presentation: Any, params: VerifyParameters, *, challenge: str | None = None,
                                domain: str | Sequence[str] | None = None) -> PresentationCheck:
    """:func:`verify_presentation`, keeping each embedded credential's own result (:class:`PresentationCheck`)."""
    now = params.instant()
    params = params.at(now)
    detected = _detect(presentation, params, now, presentation=True)
    if isinstance(detected, VerificationResult):
        return PresentationCheck(detected)
    fmt, presentation = detected
    if fmt.family == DATA_INTEGRITY:
        from ._verify_di import verify_presentation_di

        verified: list[tuple[int, VerificationResult]] = []

        def embedded(item: Any) -> VerificationResult:
            document = _unwrap_enveloped(item)
            result = verify_credential_with(document, _embedded_parameters(params, document))
            verified.append((len(verified), result))  # the DI verifier hands over every entry, in order
            return result

        result = verify_presentation_di(
            presentation, resolver=params.resolver, challenge=challenge, domain=domain, loader=params.loader,
            suites=params.suites, now=now, max_clock_skew=params.max_clock_skew, verify_embedded=embedded,
        )
        return PresentationCheck(result, tuple(verified), _own_proof_held(result))
    from . import _verify_jose

    if fmt.family == SD_JWT:  # an SD-JWT presentation is the credential itself (plus key binding)
        own = dataclasses.replace(params, resolver=params.resolver_for(presentation))
        result = _verify_jose.verify_presentation(
            presentation, format=fmt.family, resolver=own.document_resolver(), challenge=challenge,
            domain=domain, now=now, max_clock_skew=params.max_clock_skew, limits=params.jose_limits(),
        )
        held = result.verified
        result = _checked(presentation, _with_status(result, params), params)
        return PresentationCheck(result, ((0, result),), held)
    # the credential family a JOSE presentation may carry: vp+jwt envelopes vc+jwt, a VC 1.1 JWT
    # presentation carries VC 1.1 JWTs (never a more lenient format than the envelope says)
    inner = {Format.VP_JWT: Format.VC_JWT, Format.VP11_JWT: Format.VC11_JWT}.get(fmt)
    tokens: list[tuple[str, VerificationResult]] = []

    def embedded_jose(token: str) -> VerificationResult:
        # the envelope decides the format of the credential, not of the status lists it points to
        only = _detect(token, _embedded_parameters(params, token, inner), now, presentation=False)
        result = only if isinstance(only, VerificationResult) else verify_credential_with(
            token, _embedded_parameters(params, token))
        tokens.append((token, result))
        return result

    result = _verify_jose.verify_presentation(
        presentation, format=fmt.family, resolver=params.document_resolver(), challenge=challenge, domain=domain,
        now=now,
        max_clock_skew=params.max_clock_skew, limits=params.jose_limits(), verify_embedded=embedded_jose,
    )
    return PresentationCheck(result, _indexed(result.credential, fmt, tokens), _own_proof_held(result))


def _own_proof_held(result: VerificationResult) -> bool:
    """No problem of the presentation itself (an embedded credential's carry ``context["credential"]``)."""
    return all("credential" in problem.context for problem in result.problems)


def _indexed(payload: Any, fmt: Format, tokens: list[tuple[str, VerificationResult]]
             ) -> tuple[tuple[int, VerificationResult], ...]:
    """Each embedded token's result with its index among the presentation's entries (the JOSE verifiers
    skip, and report, an entry that is not a credential JWT of their kind)."""
    body = payload.get("vp") if fmt is Format.VP11_JWT and isinstance(payload, dict) else payload
    entries = body.get("verifiableCredential", []) if isinstance(body, dict) else []
    entries = entries if isinstance(entries, list) else [entries]
    out: list[tuple[int, VerificationResult]] = []
    pending = iter(tokens)
    current = next(pending, None)
    for index, entry in enumerate(entries):
        if current is None:
            break
        ident = entry.get("id") if isinstance(entry, dict) else entry
        text = ident.split(",", 1)[1] if isinstance(entry, dict) and isinstance(ident, str) and "," in ident else ident
        if text == current[0]:
            out.append((index, current[1]))
            current = next(pending, None)
    return tuple(out)


def _embedded_parameters(params: VerifyParameters, document: Any, only: Format | None = None) -> VerifyParameters:
    """The parameters for one credential inside a presentation: its own resolver, and ``only`` its
    envelope's credential format (intersected with what the caller accepts)."""
    formats = params.formats
    if only is not None:
        formats = frozenset({only}) & (formats if formats is not None else frozenset(Format))
    return dataclasses.replace(params, resolver=params.resolver_for(document), formats=formats)


def _unwrap_enveloped(item: Any) -> Any:
    """An ``EnvelopedVerifiableCredential``'s ``data:`` URL → the credential text it carries."""
    if isinstance(item, dict) and item.get("type") == "EnvelopedVerifiableCredential":
        value = item.get("id")
        if isinstance(value, str) and value.startswith("data:") and "," in value:
            return value.split(",", 1)[1]
    return item


__all__ = [
    "DATA_INTEGRITY",
    "FORMATS",
    "JWT_VC11",
    "SD_JWT",
    "VC_JWT",
    "Format",
    "PresentationCheck",
    "VerifyParameters",
    "detect",
    "detect_format",
    "verify_credential",
    "verify_credential_with",
    "verify_presentation",
    "verify_presentation_checked",
    "verify_presentation_with",
]
