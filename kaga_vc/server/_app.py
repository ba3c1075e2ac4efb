"""The application factory: one Starlette app per worker, built from :class:`ServerSettings`.

Route groups are separate modules, each with ``routes(state) -> list[BaseRoute]``; they are listed in
:data:`ROUTE_GROUPS` (``kaga_vc.server.<module>``) and more can be passed to :func:`create_app` as
``extra_groups`` (modules or ``(state) -> routes`` callables). Routes reach the shared
:class:`ServerState` as ``request.app.state.kaga``. Every :class:`KagaError` a route lets escape becomes
problem details (:mod:`kaga_vc.server._problems`); anything else is a 500 without a traceback in the body.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ..errors import INTERNAL_ERROR, METHOD_NOT_ALLOWED, NOT_FOUND_HTTP, KagaError
from ._middleware import BodyLimit, RateLimiter, RequestLog
from ._problems import error_response, problem_response
from ._settings import ServerSettings
from ._state import ServerState

ROUTE_GROUPS: tuple[str, ...] = ("_vcapi", "_hosting", "_admin", "_subject", "_openid4vci", "_openid4vp", "_shop")
"""Route-group modules of this package, in order; a later group never shadows an earlier one's paths."""

RouteGroup = Any  # a module with ``routes(state)``, or a callable ``(state) -> list[BaseRoute]``
log = logging.getLogger("kaga_vc.server")


def _group_routes(group: RouteGroup, state: ServerState) -> list[BaseRoute]:
    if isinstance(group, str):
        group = importlib.import_module(group if "." in group else f"{__package__}.{group}")
    make: Callable[[ServerState], list[BaseRoute]] = group.routes if hasattr(group, "routes") else group
    return list(make(state))


def build_state(settings: ServerSettings, *, password: str | None = None) -> ServerState:
    """Open issuers, admin auth and limits for one worker."""
    from ._issuers import open_issuers

    issuers = open_issuers(settings, password) if settings.issues else {}
    state = ServerState(settings=settings, issuers=issuers, password=password)
    state.limiter = RateLimiter(settings.verify_rate_per_minute)
    if settings.admin_tokens:
        from ._auth import AdminAuth

        if password is None:
            from ..errors import InputError

            raise InputError("kaga:password-required", "the admin tokens file needs the keystore password")
        state.auth = AdminAuth.open(settings.admin_tokens, password)
    return state


def create_app(settings: ServerSettings, *, password: str | None = None, state: ServerState | None = None,
               extra_groups: Sequence[RouteGroup] = ()) -> Starlette:
    """The ASGI application for ``settings`` (keystores opened with ``password``)."""
    state = state or build_state(settings, password=password)
    routes: list[BaseRoute] = []
    for group in (*ROUTE_GROUPS, *extra_groups):
        routes += _group_routes(group, state)
    if state.trust is None:
        from ._trust import Trust

        state.trust = Trust(settings.bundle, settings.extra.get("trusted_city"), state.status_host)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestLog),
            Middleware(BodyLimit, limit=settings.max_body_bytes),
            Middleware(GZipMiddleware, minimum_size=512),
        ],
        exception_handlers={KagaError: _kaga_error, HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.kaga = state
    return app


async def _kaga_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KagaError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return problem_response(NOT_FOUND_HTTP, "no such resource", 404)
    if exc.status_code == 405:
        return problem_response(METHOD_NOT_ALLOWED, "method not allowed here", 405,
                                headers=dict(exc.headers or {}))
    return problem_response("kaga:http-error", str(exc.detail), exc.status_code)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("internal error in %s %s: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
    return problem_response(INTERNAL_ERROR, "internal error; see the server log", 500)


def app_from_env() -> Starlette:
    """The uvicorn factory (``kaga_vc.server:app_from_env``): settings from ``$KAGA_VC_SERVE_SETTINGS``,
    the keystore password from ``$KAGA_VC_PASSWORD``; used by every worker process."""
    settings = ServerSettings.from_env()
    return create_app(settings, password=os.environ.get("KAGA_VC_PASSWORD") or None)
