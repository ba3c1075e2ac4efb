"""VC-JOSE-COSE: VCDM 2.0 credentials and presentations secured as ``vc+jwt`` / ``vp+jwt``.

W3C "Securing Verifiable Credentials using JOSE and COSE" §3.1: the JWS payload *is* the credential (or
presentation); the protected header carries ``typ`` ``vc+jwt`` (``vp+jwt``), ``cty`` ``vc`` (``vp``), and a
``kid`` that is a DID URL of the issuer (holder). JWT claims that duplicate data model properties must
agree with them: ``iss`` with ``issuer``, ``sub`` with ``credentialSubject.id``. A presentation's
credentials are ``EnvelopedVerifiableCredential`` objects whose ``id`` is a ``data:application/vc+jwt,``
URL; replay protection uses the JWT claims ``aud`` and ``nonce``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ...did import Resolver
from ...errors import (
    HOLDER_MISMATCH,
    INVALID_TYP,
    ISSUER_MISMATCH,
    MALFORMED_VALUE_ERROR,
    PROOF_GENERATION_ERROR,
    SUBJECT_MISMATCH,
    InputError,
    ProofError,
)
from ...keys import Signer
from ...results import Problem, VerificationResult
from ._claims import (
    DEFAULT_MAX_CLOCK_SKEW,
    Problems,
    check_audience,
    check_nonce,
    check_window,
    numeric_date,
    parse_datetime,
    utc_now,
)
from ._common import build_result, check_signature, id_of, parse_or_report, single_subject_id
from ._did_keys import did_of
from ._jws import DEFAULT_LIMITS, JOSELimits, alg_for_key_type, sign_compact

JSONObject = dict[str, Any]
FORMAT = "vc+jwt"
VP_FORMAT = "vp+jwt"
VC_TYP, VP_TYP = "vc+jwt", "vp+jwt"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
ENVELOPE_PREFIX = "data:application/vc+jwt,"


def sign_vc_jwt(credential: JSONObject, signer: Signer) -> str:
    """Secure a VCDM 2.0 credential as ``application/vc+jwt`` with the issuer's ``signer``.

    The signer's ``key_id`` becomes the ``kid`` and must be a DID URL of the credential's issuer.
    Raises :class:`InputError` for a credential that is not an object or names another issuer.
    """
    _check_unsecured(credential, "VerifiableCredential")
    issuer = id_of(credential.get("issuer"))
    if issuer is None or did_of(signer.key_id) != issuer:
        raise InputError(MALFORMED_VALUE_ERROR, "the signer's key_id is not a method of the credential's issuer")
    header = {"alg": alg_for_key_type(signer.key_type), "kid": signer.key_id, "typ": VC_TYP, "cty": "vc"}
    return sign_compact(header, credential, signer)


def sign_vp_jwt(
    presentation: JSONObject, signer: Signer, *, audience: str | None = None, nonce: str | None = None
) -> str:
    """Secure a VCDM 2.0 presentation as ``application/vp+jwt``, bound to ``audience`` and ``nonce``."""
    _check_unsecured(presentation, "VerifiablePresentation")
    holder = id_of(presentation.get("holder"))
    if holder is None or did_of(signer.key_id) != holder:
        raise InputError(MALFORMED_VALUE_ERROR, "the signer's key_id is not a method of the presentation's holder")
    payload = dict(presentation)
    if audience is not None:
        payload["aud"] = audience
    if nonce is not None:
        payload["nonce"] = nonce
    header = {"alg": alg_for_key_type(signer.key_type), "kid": signer.key_id, "typ": VP_TYP, "cty": "vp"}
    return sign_compact(header, payload, signer)


def envelope(token: str) -> JSONObject:
    """Wrap a ``vc+jwt`` in an ``EnvelopedVerifiableCredential`` for a presentation."""
    return {"@context": VC_V2_CONTEXT, "id": ENVELOPE_PREFIX + token, "type": "EnvelopedVerifiableCredential"}


def _check_unsecured(document: JSONObject, kind: str) -> None:
    if not isinstance(document, dict):
        raise InputError(MALFORMED_VALUE_ERROR, f"a {kind} must be a JSON object")
    if "proof" in document:
        raise ProofError(PROOF_GENERATION_ERROR, f"the {kind} already carries a Data Integrity proof")
    types = document.get("type")
    if kind not in (types if isinstance(types, list) else [types]):
        raise InputError(MALFORMED_VALUE_ERROR, f"'type' must include {kind}")


def _check_model(payload: JSONObject, kind: str, problems: Problems) -> None:
    contexts = payload.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC_V2_CONTEXT:
        problems.add(MALFORMED_VALUE_ERROR, f"@context must start with {VC_V2_CONTEXT}")
    types = payload.get("type")
    if kind not in (types if isinstance(types, list) else [types]):
        problems.add(MALFORMED_VALUE_ERROR, f"'type' must include {kind}")


def verify_vc_jwt(
    token: str,
    *,
    resolver: Resolver,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    limits: JOSELimits = DEFAULT_LIMITS,
) -> VerificationResult:
    """Verify a ``vc+jwt``: header, issuer key (``assertionMethod``), claims, validity period."""
    now = utc_now(now)
    problems = Problems()
    jws = parse_or_report(token, problems, limits)
    if jws is None:
        return build_result(FORMAT, problems, now=now)
    header, payload = jws.header, jws.payload
    if header.get("typ") != VC_TYP:
        problems.add(INVALID_TYP, f"header typ must be {VC_TYP!r}", typ=header.get("typ"))
    if "cty" in header and header["cty"] != "vc":
        problems.add(INVALID_TYP, "header cty must be 'vc'", cty=header.get("cty"))
    _check_model(payload, "VerifiableCredential", problems)
    issuer = id_of(payload.get("issuer"))
    if issuer is None:
        problems.add(MALFORMED_VALUE_ERROR, "the credential has no issuer")
    if "iss" in payload and payload["iss"] != issuer:
        problems.add(ISSUER_MISMATCH, "JWT iss differs from the credential issuer", iss=str(payload["iss"]))
    subject = single_subject_id(payload.get("credentialSubject"))
    if "sub" in payload and payload["sub"] != subject:
        problems.add(SUBJECT_MISMATCH, "JWT sub differs from credentialSubject.id", sub=str(payload["sub"]))
    method_id = check_signature(
        jws, problems, resolver=resolver, signer_id=issuer, relationship="assertionMethod", require_kid=True
    )
    valid_from = parse_datetime(payload.get("validFrom"), "validFrom", problems)
    valid_until = parse_datetime(payload.get("validUntil"), "validUntil", problems)
    check_window(problems, now=now, skew=max_clock_skew, not_before=valid_from, expires=valid_until)
    check_window(
        problems,
        now=now,
        skew=max_clock_skew,
        not_before=numeric_date(payload, "nbf", problems),
        expires=numeric_date(payload, "exp", problems),
        issued_at=numeric_date(payload, "iat", problems),
    )
    problems.checks.append("validity-period")
    return build_result(
        FORMAT,
        problems,
        now=now,
        issuer=issuer,
        subject=subject,
        valid_from=valid_from,
        valid_until=valid_until,
        credential=payload,
        details={"header": header, "verificationMethod": method_id},
    )


def verify_vp_jwt(
    token: str,
    *,
    resolver: Resolver,
    audience: str | Sequence[str] | None = None,
    nonce: str | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    limits: JOSELimits = DEFAULT_LIMITS,
    verify_embedded: Callable[[str], VerificationResult] | None = None,
) -> VerificationResult:
    """Verify a ``vp+jwt`` and every enveloped ``vc+jwt`` in it; ``audience``/``nonce`` are required if given.

    ``verify_embedded`` verifies each enveloped credential (the verify pipeline passes itself, so each
    is verified once, with status); without it each is verified here as a ``vc+jwt``.
    """
    now = utc_now(now)
    problems = Problems()
    jws = parse_or_report(token, problems, limits)
    if jws is None:
        return build_result(VP_FORMAT, problems, now=now)
    header, payload = jws.header, jws.payload
    if header.get("typ") != VP_TYP:
        problems.add(INVALID_TYP, f"header typ must be {VP_TYP!r}", typ=header.get("typ"))
    _check_model(payload, "VerifiablePresentation", problems)
    holder = id_of(payload.get("holder"))
    if holder is None:
        problems.add(MALFORMED_VALUE_ERROR, "the presentation has no holder")
    if "iss" in payload and payload["iss"] != holder:
        problems.add(HOLDER_MISMATCH, "JWT iss differs from the presentation holder")
    method_id = check_signature(
        jws, problems, resolver=resolver, signer_id=holder, relationship="authentication", require_kid=True
    )
    check_audience(problems, payload.get("aud"), audience)
    check_nonce(problems, payload.get("nonce"), nonce)
    check_window(
        problems,
        now=now,
        skew=max_clock_skew,
        not_before=numeric_date(payload, "nbf", problems),
        expires=numeric_date(payload, "exp", problems),
        issued_at=numeric_date(payload, "iat", problems),
        what="presentation",
    )
    inner: list[JSONObject] = []
    entries = payload.get("verifiableCredential", [])
    for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if not (isinstance(ident, str) and ident.startswith(ENVELOPE_PREFIX)):
            problems.add(MALFORMED_VALUE_ERROR, "credential is not an enveloped vc+jwt", credential=index)
            continue
        token = ident[len(ENVELOPE_PREFIX) :]
        if verify_embedded is not None:  # the one verify pipeline: format, status, the caller's settings
            result = verify_embedded(token)
        else:
            result = verify_vc_jwt(token, resolver=resolver, now=now, max_clock_skew=max_clock_skew, limits=limits)
        problems.extend(result.problems, credential=index)
        problems.warnings.extend(Problem(w.code, w.detail, w.type, {**w.context, "credential": index})
                                 for w in result.warnings)
        if holder is not None and result.subject is not None and result.subject != holder:
            problems.warn("kaga:holder-not-subject", "the holder is not the credential's subject", credential=index)
        inner.append(result.to_json())
    return build_result(
        VP_FORMAT,
        problems,
        now=now,
        issuer=holder,
        credential=payload,
        details={"header": header, "verificationMethod": method_id, "credentials": inner},
    )
