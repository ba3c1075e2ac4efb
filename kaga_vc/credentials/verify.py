"""One verify entry point for every securing format (DESIGN.md "Standards").

The format is recognised from the input's shape, never from a claim inside it:

* a JSON object with a ``proof``                        → Data Integrity (``data-integrity``)
* a compact JWS whose header ``typ`` is ``vc+jwt``/``vp+jwt`` → VC-JOSE-COSE (``vc+jwt``)
* a compact JWS with a ``vc``/``vp`` claim               → VC 1.1 JWT (``jwt-vc11``)
* a string with ``~`` separators                         → SD-JWT VC (``dc+sd-jwt``)

Each format's verifier lives in its own module; this module only recognises and dispatches.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import PARSING_ERROR, InputError

DATA_INTEGRITY = "data-integrity"
VC_JWT = "vc+jwt"
JWT_VC11 = "jwt-vc11"
SD_JWT = "dc+sd-jwt"
FORMATS = (DATA_INTEGRITY, VC_JWT, JWT_VC11, SD_JWT)


def detect_format(data: str | bytes | dict[str, Any]) -> str:
    """Name the securing format of ``data`` (a parsed JSON object or the text received)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(PARSING_ERROR, "input is not UTF-8 text") from None
    if isinstance(data, dict):
        return DATA_INTEGRITY
    if not isinstance(data, str):
        raise InputError(PARSING_ERROR, "input must be JSON text, a JSON object or a JWT")
    text = data.strip()
    if text.startswith("{"):
        return DATA_INTEGRITY
    if "~" in text:
        return SD_JWT
    if text.count(".") == 2:
        from .._encoding import b64url_decode

        try:
            header = json.loads(b64url_decode(text.split(".", 1)[0]))
        except (InputError, ValueError):
            raise InputError(PARSING_ERROR, "JWT header is not base64url JSON") from None
        if isinstance(header, dict) and str(header.get("typ", "")).lower() in ("vc+jwt", "vp+jwt"):
            return VC_JWT
        return JWT_VC11
    raise InputError(PARSING_ERROR, "input is neither a JSON credential nor a JWT / SD-JWT")


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


def _detect(data: Any, now: datetime) -> tuple[str | None, VerificationResult | None]:
    try:
        return detect_format(data), None
    except KagaError as error:
        return None, VerificationResult(False, None, (Problem.from_error(error),), checked_at=now)


def verify_credential(
    credential: str | bytes | dict[str, Any],
    parameters: VerifyParameters | None = None,
    *,
    resolver: Resolver | None = None,
    credential_resolver: Callable[[Any], Resolver] | None = None,
    loader: DocumentLoader | None = None,
    suites: Mapping[str, Cryptosuite] | None = None,
    formats: frozenset[str] | None = None,
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
    fmt, failed = _detect(credential, now)
    if failed is not None or fmt is None:
        assert failed is not None
        return failed
    if fmt == DATA_INTEGRITY:
        from ._verify_di import verify_credential_di

        result: VerificationResult = verify_credential_di(
            credential, resolver=params.resolver, loader=params.loader, suites=params.suites, now=now,
            max_clock_skew=params.max_clock_skew,
        )
    else:
        from . import _verify_jose

        text = credential.decode("utf-8", "replace") if isinstance(credential, bytes) else credential
        result = _verify_jose.verify_credential(
            text, format=fmt, resolver=params.resolver, now=now, max_clock_skew=params.max_clock_skew,
            limits=params.jose_limits(),
        )
    return _with_status(result, params)


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
            document, dataclasses.replace(params, resolver=params.resolver_for(document), status_source=None))

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
    formats: frozenset[str] | None = None,
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
    now = params.instant()
    params = params.at(now)
    fmt, failed = _detect(presentation, now)
    if failed is not None or fmt is None:
        assert failed is not None
        return failed
    if fmt == DATA_INTEGRITY:
        from ._verify_di import verify_presentation_di

        def embedded(item: Any) -> VerificationResult:
            document = _unwrap_enveloped(item)
            return verify_credential_with(document, dataclasses.replace(params, resolver=params.resolver_for(document)))

        return verify_presentation_di(
            presentation, resolver=params.resolver, challenge=challenge, domain=domain, loader=params.loader,
            suites=params.suites, now=now, max_clock_skew=params.max_clock_skew, verify_embedded=embedded,
        )
    from . import _verify_jose

    text = presentation.decode("utf-8", "replace") if isinstance(presentation, bytes) else presentation

    def with_status(embedded: VerificationResult) -> VerificationResult:
        return _with_status(embedded, params)

    result: VerificationResult = _verify_jose.verify_presentation(
        text, format=fmt, resolver=params.resolver, challenge=challenge, domain=domain, now=now,
        max_clock_skew=params.max_clock_skew, limits=params.jose_limits(), check_embedded=with_status,
    )
    if fmt == SD_JWT:  # an SD-JWT presentation is the credential itself (plus key binding)
        return with_status(result)
    return result


def _unwrap_enveloped(item: Any) -> Any:
    """An ``EnvelopedVerifiableCredential``'s ``data:`` URL → the credential text it carries."""
    if isinstance(item, dict) and item.get("type") == "EnvelopedVerifiableCredential":
        value = item.get("id")
        if isinstance(value, str) and value.startswith("data:") and "," in value:
            return value.split(",", 1)[1]
    return item
