"""What ``kaga-vc serve`` was told: plain, serialisable settings (no secret lives here).

Several uvicorn workers are separate processes that each build the application from these
settings (:func:`kaga_vc.server.app_from_env` reads them from ``$KAGA_VC_SERVE_SETTINGS``); the
keystore password reaches them through ``$KAGA_VC_PASSWORD`` only, never through an option value.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import MALFORMED_VALUE_ERROR, InputError

SETTINGS_ENV = "KAGA_VC_SERVE_SETTINGS"
ROLES = ("issuer", "verifier", "all")
DEFAULT_PORT = 8443
DEFAULT_MAX_BODY = 1024 * 1024  # the verify path's own document limit (kaga_vc.credentials.parse_json)
DEFAULT_VERIFY_RATE = 300  # public verify calls per client and minute


@dataclass(frozen=True, slots=True)
class IssuerSettings:
    """One configured issuer: a keystore (its did:key is the issuer), or the city (``city=True``).

    ``status``: the issuer keeps Bitstring Status Lists (its credentials get ``BitstringStatusListEntry``
    values and issuance records, in ``records_url`` or a SQLite file of its own); the city always does,
    in the server's ``records_url``.
    """

    name: str
    keystore: str | None = None
    city: bool = False
    status: bool = False
    records_url: str | None = None  # where a keystore issuer with lists keeps its records (default: SQLite)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    role: str = "all"
    base_url: str = ""  # the public origin credentials name (status lists, contexts); default: where it binds
    issuers: tuple[IssuerSettings, ...] = ()
    home: str | None = None
    records_url: str | None = None
    log_url: str | None = None
    admin_tokens: str | None = None  # path of the sealed admin tokens file
    bundle: str | None = None  # the current trust bundle (a file) hosted at /trust-bundle.jwt
    max_body_bytes: int = DEFAULT_MAX_BODY
    verify_rate_per_minute: int = DEFAULT_VERIFY_RATE
    extra: dict[str, Any] = field(default_factory=dict)  # settings of route groups added later (oid4vc, ...)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InputError(MALFORMED_VALUE_ERROR, f"--role must be one of {', '.join(ROLES)}")
        names = [i.name for i in self.issuers]
        if len(set(names)) != len(names):
            raise InputError(MALFORMED_VALUE_ERROR, "issuer names must be unique")

    @property
    def issues(self) -> bool:
        return self.role in ("issuer", "all")

    @property
    def verifies(self) -> bool:
        return self.role in ("verifier", "all")

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerSettings:
        try:
            data = json.loads(text)
            issuers = tuple(IssuerSettings(**i) for i in data.pop("issuers", ()))
            return cls(issuers=issuers, **data)
        except (ValueError, TypeError) as exc:
            raise InputError(MALFORMED_VALUE_ERROR, f"server settings are malformed ({type(exc).__name__})") from None

    @classmethod
    def from_env(cls) -> ServerSettings:
        text = os.environ.get(SETTINGS_ENV)
        if not text:
            raise InputError(MALFORMED_VALUE_ERROR, f"${SETTINGS_ENV} is not set (start the server with kaga-vc serve)")
        return cls.from_json(text)
