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
from typing import Any

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
# Data Integrity is verified in ``_verify_di``. The JOSE family (``vc+jwt``, ``jwt-vc11``,
# ``dc+sd-jwt``) is verified in ``_verify_jose``, imported lazily; that module provides
#
#     verify_credential(data, *, format, resolver, now, max_clock_skew, **options) -> VerificationResult
#     verify_presentation(data, *, format, resolver, challenge, domain, now, max_clock_skew, **options)
#
# with ``data`` the text received. Until it exists, those formats get ``kaga:unsupported-format``.

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import ModuleType

from ..errors import UNSUPPORTED_FORMAT, KagaError, UnsupportedError
from ._result import Problem, VerificationResult

DEFAULT_MAX_CLOCK_SKEW = timedelta(minutes=5)


def _jose() -> ModuleType | None:
    import importlib

    try:
        return importlib.import_module(f"{__package__}._verify_jose")
    except ModuleNotFoundError as error:
        if error.name != f"{__package__}._verify_jose":
            raise  # the module exists but something it imports is missing: a real bug
        return None


def _unsupported(fmt: str, now: datetime) -> VerificationResult:
    error = UnsupportedError(UNSUPPORTED_FORMAT, f"verifying {fmt} is not supported by this installation", format=fmt)
    return VerificationResult(False, fmt, (Problem.from_error(error),), checked_at=now)


def _detect(data: Any, now: datetime) -> tuple[str | None, VerificationResult | None]:
    try:
        return detect_format(data), None
    except KagaError as error:
        return None, VerificationResult(False, None, (Problem.from_error(error),), checked_at=now)


def verify_credential(
    credential: str | bytes | dict[str, Any],
    *,
    resolver: Any,
    loader: Any = None,
    suites: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    status_source: Any = None,
    **options: Any,
) -> VerificationResult:
    """Verify a credential in any supported securing format; never raises for "invalid".

    ``credential`` is the text received (JSON, a JWT, an SD-JWT) or a parsed JSON object. The
    result lists every check done and every problem with its stable code (``result.codes``);
    ``result.could_not_check`` tells "a DID or context was unavailable" from "checked and wrong".
    ``resolver`` is a :class:`~kaga_vc.did.Resolver`; ``loader`` a pyld document loader (the
    offline one by default); ``suites`` the accepted Data Integrity suites by name (default: both).
    ``status_source`` (a :class:`kaga_vc.status.StatusListSource`) enables the Bitstring Status List
    check (``kaga:credential-revoked``, ``kaga:credential-suspended``, ``kaga:status-list-unavailable``,
    ``kaga:status-list-invalid``); without it a credential with a status entry gets the warning
    ``kaga:status-not-checked``.
    """
    now = now or datetime.now(UTC)
    fmt, failed = _detect(credential, now)
    if failed is not None or fmt is None:
        return failed or _unsupported("unknown", now)
    if fmt == DATA_INTEGRITY:
        from ._verify_di import verify_credential_di

        result: VerificationResult = verify_credential_di(
            credential, resolver=resolver, loader=loader, suites=suites, now=now, max_clock_skew=max_clock_skew
        )
    else:
        jose = _jose()
        if jose is None:
            return _unsupported(fmt, now)
        text = credential.decode("utf-8", "replace") if isinstance(credential, bytes) else credential
        result = jose.verify_credential(
            text, format=fmt, resolver=resolver, now=now, max_clock_skew=max_clock_skew, **options
        )
    return _with_status(result, status_source, lambda document: verify_credential(
        document, resolver=resolver, loader=loader, suites=suites, now=now, max_clock_skew=max_clock_skew, **options),
        (resolver, loader, suites, *(tuple(suites.values()) if suites else ()), max_clock_skew,
         repr(sorted(options.items()))))


_LIST_CACHE: Any = None


def _with_status(result: VerificationResult, source: Any, verify_list: Any,
                 settings: tuple[Any, ...] | None = None) -> VerificationResult:
    """Check the credential's status lists (or warn that they were not checked); see :mod:`kaga_vc.status`.

    Lists that verified are remembered by their exact bytes and these ``settings`` (a bounded cache):
    a list credential is verified once, not once per credential that points at it.
    """
    global _LIST_CACHE
    from ..status import VerifiedListCache, apply_status

    if settings is not None and _LIST_CACHE is None:
        _LIST_CACHE = VerifiedListCache()
    cache = _LIST_CACHE if settings is not None else None
    checked: VerificationResult = apply_status(result, source=source, verify_list=verify_list, cache=cache,
                                               cache_settings=settings or ())
    return checked


def verify_presentation(
    presentation: str | bytes | dict[str, Any],
    *,
    resolver: Any,
    challenge: str | None = None,
    domain: str | Sequence[str] | None = None,
    loader: Any = None,
    suites: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    **options: Any,
) -> VerificationResult:
    """Verify a presentation (its proof, ``challenge``, ``domain``, holder) and every credential in it.

    Pass the ``challenge`` (nonce) and ``domain`` the verifier asked for: a mismatch is
    ``INVALID_CHALLENGE_ERROR`` / ``INVALID_DOMAIN_ERROR``; without a challenge the result carries
    the warning ``kaga:challenge-not-checked``. Embedded credentials are verified with
    :func:`verify_credential` (any format), their problems listed with ``context["credential"]``.
    """
    now = now or datetime.now(UTC)
    fmt, failed = _detect(presentation, now)
    if failed is not None or fmt is None:
        return failed or _unsupported("unknown", now)
    if fmt == DATA_INTEGRITY:
        from ._verify_di import verify_presentation_di

        def embedded(item: Any) -> VerificationResult:
            return verify_credential(
                _unwrap_enveloped(item), resolver=resolver, loader=loader, suites=suites, now=now,
                max_clock_skew=max_clock_skew, **options,
            )

        return verify_presentation_di(
            presentation, resolver=resolver, challenge=challenge, domain=domain, loader=loader, suites=suites,
            now=now, max_clock_skew=max_clock_skew, verify_embedded=embedded,
        )
    jose = _jose()
    if jose is None:
        return _unsupported(fmt, now)
    text = presentation.decode("utf-8", "replace") if isinstance(presentation, bytes) else presentation
    status_source = options.pop("status_source", None)

    def verify_list(document: Any) -> VerificationResult:
        return verify_credential(document, resolver=resolver, loader=loader, suites=suites, now=now,
                                 max_clock_skew=max_clock_skew)

    def with_status(embedded: VerificationResult) -> VerificationResult:
        return _with_status(embedded, status_source, verify_list,
                            (resolver, loader, suites, *(tuple(suites.values()) if suites else ()), max_clock_skew))

    result: VerificationResult = jose.verify_presentation(
        text, format=fmt, resolver=resolver, challenge=challenge, domain=domain, now=now,
        max_clock_skew=max_clock_skew, check_embedded=with_status, **options,
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
