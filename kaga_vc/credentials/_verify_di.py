"""Verify Data Integrity secured credentials and presentations (the ``data-integrity`` format).

Every problem found is reported, each with its stable code; errors from the proof layer become
:class:`Problem` s here and nowhere else. "Could not check" (a DID that could not be resolved) is
kept apart from "checked and wrong".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..did import Resolver
from ..errors import (
    CREDENTIAL_EXPIRED,
    CREDENTIAL_NOT_YET_VALID,
    HOLDER_MISMATCH,
    ISSUER_MISMATCH,
    MALFORMED_VALUE_ERROR,
    NOT_COMPACTED,
    InputError,
    KagaError,
)
from ..proofs import (
    Cryptosuite,
    DocumentLoader,
    ProofPurpose,
    default_document_loader,
    default_suites,
    verify_proof,
)
from ..proofs.data_integrity import ProofCheck
from ._json import check_structure, parse_json
from ._result import Problem, VerificationResult
from ._rules import CredentialView, PresentationView, is_presentation

JSONObject = dict[str, Any]
DATA_INTEGRITY = "data-integrity"

STATUS_NOT_CHECKED = "kaga:status-not-checked"
CHALLENGE_NOT_CHECKED = "kaga:challenge-not-checked"


def read_document(data: str | bytes | JSONObject) -> JSONObject:
    """Parse (text) or check (dict) a JSON-LD document under the size and depth limits."""
    if isinstance(data, dict):
        check_structure(data)
        return data
    parsed = parse_json(data)
    if not isinstance(parsed, dict):
        raise InputError("PARSING_ERROR", "a credential or presentation must be a JSON object")
    return parsed


def _failed(error: KagaError, fmt: str = DATA_INTEGRITY, now: datetime | None = None) -> VerificationResult:
    return VerificationResult(False, fmt, (Problem.from_error(error),), checked_at=now)


def _proof_problems(check: ProofCheck) -> list[Problem]:
    return [Problem.from_error(e) for e in check.errors] + [
        Problem.from_error(e, could_not_check=True) for e in check.could_not_check
    ]


def _not_compacted(check: ProofCheck, now: datetime | None = None) -> VerificationResult | None:
    """The refusal of a document not in compacted form (its other facts cannot be read soundly)."""
    for error in check.errors:
        if error.code == NOT_COMPACTED:
            return _failed(error, now=now)
    return None


def _proof_details(check: ProofCheck) -> JSONObject:
    details: JSONObject = {}
    if check.cryptosuite:
        details["cryptosuite"] = check.cryptosuite
    if check.proof and isinstance(check.proof.get("verificationMethod"), str):
        details["verificationMethod"] = check.proof["verificationMethod"]
    return details


def verify_credential_di(
    data: str | bytes | JSONObject,
    *,
    resolver: Resolver,
    loader: DocumentLoader | None = None,
    suites: Mapping[str, Cryptosuite] | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = timedelta(minutes=5),
) -> VerificationResult:
    """Verify a Data Integrity secured credential; see :func:`kaga_vc.verify_credential`."""
    now = now or datetime.now(UTC)
    loader = loader or default_document_loader()
    suites = default_suites() if suites is None else suites
    try:
        document = read_document(data)
        if is_presentation(document):
            raise InputError(MALFORMED_VALUE_ERROR, "this is a presentation: use verify_presentation")
    except KagaError as error:
        return _failed(error, now=now)

    # the proof first: it also checks the document is in compacted form (kaga:not-compacted), and
    # every fact below is read from the normalised document it returns, never from another spelling
    check = verify_proof(
        document,
        suites=suites,
        resolver=resolver,
        expected_purpose=ProofPurpose.ASSERTION_METHOD,
        loader=loader,
        now=now,
        max_clock_skew=max_clock_skew,
    )
    refused = _not_compacted(check, now)
    if refused is not None:
        return refused
    document = check.document or document
    try:
        credential = CredentialView(document)
    except KagaError as error:
        return _failed(error, now=now)

    problems: list[Problem] = []
    warnings: list[Problem] = []
    checks: list[str] = ["dataModel"]

    # validity period (VCDM 2.0 §4.9, with the caller's clock skew)
    try:
        not_before, not_after = credential.not_before, credential.not_after
    except KagaError as error:
        return _failed(error, now=now)
    if not_before is not None and now + max_clock_skew < not_before:
        problems.append(
            Problem(CREDENTIAL_NOT_YET_VALID, "the credential is not valid yet", None, {"valid_from": not_before, "now": now})
        )
    if not_after is not None and now - max_clock_skew > not_after:
        problems.append(Problem(CREDENTIAL_EXPIRED, "the credential has expired", None, {"valid_until": not_after, "now": now}))
    checks.append("validityPeriod")

    # the proof (verified above)
    problems.extend(_proof_problems(check))
    checks.extend(check.checks)

    # the issuer must be the controller of a key that signed (VCDM 2.0 §4.7, VC-DI §4.4); in a
    # proof set or chain the other proofs (witnesses, notaries) may be by anyone, but must hold
    if check.controller is not None:
        if credential.issuer_id not in check.controllers:
            problems.append(
                Problem(
                    ISSUER_MISMATCH,
                    "the proof was made by a key of another DID than the issuer",
                    None,
                    {"issuer": credential.issuer_id, "signer": check.controller},
                )
            )
        checks.append("issuer")

    if credential.credential_status is not None:
        warnings.append(Problem(STATUS_NOT_CHECKED, "credentialStatus is present; status was not checked here"))

    subjects = credential.subject_ids
    return VerificationResult(
        verified=not problems,
        format=DATA_INTEGRITY,
        problems=tuple(problems),
        warnings=tuple(warnings),
        checks=tuple(checks),
        checked_at=now,
        issuer=credential.issuer_id,
        subject=subjects[0] if subjects else None,
        valid_from=not_before,
        valid_until=not_after,
        credential=document,
        details={"version": credential.version, **_proof_details(check)},
    )


def verify_presentation_di(
    data: str | bytes | JSONObject,
    *,
    resolver: Resolver,
    challenge: str | None = None,
    domain: str | Sequence[str] | None = None,
    loader: DocumentLoader | None = None,
    suites: Mapping[str, Cryptosuite] | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = timedelta(minutes=5),
    verify_embedded: Callable[[Any], VerificationResult] | None = None,
) -> VerificationResult:
    """Verify a Data Integrity secured presentation and every credential in it."""
    now = now or datetime.now(UTC)
    loader = loader or default_document_loader()
    suites = default_suites() if suites is None else suites
    try:
        document = read_document(data)
        PresentationView(document)
    except KagaError as error:
        return _failed(error, now=now)

    problems: list[Problem] = []
    warnings: list[Problem] = []
    checks: list[str] = ["dataModel"]

    check = verify_proof(
        document,
        suites=suites,
        resolver=resolver,
        expected_purpose=ProofPurpose.AUTHENTICATION,
        loader=loader,
        challenge=challenge,
        domain=domain,
        now=now,
        max_clock_skew=max_clock_skew,
    )
    refused = _not_compacted(check, now)
    if refused is not None:
        return refused
    # the holder is read from the normalised document; each embedded credential is verified on its
    # own, over the JSON received (it has its own proof and passes the same compaction rule)
    received = PresentationView(document)
    try:
        presentation = PresentationView(check.document) if check.document is not None else received
    except KagaError as error:
        return _failed(error, now=now)
    problems.extend(_proof_problems(check))
    checks.extend(check.checks)
    if challenge is None:
        warnings.append(Problem(CHALLENGE_NOT_CHECKED, "no challenge was given: replay of this presentation is not ruled out"))

    holder = presentation.holder_id
    if holder is not None and check.controller is not None:
        if holder not in check.controllers:
            problems.append(
                Problem(HOLDER_MISMATCH, "the presentation was signed by another DID than its holder", None,
                        {"holder": holder, "signer": check.controller})
            )
        checks.append("holder")

    nested: list[JSONObject] = []
    if verify_embedded is not None:
        for index, item in enumerate(received.verifiable_credential):
            result = verify_embedded(item)
            nested.append(result.to_json())
            for problem in result.problems:
                problems.append(
                    Problem(problem.code, problem.detail, problem.type, {**problem.context, "credential": index},
                            problem.could_not_check)
                )
            warnings.extend(
                Problem(w.code, w.detail, w.type, {**w.context, "credential": index}) for w in result.warnings
            )
        checks.append("credentials")

    return VerificationResult(
        verified=not problems,
        format=DATA_INTEGRITY,
        problems=tuple(problems),
        warnings=tuple(warnings),
        checks=tuple(checks),
        checked_at=now,
        issuer=None,
        subject=holder or check.controller,
        credential=check.document or document,
        details={"presentation": True, "credentials": nested, **_proof_details(check)},
    )
