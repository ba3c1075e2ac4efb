"""The VC Data Model 1.1 JWT encoding (§6.3.1), as did-jwt-vc and Veramo exchange it.

A credential travels as ``{"vc": {...}, "iss", "sub", "nbf", "exp", "jti"}``: the JWT claims replace
``issuer``, ``credentialSubject.id``, ``issuanceDate``, ``expirationDate`` and ``id``, which are removed
from ``vc``. A presentation is ``{"vp": {...}, "iss" (holder), "aud", "nonce", "nbf", "jti"}`` whose
``vp.verifiableCredential`` holds the credential JWTs. Signatures: ``ES256K`` (``r || s``) and did-jwt's
``ES256K-R`` (``r || s || recid``), both checked against a did:ethr ``EcdsaSecp256k1RecoveryMethod2020``
by key recovery, and ``EdDSA``. ``kid`` is optional here (did-jwt omits it by default): without it every
method of the relationship that suits ``alg`` is tried.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ...did import Resolver
from ...errors import (
    HOLDER_MISMATCH,
    INVALID_TYP,
    ISSUER_MISMATCH,
    MALFORMED_VALUE_ERROR,
    SUBJECT_MISMATCH,
    InputError,
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
FORMAT = "jwt-vc11"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def _seconds(value: Any, name: str) -> int:
    problems = Problems()
    parsed = parse_datetime(value, name, problems)
    if parsed is None:
        raise InputError(MALFORMED_VALUE_ERROR, f"{name} is not a dateTime with a time zone")
    return int(parsed.timestamp())


def _iso(seconds: Any) -> str | None:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return None
    try:  # a claim past year 9999 (or NaN) is reported by numeric_date; it has no dateTime here
        moment = datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    if moment.year < 1000:  # strftime's %Y does not pad these (glibc): keep its spelling
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    # strftime("%Y-%m-%dT%H:%M:%SZ") spelled out: a third of its cost, on every VC 1.1 verify
    return (f"{moment.year}-{moment.month:02d}-{moment.day:02d}T"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z")


def credential_to_jwt_payload(credential: JSONObject) -> JSONObject:
    """VC 1.1 §6.3.1 transformation of a credential into JWT claims (what did-jwt-vc does)."""
    if not isinstance(credential, dict):
        raise InputError(MALFORMED_VALUE_ERROR, "a credential must be a JSON object")
    vc = copy.deepcopy(credential)
    vc.pop("proof", None)
    payload: JSONObject = {}
    issuer = vc.pop("issuer", None)
    iss = id_of(issuer)
    if iss is None:
        raise InputError(MALFORMED_VALUE_ERROR, "the credential has no issuer id")
    payload["iss"] = iss
    if isinstance(issuer, dict) and len(issuer) > 1:
        vc["issuer"] = {k: v for k, v in issuer.items() if k != "id"}
    subject = vc.get("credentialSubject")
    if isinstance(subject, dict) and isinstance(subject.get("id"), str):
        payload["sub"] = subject["id"]
        vc["credentialSubject"] = {k: v for k, v in subject.items() if k != "id"}
    for name in ("issuanceDate", "validFrom"):
        if name in vc:
            payload["nbf"] = _seconds(vc.pop(name), name)
    for name in ("expirationDate", "validUntil"):
        if name in vc:
            payload["exp"] = _seconds(vc.pop(name), name)
    if isinstance(vc.get("id"), str):
        payload["jti"] = vc.pop("id")
    payload["vc"] = vc
    return payload


def sign_jwt_vc11(credential: JSONObject, signer: Signer, *, recoverable: bool = False, include_kid: bool = True) -> str:
    """Sign a credential in the VC 1.1 JWT encoding (``ES256K-R`` if ``recoverable``)."""
    payload = credential_to_jwt_payload(credential)
    if did_of(signer.key_id) != payload["iss"]:
        raise InputError(MALFORMED_VALUE_ERROR, "the signer's key_id is not a method of the credential's issuer")
    header: JSONObject = {"alg": alg_for_key_type(signer.key_type, recoverable=recoverable), "typ": "JWT"}
    if include_kid:
        header["kid"] = signer.key_id
    return sign_compact(header, payload, signer)


def sign_jwt_vp11(
    presentation: JSONObject,
    signer: Signer,
    *,
    audience: str | list[str] | None = None,
    nonce: str | None = None,
    now: datetime | None = None,
    expires_in: timedelta | None = None,
    recoverable: bool = False,
) -> str:
    """Sign a presentation in the VC 1.1 JWT encoding; ``verifiableCredential`` holds credential JWTs."""
    if not isinstance(presentation, dict):
        raise InputError(MALFORMED_VALUE_ERROR, "a presentation must be a JSON object")
    vp = copy.deepcopy(presentation)
    vp.pop("proof", None)
    holder = id_of(vp.pop("holder", None))
    if holder is None:
        raise InputError(MALFORMED_VALUE_ERROR, "the presentation has no holder")
    if did_of(signer.key_id) != holder:
        raise InputError(MALFORMED_VALUE_ERROR, "the signer's key_id is not a method of the holder")
    issued = utc_now(now)
    payload: JSONObject = {"vp": vp, "iss": holder, "nbf": int(issued.timestamp())}
    if isinstance(vp.get("id"), str):
        payload["jti"] = vp.pop("id")
    if expires_in is not None:
        payload["exp"] = int((issued + expires_in).timestamp())
    if audience is not None:
        payload["aud"] = audience
    if nonce is not None:
        payload["nonce"] = nonce
    header = {"alg": alg_for_key_type(signer.key_type, recoverable=recoverable), "typ": "JWT", "kid": signer.key_id}
    return sign_compact(header, payload, signer)


def _check_typ(header: JSONObject, problems: Problems) -> None:
    typ = header.get("typ")
    if typ is not None and str(typ).upper() != "JWT":
        problems.add(INVALID_TYP, "header typ of a VC 1.1 JWT must be 'JWT' or absent", typ=typ)


def _check_contexts(obj: JSONObject, problems: Problems) -> None:
    contexts = obj.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] not in (VC_V1_CONTEXT, VC_V2_CONTEXT):
        problems.add(MALFORMED_VALUE_ERROR, f"@context must start with {VC_V1_CONTEXT}")


def verify_jwt_vc11(
    token: str,
    *,
    resolver: Resolver,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    limits: JOSELimits = DEFAULT_LIMITS,
) -> VerificationResult:
    """Verify a VC 1.1 JWT credential; the result's ``credential`` is the normalised JSON-LD form."""
    now = utc_now(now)
    problems = Problems()
    jws = parse_or_report(token, problems, limits)
    if jws is None:
        return build_result(FORMAT, problems, now=now)
    header, payload = jws.header, jws.payload
    _check_typ(header, problems)
    vc = payload.get("vc")
    if not isinstance(vc, dict):
        problems.add(MALFORMED_VALUE_ERROR, "the JWT has no 'vc' object")
        return build_result(FORMAT, problems, now=now, details={"header": header})
    _check_contexts(vc, problems)
    types = vc.get("type")
    if "VerifiableCredential" not in (types if isinstance(types, list) else [types]):
        problems.add(MALFORMED_VALUE_ERROR, "vc.type must include VerifiableCredential")
    subject_obj = vc.get("credentialSubject")
    if not isinstance(subject_obj, (dict, list)):
        problems.add(MALFORMED_VALUE_ERROR, "vc.credentialSubject must be an object")
    iss = payload.get("iss")
    if not isinstance(iss, str):
        problems.add(MALFORMED_VALUE_ERROR, "the JWT has no 'iss'")
        iss = None
    vc_issuer = id_of(vc.get("issuer"))
    if vc_issuer is not None and vc_issuer != iss:
        problems.add(ISSUER_MISMATCH, "JWT iss differs from vc.issuer", issuer=vc_issuer)
    sub = payload.get("sub")
    vc_subject = single_subject_id(subject_obj)
    if sub is not None and vc_subject is not None and sub != vc_subject:
        problems.add(SUBJECT_MISMATCH, "JWT sub differs from vc.credentialSubject.id", subject=vc_subject)
    if "jti" in payload and "id" in vc and payload["jti"] != vc["id"]:
        problems.add(MALFORMED_VALUE_ERROR, "JWT jti differs from vc.id")
    method_id = check_signature(
        jws, problems, resolver=resolver, signer_id=iss, relationship="assertionMethod", require_kid=False
    )
    nbf = numeric_date(payload, "nbf", problems)
    if nbf is None:
        nbf = parse_datetime(vc.get("issuanceDate"), "issuanceDate", problems)
    exp = numeric_date(payload, "exp", problems)
    if exp is None:
        exp = parse_datetime(vc.get("expirationDate"), "expirationDate", problems)
    check_window(
        problems, now=now, skew=max_clock_skew, not_before=nbf, expires=exp, issued_at=numeric_date(payload, "iat", problems)
    )
    problems.checks.append("validity-period")
    credential = normalise_credential(payload, token)
    return build_result(
        FORMAT,
        problems,
        now=now,
        issuer=iss,
        subject=sub if isinstance(sub, str) else vc_subject,
        valid_from=nbf,
        valid_until=exp,
        credential=credential,
        details={"header": header, "verificationMethod": method_id},
    )


def normalise_credential(payload: JSONObject, token: str) -> JSONObject:
    """The JSON-LD credential a VC 1.1 JWT stands for (did-jwt-vc's ``normalizeCredential``)."""
    # a shallow copy: only top-level members are replaced below, and the payload is this verify's own
    vc = dict(payload.get("vc") or {})
    if isinstance(payload.get("iss"), str):
        issuer = vc.get("issuer")
        vc["issuer"] = {**issuer, "id": payload["iss"]} if isinstance(issuer, dict) else payload["iss"]
    if isinstance(payload.get("sub"), str) and isinstance(vc.get("credentialSubject"), dict):
        vc["credentialSubject"] = {"id": payload["sub"], **vc["credentialSubject"]}
    if isinstance(payload.get("jti"), str):
        vc.setdefault("id", payload["jti"])
    for claim, name in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        if name not in vc and (iso := _iso(payload.get(claim))):
            vc[name] = iso
    vc["proof"] = {"type": "JwtProof2020", "jwt": token}
    return vc


def verify_jwt_vp11(
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
    """Verify a VC 1.1 JWT presentation and the credential JWTs inside it (with ``verify_embedded`` if given)."""
    now = utc_now(now)
    problems = Problems()
    jws = parse_or_report(token, problems, limits)
    if jws is None:
        return build_result(FORMAT, problems, now=now)
    header, payload = jws.header, jws.payload
    _check_typ(header, problems)
    vp = payload.get("vp")
    if not isinstance(vp, dict):
        problems.add(MALFORMED_VALUE_ERROR, "the JWT has no 'vp' object")
        return build_result(FORMAT, problems, now=now, details={"header": header})
    _check_contexts(vp, problems)
    types = vp.get("type")
    if "VerifiablePresentation" not in (types if isinstance(types, list) else [types]):
        problems.add(MALFORMED_VALUE_ERROR, "vp.type must include VerifiablePresentation")
    iss = payload.get("iss") if isinstance(payload.get("iss"), str) else None
    if iss is None:
        problems.add(MALFORMED_VALUE_ERROR, "the JWT has no 'iss' (holder)")
    vp_holder = id_of(vp.get("holder"))
    if vp_holder is not None and vp_holder != iss:
        problems.add(HOLDER_MISMATCH, "JWT iss differs from vp.holder")
    method_id = check_signature(
        jws, problems, resolver=resolver, signer_id=iss, relationship="authentication", require_kid=False
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
    inner = []
    entries = vp.get("verifiableCredential", [])
    for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        if not isinstance(entry, str):
            problems.add(MALFORMED_VALUE_ERROR, "credential in a JWT presentation is not a JWT", credential=index)
            continue
        if verify_embedded is not None:  # the one verify pipeline: format, status, the caller's settings
            result = verify_embedded(entry)
        else:
            result = verify_jwt_vc11(entry, resolver=resolver, now=now, max_clock_skew=max_clock_skew, limits=limits)
        problems.extend(result.problems, credential=index)
        problems.warnings.extend(Problem(w.code, w.detail, w.type, {**w.context, "credential": index})
                                 for w in result.warnings)
        if iss is not None and result.subject is not None and result.subject != iss:
            problems.warn("kaga:holder-not-subject", "the holder is not the credential's subject", credential=index)
        inner.append(result.to_json())
    return build_result(
        FORMAT,
        problems,
        now=now,
        issuer=iss,
        credential=payload,
        details={"header": header, "verificationMethod": method_id, "credentials": inner},
    )
