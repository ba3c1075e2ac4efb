"""What a running application holds: settings, issuers, resolver, admin auth, limits, hosted lists.

One :class:`ServerState` per worker process, built once by the app factory and reached by routes as
``request.app.state.kaga``. Route groups added later (OpenID4VCI/VP, the shop page) keep what they
need in ``extras`` under their own name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..did import KeyMethod, Resolver
from ._issuers import ServedIssuer
from ._settings import ServerSettings


@dataclass(slots=True)
class ServerState:
    settings: ServerSettings
    issuers: dict[str, ServedIssuer]
    resolver: Resolver = field(default_factory=lambda: Resolver({"key": KeyMethod()}))
    password: str | None = None
    auth: Any = None  # kaga_vc.server._auth.AdminAuth
    limiter: Any = None  # kaga_vc.server._limits.RateLimiter
    status_host: Any = None  # kaga_vc.server._hosting.StatusListHost
    trust: Any = None  # kaga_vc.server._trust.Trust: the resolver and status source verification uses
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        for issuer in self.issuers.values():
            issuer.close()
        for value in self.extras.values():
            close = getattr(value, "close", None)
            if callable(close):
                close()
