"""The W3C CCG VC-API endpoints: issue, verify credentials and presentations, change a status.

Thin adapters (STYLE.md §11): parse the body, call one library function, render. Verification is
:func:`kaga_vc.verify_credential` / :func:`kaga_vc.verify_presentation`, the one pipeline the CLI
uses; issuing is :meth:`kaga_vc.server._issuers.ServedIssuer.issue`.

- ``POST /credentials/issue`` and ``POST /issuers/{name}/credentials/issue`` (admin, scope ``issue``)
  ``{credential, options}`` → 201 ``{verifiableCredential}``.
- ``POST /credentials/verify`` ``{verifiableCredential, options}`` and ``POST /presentations/verify``
  ``{verifiablePresentation, options: {challenge, domain}}`` (public, rate-limited) → 200 when
  verified; 400 for unreadable input, 422 when checked and not verified; the body lists checks,
  warnings and problems either way.
- ``POST /credentials/status`` (admin, scope ``status``) ``{credentialId, credentialStatus}`` → 200.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..errors import (
    DOCUMENT_TOO_DEEP,
    DOCUMENT_TOO_LARGE,
    DUPLICATE_JSON_KEY,
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    InputError,
)
from ..results import VerificationResult
from ._http import client_key, json_response, read_json
from ._issuers import find_issuer
from ._middleware import rate_limited_problem
from ._problems import problem_response, problems_json
from ._state import ServerState

_INPUT_CODES = {PARSING_ERROR, DOCUMENT_TOO_LARGE, DOCUMENT_TOO_DEEP, DUPLICATE_JSON_KEY}
STATUS_CHECK = "credentialStatus"


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.kaga
    return state


def _member(body: Any, name: str) -> Any:
    if not isinstance(body, dict):
        raise InputError(MALFORMED_VALUE_ERROR, "the request body must be a JSON object")
    if name not in body:
        raise InputError(MALFORMED_VALUE_ERROR, f"the request body has no {name}")
    return body[name]


def _secured(body: Any, name: str) -> Any:
    """The secured document of a verify request: a JSON object, or a compact JWT / SD-JWT string.

    A JSON document sent inside a string is refused (VC-DI §4.4 step 1: a secured document that is
    not a map is a PARSING_ERROR), never parsed: the W3C DI suites send exactly that as a negative.
    """
    value = _member(body, name)
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        raise InputError(PARSING_ERROR, f"{name} must be a JSON object, not JSON text inside a string")
    return value


def _options(body: dict[str, Any]) -> dict[str, Any]:
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise InputError(MALFORMED_VALUE_ERROR, "options must be a JSON object")
    return options


def admin(request: Request, scope: str) -> str:
    """The authenticated admin client's name (AuthError when there is none or it lacks ``scope``)."""
    from ..errors import UNAUTHORIZED, AuthError

    state = _state(request)
    if state.auth is None:
        raise AuthError(UNAUTHORIZED, "admin endpoints are closed: the server has no admin tokens file")
    name: str = state.auth.authenticate(request.headers.get("authorization"), scope)
    return name


# -- issue ----------------------------------------------------------------------------------------


async def issue(request: Request) -> Response:
    staff = admin(request, "issue")
    body = await read_json(request)
    credential = _member(body, "credential")
    issuer = find_issuer(_state(request).issuers, request.path_params.get("issuer"))
    secured = await _run(request, issuer.issue, credential, _options(body), staff=staff)
    return json_response({"verifiableCredential": secured}, 201)


async def _run(request: Request, func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run blocking library work (signing, canonicalisation, the database) off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args, **kwargs)


# -- verify ---------------------------------------------------------------------------------------


def _checks_status(options: dict[str, Any]) -> bool:
    checks = options.get("checks")
    if checks is None:
        return True
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise InputError(MALFORMED_VALUE_ERROR, "options.checks must be a list of check names")
    return STATUS_CHECK in checks or "status" in checks


def verification_response(result: VerificationResult) -> Response:
    body: dict[str, Any] = {
        "verified": result.verified,
        "checks": list(result.checks),
        "warnings": problems_json(result.warnings),
        "problemDetails": problems_json(result.problems),
    }
    if result.could_not_check:
        body["couldNotCheck"] = True
    if result.verified:
        status = 200
    elif any(p.code in _INPUT_CODES for p in result.problems):
        status = 400
    else:
        status = 422
    return json_response(body, status)


def _rate_limit(request: Request) -> Response | None:
    limiter = _state(request).limiter
    if limiter is not None and not limiter.allow(client_key(request)):
        code, detail, status = rate_limited_problem()
        return problem_response(code, detail, status, headers={"Retry-After": "60"})
    return None


async def verify_credential_route(request: Request) -> Response:
    limited = _rate_limit(request)
    if limited is not None:
        return limited
    body = await read_json(request)
    credential = _secured(body, "verifiableCredential")
    options = _options(body)
    state = _state(request)
    status_source = state.trust.status_source() if _checks_status(options) else None
    from .. import verify_credential

    result = await _run(request, verify_credential, credential, resolver=state.trust.resolver(),
                        status_source=status_source)
    return verification_response(result)


async def verify_presentation_route(request: Request) -> Response:
    limited = _rate_limit(request)
    if limited is not None:
        return limited
    body = await read_json(request)
    presentation = _secured(body, "verifiablePresentation")
    options = _options(body)
    challenge, domain = options.get("challenge"), options.get("domain")
    if challenge is not None and not isinstance(challenge, str):
        raise InputError(MALFORMED_VALUE_ERROR, "options.challenge must be a string")
    if domain is not None and not isinstance(domain, (str, list)):
        raise InputError(MALFORMED_VALUE_ERROR, "options.domain must be a string or a list of strings")
    state = _state(request)
    status_source = state.trust.status_source() if _checks_status(options) else None
    from .. import verify_presentation

    result = await _run(request, verify_presentation, presentation, resolver=state.trust.resolver(), challenge=challenge,
                        domain=domain, status_source=status_source)
    return verification_response(result)


# -- status ---------------------------------------------------------------------------------------

_STATUS_WORDS = {"revoked": "revoked", "revocation": "revoked", "suspended": "suspended", "suspension": "suspended",
                 "active": "active", "unsuspended": "active"}


def parse_status_change(body: Any) -> tuple[str, str]:
    """``(credential id, new status)`` from a VC-API status request.

    Accepted shapes: ``{credentialId, credentialStatus: [{type, status: "revoked"|"suspended"|"active"}]}``
    (VC-API) and ``{credentialId, credentialStatus: {type, statusPurpose}, status: true|false}`` (VCALM).
    """
    credential_id = _member(body, "credentialId")
    if not isinstance(credential_id, str) or not credential_id:
        raise InputError(MALFORMED_VALUE_ERROR, "credentialId must be a string")
    status = _member(body, "credentialStatus")
    items = status if isinstance(status, list) else [status]
    if len(items) != 1 or not isinstance(items[0], dict):
        raise InputError(MALFORMED_VALUE_ERROR, "credentialStatus must name exactly one status change")
    item = items[0]
    if "status" in item and isinstance(item["status"], str):
        word = _STATUS_WORDS.get(item["status"])
    else:
        purpose = _STATUS_WORDS.get(str(item.get("statusPurpose", "")))
        flag = body.get("status", True)
        if not isinstance(flag, bool):
            raise InputError(MALFORMED_VALUE_ERROR, "status must be true or false")
        word = purpose if flag else ("active" if purpose == "suspended" else None)
    if word is None:
        raise InputError(MALFORMED_VALUE_ERROR, "the status must be revoked, suspended or active")
    return credential_id, word


async def change_status(request: Request) -> Response:
    staff = admin(request, "status")
    body = await read_json(request)
    credential_id, word = parse_status_change(body)
    state = _state(request)
    name = request.path_params.get("issuer")
    issuer = find_issuer(state.issuers, name) if name is not None else None  # None: whichever issuer has it
    record = await _run(request, state.status_host.change, issuer, credential_id, word, staff)
    return json_response({"credentialId": credential_id, "status": record})


def routes(state: ServerState) -> list[BaseRoute]:
    out: list[BaseRoute] = []
    if state.settings.issues:
        out += [
            Route("/credentials/issue", issue, methods=["POST"]),
            Route("/issuers/{issuer}/credentials/issue", issue, methods=["POST"]),
            Route("/credentials/status", change_status, methods=["POST"]),
            Route("/issuers/{issuer}/credentials/status", change_status, methods=["POST"]),
        ]
    if state.settings.verifies:
        out += [
            Route("/credentials/verify", verify_credential_route, methods=["POST"]),
            Route("/presentations/verify", verify_presentation_route, methods=["POST"]),
        ]
    return out
