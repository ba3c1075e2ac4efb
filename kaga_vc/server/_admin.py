"""OAuth2 client credentials (RFC 6749 §4.4) for the admin clients, and the issuers' public description.

``POST /oauth2/token`` with ``grant_type=client_credentials`` and the client's id and secret (HTTP
Basic, or ``client_id`` / ``client_secret`` in the form) → ``{access_token, token_type, expires_in,
scope}``; errors are RFC 6749 §5.2 objects (``invalid_client`` with 401, ``invalid_request``,
``unsupported_grant_type``). ``GET /issuers`` lists the configured issuers (DIDs, suites, status lists).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..errors import KagaError
from ._http import json_response, read_body
from ._state import ServerState


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="kaga-vc"'
    return json_response({"error": error, "error_description": description}, status, headers=headers)


async def token(request: Request) -> Response:
    state: ServerState = request.app.state.kaga
    if state.auth is None:
        return _oauth_error("invalid_client", "this server has no admin clients", 401)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return _oauth_error("invalid_request", "send application/x-www-form-urlencoded")
    try:
        form = dict(parse_qsl((await read_body(request, 8192)).decode("utf-8"), strict_parsing=False))
    except (UnicodeDecodeError, ValueError, KagaError):
        return _oauth_error("invalid_request", "the form is unreadable")
    if form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "only client_credentials is supported")
    client_id, secret = form.get("client_id"), form.get("client_secret")
    authorization = request.headers.get("authorization", "")
    if authorization[:6].lower() == "basic ":
        try:
            user, _, password = base64.b64decode(authorization[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return _oauth_error("invalid_client", "malformed Basic credentials", 401)
        client_id, secret = unquote(user), unquote(password)  # RFC 6749 §2.3.1: form-encoded first
    if not client_id or not secret:
        return _oauth_error("invalid_client", "client authentication is required", 401)
    try:
        client = state.auth.client_for_secret(client_id, secret)
    except KagaError:
        return _oauth_error("invalid_client", "unknown client or wrong secret", 401)
    access_token, expires_in = state.auth.issue_access_token(client)
    return json_response({"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in,
                          "scope": " ".join(client.scopes)}, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def issuers(request: Request) -> Response:
    state: ServerState = request.app.state.kaga
    return json_response({"issuers": [i.describe() for i in state.issuers.values()]})


def routes(state: ServerState) -> list[BaseRoute]:
    out: list[BaseRoute] = [Route("/oauth2/token", token, methods=["POST"])]
    if state.settings.issues:
        out.append(Route("/issuers", issuers, methods=["GET"]))
    return out
