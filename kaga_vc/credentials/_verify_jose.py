"""Verification of the JOSE formats behind the one verify entry point (``verify.py`` dispatches here).

``fmt`` is one of the format constants of :mod:`kaga_vc.credentials.verify`; a ``vc+jwt`` input whose
header says ``vp+jwt`` is verified as a presentation by :func:`verify_jose_presentation`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from ..did import Resolver
from ..proofs.jose import DEFAULT_LIMITS, DEFAULT_MAX_CLOCK_SKEW, JOSELimits
from ._result import VerificationResult
from .verify import JWT_VC11, SD_JWT, VC_JWT


def _text(data: str | bytes) -> str:
    return data.decode("utf-8") if isinstance(data, bytes) else data.strip()


def verify_jose_credential(
    text: str | bytes,
    fmt: str,
    *,
    resolver: Resolver,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    limits: JOSELimits = DEFAULT_LIMITS,
) -> VerificationResult:
    """Verify a ``vc+jwt``, VC 1.1 JWT or SD-JWT VC credential (key binding checked if present)."""
    token = _text(text)
    if fmt == VC_JWT:
        from ..proofs.jose.vc_jose import verify_vc_jwt

        return verify_vc_jwt(token, resolver=resolver, now=now, max_clock_skew=max_clock_skew, limits=limits)
    if fmt == JWT_VC11:
        from ..proofs.jose.jwt_vc11 import verify_jwt_vc11

        return verify_jwt_vc11(token, resolver=resolver, now=now, max_clock_skew=max_clock_skew, limits=limits)
    if fmt == SD_JWT:
        from ..proofs.jose.sd_jwt import verify_sd_jwt

        return verify_sd_jwt(token, resolver=resolver, now=now, max_clock_skew=max_clock_skew, limits=limits)
    raise ValueError(f"not a JOSE format: {fmt!r}")


def verify_jose_presentation(
    text: str | bytes,
    fmt: str,
    *,
    resolver: Resolver,
    audience: str | Sequence[str] | None = None,
    nonce: str | None = None,
    domain: str | Sequence[str] | None = None,
    challenge: str | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    limits: JOSELimits = DEFAULT_LIMITS,
    verify_embedded: Callable[[str], VerificationResult] | None = None,
) -> VerificationResult:
    """Verify a ``vp+jwt``, a VC 1.1 JWT presentation or an SD-JWT+KB presentation.

    ``domain``/``challenge`` (the Data Integrity names) are accepted as aliases of ``audience``/``nonce``.
    For SD-JWT, key binding is required: the KB-JWT must be present and carry ``audience`` and ``nonce``.
    """
    token = _text(text)
    audience = audience if audience is not None else domain
    nonce = nonce if nonce is not None else challenge
    if fmt == VC_JWT:
        from ..proofs.jose.vc_jose import verify_vp_jwt

        return verify_vp_jwt(
            token, resolver=resolver, audience=audience, nonce=nonce, now=now, max_clock_skew=max_clock_skew, limits=limits,
            verify_embedded=verify_embedded,
        )
    if fmt == JWT_VC11:
        from ..proofs.jose.jwt_vc11 import verify_jwt_vp11

        return verify_jwt_vp11(
            token, resolver=resolver, audience=audience, nonce=nonce, now=now, max_clock_skew=max_clock_skew, limits=limits,
            verify_embedded=verify_embedded,
        )
    if fmt == SD_JWT:
        from ..proofs.jose.sd_jwt import verify_sd_jwt

        return verify_sd_jwt(
            token,
            resolver=resolver,
            require_key_binding=True,
            audience=audience,
            nonce=nonce,
            now=now,
            max_clock_skew=max_clock_skew,
            limits=limits,
        )
    raise ValueError(f"not a JOSE format: {fmt!r}")


def verify_credential(
    text: str | bytes,
    *,
    format: str,
    resolver: Resolver,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    limits: JOSELimits = DEFAULT_LIMITS,
) -> VerificationResult:
    """The name ``verify.py`` dispatches to (``format`` as a keyword)."""
    return verify_jose_credential(text, format, resolver=resolver, now=now, max_clock_skew=max_clock_skew,
                                  limits=limits)


def verify_presentation(
    text: str | bytes,
    *,
    format: str,
    resolver: Resolver,
    challenge: str | None = None,
    domain: str | Sequence[str] | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    limits: JOSELimits = DEFAULT_LIMITS,
    verify_embedded: Callable[[str], VerificationResult] | None = None,
) -> VerificationResult:
    """The name ``verify.py`` dispatches to (``format`` as a keyword; ``challenge``/``domain``)."""
    return verify_jose_presentation(text, format, resolver=resolver, challenge=challenge, domain=domain, now=now,
                                    max_clock_skew=max_clock_skew, limits=limits, verify_embedded=verify_embedded)
