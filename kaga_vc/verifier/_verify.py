"""Verify a presentation response against the request it answers, offline, with a trust bundle.

Order of the checks (every problem is reported, none stops the others):

1. the request: the verifier's own signature, not expired (``kaga:request-expired``);
2. the bundle: freshness against the policy (``kaga:bundle-stale``, warning or refusal);
3. each presentation, by the library's one pipeline
   (:func:`~kaga_vc.credentials.verify_presentation_checked`, called once): its proof by the holder,
   ``challenge``/``nonce`` = the request's nonce, ``domain``/``aud`` = the verifier's DID (SD-JWT: the
   KB-JWT, signed by the ``cnf`` key), and each credential in it, verified there exactly once with the
   issuer's DID document as it was at issuance (``versionTime``, from the bundle's history):
   signature, validity, status (from the bundle's lists, applied once);
4. policy, on the credentials that verified only (a presentation that did not verify is refused
   with the pipeline's codes alone, the same in every format): the issuer trusted for that type
   (``kaga:issuer-not-trusted``, ``kaga:credential-type-not-accepted``), the holder is the subject
   (``kaga:holder-not-subject``), the type's schema, one subject (``kaga:multiple-subjects``);
5. every requested claim disclosed (``kaga:claim-not-disclosed``);
6. the nonce, consumed in the durable store once the presentation is bound to it
   (``kaga:nonce-replayed`` on any later use, also after a restart). It is committed only after
   ``on_complete`` (the caller's access-log record) returned: a failure before that, or in it, leaves
   the nonce usable, so a retry is not refused as a replay. ``details["nonceDigest"]`` (SHA-256 of the
   nonce) tells the record which nonce this verification consumes: the access log stores it under a
   unique key in the entry's own transaction, so a crash between the log's commit and the nonce
   store's cannot make a retry count twice — the log refuses it (``kaga:nonce-replayed``) and the
   nonce store is then committed too.

This module imports no Ethereum code and opens no socket.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..credentials import (
    DATA_INTEGRITY,
    JWT_VC11,
    SD_JWT,
    Problem,
    VerificationResult,
    VerifyParameters,
    verify_presentation_checked,
)
from ..did import Resolver
from ..errors import (
    CHALLENGE_NOT_CHECKED,
    CLAIM_NOT_DISCLOSED,
    CREDENTIAL_TYPE_NOT_ACCEPTED,
    HOLDER_NOT_SUBJECT,
    ISSUER_NOT_TRUSTED,
    MULTIPLE_SUBJECTS,
    NONCE_REPLAYED,
    PURPOSE_NOT_ACCEPTED,
    RESPONSE_INVALID,
    KagaError,
)
from ..proofs.jose import id_of
from ..results import is_could_not_check
from .bundle import BundleMemory, TrustBundle, check_bundle, read_bundle
from .nonces import NonceReservation, NonceStore
from .policy import Policy
from .request import ANY_TYPE, PresentationRequest, parse_request, read_request
from .response import PresentationResponse, decode_response

JSONObject = dict[str, Any]
RESPONSE_FORMAT = "kaga-presentation-response"
ENVELOPE_PREFIX = "data:application/vc+jwt,"
#: JWT / SD-JWT claims that are about the token, not about the subject
_RESERVED = {"iss", "sub", "iat", "nbf", "exp", "jti", "cnf", "vct", "status", "_sd_alg", "aud", "nonce", "vc",
             "credentialStatus", "evidence", "credentialSchema"}


@dataclass(slots=True)
class _Collector:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    def add(self, code: str, detail: str, **context: Any) -> None:
        self.problems.append(Problem(code, detail, None, context))

    def warn(self, code: str, detail: str, **context: Any) -> None:
        self.warnings.append(Problem(code, detail, None, context))

    def error(self, error: KagaError, *, could_not_check: bool = False, **context: Any) -> None:
        problem = Problem.from_error(error, could_not_check=could_not_check)
        self.problems.append(Problem(problem.code, problem.detail, problem.type, {**problem.context, **context},
                                     problem.could_not_check))


def _instant(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            return parsed.astimezone(UTC) if parsed.tzinfo else None
        except (ValueError, OverflowError):  # OverflowError: year 1 at +14:00, year 9999 at -14:00
            return None
    return None


def _jwt_payload(token: str) -> JSONObject:
    from ..proofs.jose import json_object

    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        return json_object(parts[1], "JWT payload")
    except KagaError:
        return {}


def issuance_of(item: Any) -> tuple[str | None, datetime | None]:
    """The issuer and the issuance instant a credential claims (unverified; pins ``versionTime``).

    Data Integrity: ``proof.created``, else ``validFrom`` / ``issuanceDate``; JWTs: ``iat``, else
    ``nbf``; SD-JWT: the issuer-signed JWT's ``iat`` / ``nbf``. Verification decides whether the
    key was valid then; a credential that claims no time is checked against the current document.
    """
    if isinstance(item, dict):
        proof: JSONObject = item["proof"] if isinstance(item.get("proof"), dict) else {}
        when = _instant(proof.get("created")) or _instant(item.get("validFrom")) or _instant(item.get("issuanceDate"))
        return id_of(item.get("issuer")), when
    if not isinstance(item, str):
        return None, None
    token = item.split("~", 1)[0] if "~" in item else item
    payload = _jwt_payload(token)
    issuer = payload.get("iss") if isinstance(payload.get("iss"), str) else id_of(payload.get("issuer"))
    when = _instant(payload.get("iat")) or _instant(payload.get("nbf")) or _instant(payload.get("validFrom"))
    return issuer, when


def credential_types(result: VerificationResult) -> list[str]:
    """The types of a verified credential (SD-JWT VC: the last segment of ``vct``)."""
    data = result.credential or {}
    if result.format == SD_JWT:
        vct = data.get("vct")
        if not isinstance(vct, str):
            return []
        return [vct.rstrip("/").replace("#", "/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]]
    if result.format == JWT_VC11 and isinstance(data.get("vc"), dict):
        data = data["vc"]
    kinds = data.get("type", [])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return [k for k in kinds if isinstance(k, str) and k != "VerifiableCredential"]


def disclosed_claims(result: VerificationResult) -> JSONObject:
    """The subject claims a verified credential shows (SD-JWT: exactly the disclosed ones)."""
    data = result.credential or {}
    if result.format == SD_JWT:
        return {k: v for k, v in data.items() if k not in _RESERVED}
    if result.format == JWT_VC11 and isinstance(data.get("vc"), dict):
        data = data["vc"]
    subject = data.get("credentialSubject", {})
    if isinstance(subject, list):
        subject = subject[0] if subject and isinstance(subject[0], dict) else {}
    return {k: v for k, v in subject.items() if k != "id"} if isinstance(subject, dict) else {}


def _load_request(request: PresentationRequest | str, bundle: TrustBundle | None, out: _Collector,
                  now: datetime, skew: timedelta) -> PresentationRequest | None:
    token = request.token if isinstance(request, PresentationRequest) else request
    try:
        parsed, _ = parse_request(token)
    except KagaError as error:
        out.error(error)
        return None
    resolver = bundle.resolver() if bundle is not None else None
    if resolver is not None:
        try:
            read_request(token, resolver=resolver, now=now, max_clock_skew=skew)
            out.checks.append("request")
        except KagaError as error:
            out.error(error, could_not_check=is_could_not_check(error.code))
    return parsed


def _load_bundle(bundle: TrustBundle | str, policy: Policy, out: _Collector, now: datetime,
                 memory: BundleMemory | None = None) -> TrustBundle | None:
    if isinstance(bundle, TrustBundle):
        loaded = bundle
    else:
        try:
            loaded = read_bundle(bundle, trusted_city=policy.trusted_cities or None)
        except KagaError as error:
            out.error(error)
            return None
    problems, warnings = check_bundle(loaded, trusted_cities=policy.trusted_cities,
                                      trust_any_city=policy.trust_any_city, grace=policy.bundle_grace,
                                      max_age=policy.max_bundle_age, stale_action=policy.stale_bundle,
                                      memory=memory, now=now)
    out.problems.extend(problems)
    out.warnings.extend(warnings)
    _check_contexts(loaded, out)
    out.checks.append("bundle")
    return loaded


def _check_contexts(bundle: TrustBundle, out: _Collector) -> None:
    """The JSON-LD contexts this installation bundles must be the ones the city's bundle names."""
    from ..contexts import bundled_contexts

    local = bundled_contexts()
    for url, digest in bundle.contexts.items():
        if url in local and local.digest(url) != digest:
            out.add("kaga:context-digest-mismatch", f"the bundled context {url} differs from the city's", url=url)


def verify_response(
    response: str | bytes | PresentationResponse,
    *,
    request: PresentationRequest | str,
    bundle: TrustBundle | str,
    policy: Policy | None = None,
    nonce_store: NonceStore | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = timedelta(minutes=5),
    audience: str | None = None,
    bundle_memory: BundleMemory | None = None,
    on_complete: Callable[[VerificationResult], object] | None = None,
) -> VerificationResult:
    """Verify a wallet's response against ``request``, offline, trusting what ``bundle`` says.

    ``audience``: what the presentations must be bound to (``domain`` / KB-JWT ``aud``); the
    request's verifier DID by default, the ``client_id`` when OpenID4VP carried the request.

    Returns a :class:`~kaga_vc.credentials.VerificationResult` (format ``kaga-presentation-response``)
    whose ``details`` hold ``claims`` (every disclosed claim, merged), ``credentials`` (per credential:
    format, issuer, types, subject, issuedAt, claims), ``request`` and ``bundle``. Never raises for
    "invalid". Without a ``nonce_store`` replay is not ruled out (warning ``kaga:challenge-not-checked``).
    The newest bundle seen is remembered in ``bundle_memory`` (default: beside the nonce store) and an
    older one refused (``kaga:bundle-rollback``); see :func:`~kaga_vc.verifier.bundle.check_bundle`.
    ``on_complete`` is called with the result (accepted or refused) before the nonce is committed; if it
    raises, the nonce is left unused and the exception propagates (record the access-log entry there) —
    except ``kaga:nonce-replayed`` (the log already holds an entry for this nonce, see the module
    docstring): then the nonce is committed and the result is a refusal with that code.
    """
    now = now or datetime.now(UTC)
    policy = policy or Policy()
    out = _Collector()
    if bundle_memory is None and nonce_store is not None:
        with BundleMemory.beside(nonce_store) as memory:
            loaded = _load_bundle(bundle, policy, out, now, memory)
    else:
        loaded = _load_bundle(bundle, policy, out, now, bundle_memory)
    req = _load_request(request, loaded, out, now, max_clock_skew)
    if req is None or loaded is None:
        return _result(False, out, now, None, {})
    if req.is_expired(now, max_clock_skew):
        out.add("kaga:request-expired", f"the request expired at {req.expires.isoformat()}",
                expires=req.expires.isoformat())
    purpose_rule = None
    if policy.purposes:
        purpose_rule = policy.purposes.get(req.purpose)
        if purpose_rule is None:
            out.add(PURPOSE_NOT_ACCEPTED, f"this verifier does not accept the purpose {req.purpose!r}")

    try:
        answer = response if isinstance(response, PresentationResponse) else decode_response(response)
    except KagaError as error:
        out.error(error)
        return _result(False, out, now, req, {})
    if answer.request_id is not None and answer.request_id != req.id:
        out.add(RESPONSE_INVALID, "the response answers another request", request=answer.request_id)

    bound = True
    proven: set[str] = set()  # holders whose presentation proof held (issue 12: index only those)
    holder_results: list[tuple[str | None, list[VerificationResult]]] = []
    credentials: list[JSONObject] = []
    failed = False  # a presentation or a credential in it did not verify: no policy, no claims
    params = bundle_parameters(loaded, now=now, max_clock_skew=max_clock_skew)
    for p_index, presentation in enumerate(answer.presentations):
        # the one pipeline: the holder's proof, nonce, audience, and each embedded credential (its
        # proof at its issuance time, validity, status from the bundle), each verified exactly once
        checked = verify_presentation_checked(presentation, params, challenge=req.nonce,
                                              domain=audience or req.verifier)
        presented = checked.result
        for problem in presented.problems:
            out.problems.append(Problem(problem.code, problem.detail, problem.type,
                                        {**problem.context, "presentation": p_index}, problem.could_not_check))
        out.warnings.extend(Problem(w.code, w.detail, w.type, {**w.context, "presentation": p_index})
                            for w in presented.warnings if w.code not in (HOLDER_NOT_SUBJECT, CHALLENGE_NOT_CHECKED))
        if not checked.proof_held:
            bound = False
        if presented.problems:
            failed = True
        fmt = presented.format
        holder = presented.subject if fmt == DATA_INTEGRITY else (presented.issuer if fmt != SD_JWT else None)
        if checked.proof_held and holder:  # the presentation's own proof held: the holder controls this key
            proven.add(holder)
        elif checked.proof_held and fmt == SD_JWT and presented.details.get("keyBinding") and presented.subject:
            proven.add(presented.subject)  # the KB-JWT proved the key the SD-JWT is bound to
        results = []
        for c_index, result in checked.credentials:
            results.append(result)
            credentials.append(_check_credential(result, holder, loaded, policy, purpose_rule, req, out,
                                                 p_index, c_index))
        holder_results.append((holder, results))
    out.checks.append("credentials")

    people = {c["subject"] for c in credentials if c["subject"]} | {h for h, _ in holder_results if h}
    if len(people) > 1:  # claims are never merged across people (an adult's age, a minor's residency)
        out.add(MULTIPLE_SUBJECTS, f"the response carries credentials of {len(people)} different subjects")
        for entry in credentials:
            entry["accepted"] = False
    claims: JSONObject = {}
    for entry in credentials:
        if entry["accepted"]:
            claims.update(entry["claims"])
    if not failed:  # a presentation that did not verify is refused for that reason alone, in every format
        _check_requested(req, credentials, out)

    details: dict[str, Any] = {
        "request": {"id": req.id, "verifier": req.verifier, "name": req.name, "purpose": req.purpose,
                    "location": req.location, "service": req.service},
        "claims": claims,
        "credentials": credentials,
        "bundle": {"city": loaded.city, "createdAt": loaded.created.isoformat(),
                   "ageSeconds": int(loaded.age(now).total_seconds()), "digest": loaded.digest},
    }
    # the response's one person; none when it names several (kaga:multiple-subjects): the refusal is
    # then recorded under nobody's index, never under the first person with the second's credentials
    holder = None if len(people) > 1 else (
        next((h for h, _ in holder_results if h), None) or next((c["subject"] for c in credentials), None))
    details["holderProven"] = holder is not None and holder in proven
    reservation: NonceReservation | None = None
    if nonce_store is None:
        out.warn("kaga:challenge-not-checked", "no nonce store: replay of this presentation is not ruled out")
    elif bound and answer.presentations:
        try:
            reservation = nonce_store.reserve(req.nonce, request_id=req.id, expires_at=req.expires + max_clock_skew,
                                              now=now)
            out.checks.append("nonce")
            details["nonceDigest"] = hashlib.sha256(req.nonce.encode("utf-8")).hexdigest()
        except KagaError as error:
            out.error(error)
    try:
        if out.problems:
            _withhold_claims(details)
        result = _result(not out.problems, out, now, req, details, subject=holder)
        if on_complete is not None:
            on_complete(result)
    except KagaError as error:
        if reservation is None or error.code != NONCE_REPLAYED:
            if reservation is not None:
                reservation.rollback()
            raise
        # the log already holds an entry that consumed this nonce (a crash came between its commit and
        # the nonce store's): the store catches up, and this retry is refused, recorded nowhere twice
        reservation.commit()
        out.error(error)
        return _result(False, out, now, req, details, subject=holder)
    except BaseException:
        if reservation is not None:
            reservation.rollback()
        raise
    if reservation is not None:
        reservation.commit()
    return result


def bundle_parameters(bundle: TrustBundle, *, now: datetime | None = None,
                      max_clock_skew: timedelta = timedelta(minutes=5), formats: Any = None) -> VerifyParameters:
    """The pipeline's parameters on the trust-bundle (offline) path: the bundle's resolver, each
    credential (and status list) resolved at its own issuance time (``versionTime``), status from the
    bundle's lists, and the city's rule for keys it no longer lists (a credential signed with one must
    be listed as anchored while it was valid, :mod:`kaga_vc.verifier.anchors`). A single credential is
    verified with ``resolver=params.resolver_for(credential)``."""
    from .anchors import retired_key_check

    def at_issuance(document: Any) -> Resolver:
        issuer, issued_at = issuance_of(document)
        return bundle.resolver({issuer: issued_at} if issuer and issued_at else None)

    return VerifyParameters(resolver=bundle.resolver(), credential_resolver=at_issuance, status_source=bundle,
                            now=now, max_clock_skew=max_clock_skew, formats=formats,
                            credential_check=retired_key_check(bundle))


def _check_credential(result: VerificationResult, holder: str | None, bundle: TrustBundle, policy: Policy,
                      purpose_rule: Any, req: PresentationRequest, out: _Collector, p_index: int,
                      c_index: int) -> JSONObject:
    """The policy on one credential the pipeline verified: trusted issuer for its types, holder, schema.

    A credential that did not verify is refused for that (its problems came with the presentation's)
    and no policy is applied to what it claims: policy acts on verified facts only.
    """
    where = {"presentation": p_index, "credential": c_index}
    before = len(out.problems)
    issuer = result.issuer
    types = credential_types(result)
    accepted: list[str] = []  # the types this issuer is trusted for here: the only ones a request can match
    if result.verified:
        trusted = bundle.issuers.get(issuer or "")
        if trusted is None:
            out.add(ISSUER_NOT_TRUSTED, f"the issuer {issuer} is not in the trust bundle", issuer=issuer, **where)
        else:
            accepted = [t for t in types if (not trusted.types or t in trusted.types)
                        and (not bundle.schemas or t in bundle.schemas)]
            if purpose_rule is not None and purpose_rule.types:
                accepted = [t for t in accepted if t in purpose_rule.types]
            if purpose_rule is not None and purpose_rule.issuers and issuer not in purpose_rule.issuers:
                out.add(ISSUER_NOT_TRUSTED, f"the issuer {issuer} is not accepted for {req.purpose!r}",
                        issuer=issuer, **where)
            if not accepted:
                out.add(CREDENTIAL_TYPE_NOT_ACCEPTED, f"credential type(s) {types} not accepted from {issuer}",
                        types=types, **where)
        # holder binding: SD-JWT is bound by its KB-JWT (cnf); other formats by the holder's proof
        if result.format != SD_JWT:
            if holder is None or result.subject != holder:
                out.add(HOLDER_NOT_SUBJECT, "the presentation was not made by the credential's subject",
                        holder=holder, subject=result.subject, **where)
        elif not result.details.get("keyBinding"):
            out.add(HOLDER_NOT_SUBJECT, "the SD-JWT is not bound to the holder's key", **where)
        for problem in check_schema(result, types, bundle):
            out.problems.append(Problem(problem.code, problem.detail, problem.type, {**problem.context, **where}))
    issued_at = _issued_at(result)
    return {
        "format": result.format,
        "issuer": issuer,
        "types": types,
        "acceptedTypes": accepted,
        "subject": result.subject,
        "issuedAt": issued_at.isoformat() if issued_at else None,
        "claims": disclosed_claims(result),
        "accepted": result.verified and len(out.problems) == before,
    }


def _issued_at(result: VerificationResult) -> datetime | None:
    """When a verified credential says it was issued (JWT ``iat`` / ``nbf``; else as :func:`issuance_of`)."""
    data = result.credential or {}
    return _instant(data.get("iat")) or _instant(data.get("nbf")) or issuance_of(data)[1]


def check_schema(result: VerificationResult, types: list[str], bundle: TrustBundle) -> list[Problem]:
    """Validate a credential against the JSON Schema the bundle gives for its type.

    Whole credentials are validated as they are; an SD-JWT shows only some claims, so each disclosed
    claim is validated against its property schema (``required`` does not apply to a selection).
    """
    schemas = [bundle.schemas[t] for t in types if bundle.schemas.get(t)]
    if not schemas or result.credential is None:
        return []
    from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

    problems = []
    for schema in schemas:
        if result.format == SD_JWT:
            subject = dict(schema.get("properties", {}).get("credentialSubject", {}))
            subject.pop("required", None)
            subject["$defs"] = schema.get("$defs", {})
            target: Any = disclosed_claims(result)
            schema = subject
        else:
            target = {k: v for k, v in result.credential.items() if k != "proof"}
        errors = sorted(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(target),
                        key=lambda e: list(e.path))
        if errors:
            problems.append(Problem("kaga:schema-invalid", f"schema check failed at {errors[0].json_path} "
                                    f"({errors[0].validator})", None, {"path": errors[0].json_path}))
    return problems


def _withhold_claims(details: JSONObject) -> None:
    """A refused response shows no claim value: ``claims`` is empty, and so is each credential's
    (``claimNames`` keeps what was presented, for the access log: names only, never values)."""
    details["claims"] = {}
    for entry in details["credentials"]:
        entry["claimNames"] = sorted(entry["claims"])
        entry["claims"] = {}


def _check_requested(req: PresentationRequest, credentials: list[JSONObject], out: _Collector) -> None:
    for query in req.credentials:
        for claim in query.claims:
            # matched against the types the issuer is trusted for, never the others a credential names
            if not any(c["accepted"] and claim in c["claims"]
                       and (query.type == ANY_TYPE or query.type in c["acceptedTypes"]) for c in credentials):
                out.add(CLAIM_NOT_DISCLOSED, f"the requested claim {claim!r} ({query.type}) was not disclosed",
                        claim=claim, type=query.type)
    out.checks.append("requestedClaims")


def _result(verified: bool, out: _Collector, now: datetime, req: PresentationRequest | None, details: JSONObject,
            subject: str | None = None) -> VerificationResult:
    return VerificationResult(
        verified=verified and not out.problems,
        format=RESPONSE_FORMAT,
        problems=tuple(out.problems),
        warnings=tuple(out.warnings),
        checks=tuple(out.checks),
        checked_at=now,
        subject=subject,
        details=details,
    )



__all__ = ["RESPONSE_FORMAT", "bundle_parameters", "credential_types", "disclosed_claims", "issuance_of", "verify_response"]
