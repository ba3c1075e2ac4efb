"""The HTTP service ``kaga-vc serve``: VC-API, hosting, subject access (ASGI on Starlette, uvicorn).

:func:`create_app` builds the application from :class:`ServerSettings`; route groups are modules of
this package (``_vcapi``, ``_hosting``, ``_admin``, ``_subject``) and other layers' groups are passed
as ``extra_groups``. :func:`serve` runs it under uvicorn (HTTPS with a certificate, several workers).
See ``docs/server.md``.
"""

from __future__ import annotations

from ._app import ROUTE_GROUPS, app_from_env, build_state, create_app
from ._auth import SCOPES, AdminAuth, add_client, list_clients, remove_client
from ._issuers import ServedIssuer
from ._run import serve
from ._settings import IssuerSettings, ServerSettings
from ._state import ServerState
from ._verifier import check_log_owner

__all__ = [
    "ROUTE_GROUPS",
    "SCOPES",
    "AdminAuth",
    "IssuerSettings",
    "ServedIssuer",
    "ServerSettings",
    "ServerState",
    "add_client",
    "app_from_env",
    "build_state",
    "check_log_owner",
    "create_app",
    "list_clients",
    "remove_client",
    "serve",
]
