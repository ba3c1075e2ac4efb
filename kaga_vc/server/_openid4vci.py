"""OpenID4VCI routes of the issuer role: metadata, token, nonce and credential endpoints (thin adapters).

Every route parses, calls one function of :mod:`kaga_vc.issuer.openid4vci` and renders; refusals are
OAuth error bodies (``{"error", "error_description", "kaga_code"}``, RFC 6749 §5.2 / OpenID4VCI §8.3.1)
with ``Cache-Control: no-store`` like every answer here. The city's issuer and the offers table are
opened on first use, in the issuance records database the server was given.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..errors import CREDENTIAL_REQUEST_INVALID, MALFORMED_VALUE_ERROR, InputError, ProtocolError
from ..issuer import openid4vci as vci
from ._http import json_response, read_body, read_json
from ._state import ServerState

NO_STORE = {"Cache-Control": "no-store"}


class _Issuing:
    """The city's :class:`CityIssuer` and its :class:`OfferStore`, opened once per worker."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._opened: tuple[Any, Any] | None = None

    def get(self) -> tuple[Any, Any]:
        with self._lock:
            if self._opened is None:
                from ..issuer import open_city_issuer

                settings = self.state.settings
                if self.state.password is None:
                    raise InputError("kaga:password-required", "OpenID4VCI needs the city's keystore password")
                city = open_city_issuer(self.state.password, home=settings.home, records_url=settings.records_url)
                self._opened = (city, vci.open_offer_store(city))
            return self._opened

    def close(self) -> None:
        if self._opened is not None:
            self._opened[0].close()
            self._opened = None


def _issuing(request: Request) -> _Issuing:
    state: ServerState = request.app.state.kaga
    found: _Issuing = state.extras["openid4vci"]
    return found


def _base(request: Request) -> str:
    return str(request.app.state.kaga.settings.base_url).rstrip("/")


def oauth_error(error: ProtocolError) -> Response:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{error.oauth_error}"'
    return json_response(error.to_oauth(), error.status, headers=headers)


async def issuer_metadata(request: Request) -> Response:
    return json_response(vci.issuer_metadata(_base(request)))


async def authorization_server_metadata(request: Request) -> Response:
    return json_response(vci.authorization_server_metadata(_base(request)))


async def _form(request: Request) -> dict[str, str]:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise ProtocolError(CREDENTIAL_REQUEST_INVALID, "send the token request as application/x-www-form-urlencoded")
    from urllib.parse import parse_qsl

    body = await read_body(request, request.app.state.kaga.settings.max_body_bytes)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError(CREDENTIAL_REQUEST_INVALID, "the form body is malformed") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.1: parameters must not be included more than once
            raise ProtocolError(CREDENTIAL_REQUEST_INVALID, f"parameter {name!r} given twice")
        form[name] = value
    return form


async def token(request: Request) -> Response:
    try:
        form = await _form(request)
        _city, store = await run_in_threadpool(_issuing(request).get)
        body = await run_in_threadpool(vci.token_response, store, form)
    except ProtocolError as error:
        return oauth_error(error)
    return json_response(body, headers=NO_STORE)


async def nonce(request: Request) -> Response:
    _city, store = await run_in_threadpool(_issuing(request).get)
    return json_response(await run_in_threadpool(vci.nonce_response, store), headers=NO_STORE)


async def credential(request: Request) -> Response:
    try:
        try:
            body = await read_json(request)
        except InputError as error:
            raise ProtocolError(CREDENTIAL_REQUEST_INVALID, f"the credential request is not JSON: {error.detail}") \
                from None
        city, store = await run_in_threadpool(_issuing(request).get)
        answer = await run_in_threadpool(lambda: vci.credential_response(
            city, store, authorization=request.headers.get("authorization"), body=body,
            credential_issuer=_base(request)))
    except ProtocolError as error:
        return oauth_error(error)
    except InputError as error:  # a claim rule at issuance time (e.g. the offer's claims went stale)
        return oauth_error(ProtocolError(error.code or MALFORMED_VALUE_ERROR, error.detail,
                                         oauth_error="invalid_credential_request"))
    return json_response(answer, headers=NO_STORE)


def routes(state: ServerState) -> list[BaseRoute]:
    """The OpenID4VCI endpoints, for a server that issues as the city."""
    if not state.settings.issues or not any(i.city for i in state.settings.issuers):
        return []
    state.extras["openid4vci"] = _Issuing(state)
    return [
        Route("/.well-known/openid-credential-issuer", issuer_metadata, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", authorization_server_metadata, methods=["GET"]),
        Route(vci.TOKEN_PATH, token, methods=["POST"]),
        Route(vci.NONCE_PATH, nonce, methods=["POST"]),
        Route(vci.CREDENTIAL_PATH, credential, methods=["POST"]),
    ]
