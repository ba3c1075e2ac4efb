"""Problem details (RFC 9457) for every error the service answers with, in one place.

A route never chooses a status code for a library error itself: :func:`status_for` maps a
:class:`~kaga_vc.errors.KagaError` (by class and stable code) to the HTTP status, and
:func:`problem_response` renders ``{"type", "title", "status", "code", "detail"}`` as
``application/problem+json``. Details are the library's own, which never hold key material or
personal data.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from ..errors import (
    ADMIN_TOKENS_INVALID,
    CHALLENGE_EXPIRED,
    CHALLENGE_INVALID,
    CHALLENGE_REPLAYED,
    CREDENTIAL_ALREADY_RECORDED,
    CREDENTIAL_UNKNOWN,
    DOCUMENT_TOO_LARGE,
    FORBIDDEN,
    ISSUER_UNKNOWN,
    METHOD_NOT_ALLOWED,
    NOT_FOUND_HTTP,
    RATE_LIMITED,
    STATUS_TRANSITION_INVALID,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA_TYPE,
    AccessLogError,
    AuthError,
    InputError,
    KagaError,
    ProofError,
    RecordsError,
    StatusError,
    UnavailableError,
    UnsupportedError,
)
from ..results import PROBLEM_TYPES, Problem

PROBLEM_JSON = "application/problem+json"

_BY_CODE = {
    UNAUTHORIZED: 401,
    FORBIDDEN: 403,
    RATE_LIMITED: 429,
    NOT_FOUND_HTTP: 404,
    ISSUER_UNKNOWN: 404,
    CREDENTIAL_UNKNOWN: 404,
    METHOD_NOT_ALLOWED: 405,
    UNSUPPORTED_MEDIA_TYPE: 415,
    DOCUMENT_TOO_LARGE: 413,
    STATUS_TRANSITION_INVALID: 409,
    CREDENTIAL_ALREADY_RECORDED: 409,
    CHALLENGE_INVALID: 403,
    CHALLENGE_EXPIRED: 403,
    CHALLENGE_REPLAYED: 403,
    ADMIN_TOKENS_INVALID: 500,
}

_TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
    429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
}


def status_for(error: KagaError) -> int:
    """The HTTP status of a library error: 4xx for the caller's input or rights, 503 for a store or node down."""
    if error.code in _BY_CODE:
        return _BY_CODE[error.code]
    if isinstance(error, AuthError):
        return 401
    if isinstance(error, (InputError, UnsupportedError)):
        return 400
    if isinstance(error, ProofError):
        return 422
    if isinstance(error, (UnavailableError, RecordsError)):
        return 503
    if isinstance(error, AccessLogError):
        return 503
    if isinstance(error, StatusError):
        return 400
    return 400


def problem_body(code: str, detail: str, status: int, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """The RFC 9457 object: ``type`` is the spec URL when the code has one, else a ``urn:`` of our code."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPES.get(code) or f"https://city.kaga.ishikawa.jp/problems#{code.removeprefix('kaga:')}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
    }
    if context:
        body["context"] = context
    return body


def problem_response(code: str, detail: str, status: int, *, context: dict[str, Any] | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(problem_body(code, detail, status, context), ensure_ascii=False),
                    status_code=status, media_type=PROBLEM_JSON, headers=headers)


def error_response(error: KagaError, *, headers: dict[str, str] | None = None) -> Response:
    """Render a library error as problem details with the status of :func:`status_for`."""
    context = error.to_dict().get("context")
    return problem_response(error.code, error.detail, status_for(error), context=context, headers=headers)


def problems_json(problems: tuple[Problem, ...]) -> list[dict[str, Any]]:
    """A verification result's problems as problem-details objects (VCDM 2.0 §7.1 shape)."""
    out = []
    for problem in problems:
        item = problem.to_json()
        item["type"] = problem.type or f"https://city.kaga.ishikawa.jp/problems#{problem.code.removeprefix('kaga:')}"
        item["title"] = problem.code
        out.append(item)
    return out
