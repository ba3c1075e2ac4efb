"""JWT claim checks shared by every JOSE format: NumericDate validity, audience, nonce; problem collection."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ...errors import (
    CREDENTIAL_EXPIRED,
    CREDENTIAL_NOT_YET_VALID,
    INVALID_CHALLENGE_ERROR,
    INVALID_DOMAIN_ERROR,
    ISSUED_IN_FUTURE,
    MALFORMED_VALUE_ERROR,
    KagaError,
)
from ...results import PROBLEM_TYPES, Problem, is_could_not_check

DEFAULT_MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class Problems:
    """Collects problems; a verifier keeps going after the first one it can report."""

    items: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    def add(self, code: str, detail: str, *, could_not_check: bool = False, **context: Any) -> None:
        self.items.append(Problem(code, detail, PROBLEM_TYPES.get(code), context, could_not_check))

    def add_error(self, error: KagaError, **context: Any) -> None:
        could_not_check = is_could_not_check(error.code)
        problem = Problem.from_error(error, could_not_check=could_not_check)
        if context:
            problem = Problem(problem.code, problem.detail, problem.type, {**problem.context, **context}, could_not_check)
        self.items.append(problem)

    def warn(self, code: str, detail: str, **context: Any) -> None:
        self.warnings.append(Problem(code, detail, None, context))

    def extend(self, problems: tuple[Problem, ...], **context: Any) -> None:
        for p in problems:
            self.items.append(Problem(p.code, p.detail, p.type, {**p.context, **context}, p.could_not_check))


def utc_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise TypeError("now must be a timezone-aware datetime")
    return now.astimezone(UTC)


def numeric_date(payload: dict[str, Any], name: str, problems: Problems) -> datetime | None:
    """Read a NumericDate claim (RFC 7519 §2): a JSON number of seconds, never a bool or string."""
    if name not in payload:
        return None
    value = payload[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > 1e11:
        problems.add(MALFORMED_VALUE_ERROR, f"JWT claim {name!r} is not a NumericDate", claim=name)
        return None
    return datetime.fromtimestamp(value, UTC)


def parse_datetime(value: Any, name: str, problems: Problems) -> datetime | None:
    """Read an XML Schema dateTime (VCDM ``validFrom``/``validUntil``/``issuanceDate``); must carry a zone."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(MALFORMED_VALUE_ERROR, f"{name} is not a dateTime string", property=name)
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith(("Z", "z")) else value)
    except ValueError:
        problems.add(MALFORMED_VALUE_ERROR, f"{name} is not a dateTime", property=name)
        return None
    if parsed.tzinfo is None:
        problems.add(MALFORMED_VALUE_ERROR, f"{name} has no time zone", property=name)
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 at +14:00, year 9999 at -14:00
        problems.add(MALFORMED_VALUE_ERROR, f"{name} is out of the representable range", property=name)
        return None


def check_window(
    problems: Problems,
    *,
    now: datetime,
    skew: timedelta,
    not_before: datetime | None = None,
    expires: datetime | None = None,
    issued_at: datetime | None = None,
    what: str = "credential",
) -> None:
    """Expiry (``exp``/``validUntil``), not-before (``nbf``/``validFrom``) and ``iat`` in the future."""
    if expires is not None and now - skew >= expires:
        problems.add(CREDENTIAL_EXPIRED, f"the {what} expired at {expires.isoformat()}", valid_until=expires, now=now)
    if not_before is not None and now + skew < not_before:
        problems.add(
            CREDENTIAL_NOT_YET_VALID, f"the {what} is not valid before {not_before.isoformat()}", valid_from=not_before, now=now
        )
    if issued_at is not None and now + skew < issued_at:
        problems.add(ISSUED_IN_FUTURE, f"the {what} was issued in the future ({issued_at.isoformat()})", iat=issued_at, now=now)


def check_audience(problems: Problems, aud: Any, expected: str | Sequence[str] | None) -> None:
    """``aud`` (a string or list of strings) must contain the expected audience (one of them, if several)."""
    if expected is None:
        return
    wanted = [expected] if isinstance(expected, str) else list(expected)
    values = aud if isinstance(aud, list) else [aud]
    if aud is None or not all(isinstance(v, str) for v in values) or not set(wanted) & set(values):
        problems.add(INVALID_DOMAIN_ERROR, "the audience (aud) is not this verifier", expected=wanted)


def check_nonce(problems: Problems, nonce: Any, expected: str | None) -> None:
    if expected is None:
        return
    if not isinstance(nonce, str) or nonce != expected:
        problems.add(INVALID_CHALLENGE_ERROR, "the nonce does not match the challenge", expected=expected)
