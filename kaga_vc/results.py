"""Verification results: every check done, every problem found (STYLE.md §5).

They sit at the bottom layer beside the errors they are made from, so every layer that verifies
something (proofs, credentials, verifier) can return them.

A verifier never stops at the first problem it can report and never raises for "invalid": it
returns a :class:`VerificationResult`. "Could not check" (a DID, context or status list that was
unavailable) is a problem with ``could_not_check=True``, kept apart from "checked and wrong".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import KagaError

# Spec URLs of problem types, where one exists (VCDM 2.0 §7.1, VC Data Integrity §3).
PROBLEM_TYPES = {
    "PARSING_ERROR": "https://www.w3.org/TR/vc-data-model#PARSING_ERROR",
    "CRYPTOGRAPHIC_SECURITY_ERROR": "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR",
    "MALFORMED_VALUE_ERROR": "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
    "RANGE_ERROR": "https://www.w3.org/TR/vc-data-model#RANGE_ERROR",
    "PROOF_GENERATION_ERROR": "https://w3id.org/security#PROOF_GENERATION_ERROR",
    "PROOF_VERIFICATION_ERROR": "https://w3id.org/security#PROOF_VERIFICATION_ERROR",
    "PROOF_TRANSFORMATION_ERROR": "https://w3id.org/security#PROOF_TRANSFORMATION_ERROR",
    "INVALID_DOMAIN_ERROR": "https://w3id.org/security#INVALID_DOMAIN_ERROR",
    "INVALID_CHALLENGE_ERROR": "https://w3id.org/security#INVALID_CHALLENGE_ERROR",
}


#: The one table of "could not check" (issue 11): a problem with one of these codes means something
#: needed was unavailable (a DID document, a context, a status list), not that anything was found
#: wrong. Every format, the verifier and the holder classify with it; every other code is "invalid".
COULD_NOT_CHECK_CODES = frozenset({
    "notFound", "methodNotSupported", "unknownNetwork", "representationNotSupported", "invalidOptions",
    "kaga:did-web-unreachable", "kaga:resolver-failed", "kaga:issuer-not-a-did", "kaga:context-load-failed",
    "kaga:status-list-unavailable",
})


def is_could_not_check(code: str) -> bool:
    """Whether a problem with this ``code`` means "could not check" (see :data:`COULD_NOT_CHECK_CODES`)."""
    return code in COULD_NOT_CHECK_CODES


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or uncheckable), with a stable ``code`` to branch on."""

    code: str
    detail: str = ""
    type: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    could_not_check: bool = False

    @classmethod
    def from_error(cls, error: KagaError, *, could_not_check: bool = False) -> Problem:
        return cls(error.code, error.detail, PROBLEM_TYPES.get(error.code), dict(error.context), could_not_check)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "detail": self.detail}
        if self.type:
            out["type"] = self.type
        if self.context:
            out["context"] = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.context.items()}
        if self.could_not_check:
            out["couldNotCheck"] = True
        return out


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of verifying a credential or presentation."""

    verified: bool
    format: str | None = None
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    checks: tuple[str, ...] = ()
    checked_at: datetime | None = None
    chain_block: int | None = None
    issuer: str | None = None
    subject: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    credential: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def could_not_check(self) -> bool:
        """True when nothing was found wrong but something could not be checked."""
        return bool(self.problems) and all(p.could_not_check for p in self.problems)

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "verified": self.verified,
            "format": self.format,
            "issuer": self.issuer,
            "subject": self.subject,
            "validFrom": iso(self.valid_from),
            "validUntil": iso(self.valid_until),
            "checks": list(self.checks),
            "problems": [p.to_json() for p in self.problems],
            "warnings": [w.to_json() for w in self.warnings],
            "checkedAt": iso(self.checked_at),
            "chainBlock": self.chain_block,
            **({"details": self.details} if self.details else {}),
        }
