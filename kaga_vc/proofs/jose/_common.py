"""Pieces every JOSE format's verifier shares: parse-or-report, signature check, result assembly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...did import DID, Resolver
from ...errors import ISSUER_NOT_A_DID, RESOLVER_FAILED, KagaError
from ...results import VerificationResult
from ._claims import Problems
from ._did_keys import verify_jws_with_did
from ._jws import CompactJWS, JOSELimits, parse_compact

JSONObject = dict[str, Any]


def parse_or_report(token: Any, problems: Problems, limits: JOSELimits) -> CompactJWS | None:
    try:
        return parse_compact(token, limits=limits)
    except KagaError as exc:
        problems.add_error(exc)
        return None


def check_signature(
    jws: CompactJWS,
    problems: Problems,
    *,
    resolver: Resolver,
    signer_id: str | None,
    relationship: str,
    require_kid: bool,
) -> str | None:
    """Verify the JWS with the DID ``signer_id``; report problems; return the method id on success."""
    if not isinstance(signer_id, str):
        return None  # the caller already reported the missing issuer / holder
    try:
        DID.parse(signer_id)
    except KagaError:
        # Only DID issuers (holders) can be checked offline here: "could not check", not "wrong".
        problems.add(ISSUER_NOT_A_DID, f"{signer_id[:100]!r} is not a DID", could_not_check=True)
        return None
    try:
        method = verify_jws_with_did(
            jws, resolver=resolver, expected_did=signer_id, relationship=relationship, require_kid=require_kid
        )
    except KagaError as exc:
        problems.add_error(exc)
        return None
    except Exception as exc:  # noqa: BLE001 - a resolver plug-in failing in its own way: could not check
        problems.add(RESOLVER_FAILED, f"resolving {signer_id} failed: {type(exc).__name__}", could_not_check=True)
        return None
    problems.checks.append("signature")
    return method.id


def id_of(value: Any) -> str | None:
    """The id of an ``issuer``/``holder`` value (a string, or an object with ``id``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def single_subject_id(credential_subject: Any) -> str | None:
    if isinstance(credential_subject, dict):
        sid = credential_subject.get("id")
        return sid if isinstance(sid, str) else None
    if isinstance(credential_subject, list) and len(credential_subject) == 1:
        return single_subject_id(credential_subject[0])
    return None


def build_result(
    fmt: str,
    problems: Problems,
    *,
    now: datetime,
    issuer: str | None = None,
    subject: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    credential: JSONObject | None = None,
    details: JSONObject | None = None,
) -> VerificationResult:
    return VerificationResult(
        verified=not problems.items,
        format=fmt,
        problems=tuple(problems.items),
        warnings=tuple(problems.warnings),
        checks=tuple(problems.checks),
        checked_at=now,
        issuer=issuer,
        subject=subject,
        valid_from=valid_from,
        valid_until=valid_until,
        credential=credential,
        details=details or {},
    )

