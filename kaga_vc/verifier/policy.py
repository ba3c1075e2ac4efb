"""The verifier's policy: which purposes, issuers and credential types it accepts, and bundle freshness."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from ..errors import MALFORMED_VALUE_ERROR, InputError

StaleAction = Literal["warn", "refuse"]


@dataclass(frozen=True, slots=True)
class PurposePolicy:
    """What one purpose accepts: credential types and issuers (empty: whatever the bundle trusts)."""

    types: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """A verifier's rules on top of the city's bundle.

    ``purposes`` empty accepts any purpose; otherwise a request's purpose must be listed.
    A bundle older than ``max_bundle_age`` gives ``kaga:bundle-stale`` as a warning
    (``stale_bundle="warn"``, the default) or as a refusal (``"refuse"``). ``trusted_cities``
    pins the DIDs allowed to sign bundles; empty refuses every bundle (``kaga:bundle-signer-not-pinned``)
    unless ``trust_any_city`` says, explicitly, that any validly signed bundle will do. A bundle past
    its ``expiresAt`` is refused (``kaga:bundle-expired``) unless within ``bundle_grace``.
    """

    purposes: Mapping[str, PurposePolicy] = field(default_factory=dict)
    max_bundle_age: timedelta = timedelta(days=7)
    stale_bundle: StaleAction = "warn"
    trusted_cities: tuple[str, ...] = ()
    trust_any_city: bool = False
    bundle_grace: timedelta = timedelta(0)

    def pinned(self, *cities: str) -> Policy:
        """This policy with ``cities`` added to the trusted cities."""
        from dataclasses import replace

        return replace(self, trusted_cities=tuple(dict.fromkeys((*self.trusted_cities, *cities))))

    @classmethod
    def from_json(cls, data: Any) -> Policy:
        """``{"purposes": {"p": {"types": [...], "issuers": [...]}}, "maxBundleAgeSeconds": 604800,
        "staleBundle": "warn"|"refuse", "trustedCities": [...], "trustAnyCity": false,
        "bundleGraceSeconds": 0}``."""
        try:
            purposes = {
                str(name): PurposePolicy(tuple(map(str, rule.get("types", []))), tuple(map(str, rule.get("issuers", []))))
                for name, rule in dict(data.get("purposes", {})).items()
            }
            stale = data.get("staleBundle", "warn")
            if stale not in ("warn", "refuse"):
                raise ValueError(stale)
            trust_any = data.get("trustAnyCity", False)
            if not isinstance(trust_any, bool):
                raise TypeError(trust_any)
            grace = int(data.get("bundleGraceSeconds", 0))
            if grace < 0:
                raise ValueError(grace)
            return cls(purposes, timedelta(seconds=int(data.get("maxBundleAgeSeconds", 7 * 86400))), stale,
                       tuple(map(str, data.get("trustedCities", []))), trust_any, timedelta(seconds=grace))
        except (AttributeError, TypeError, ValueError):
            raise InputError(MALFORMED_VALUE_ERROR, "malformed verifier policy") from None

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        try:
            return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            raise InputError("PARSING_ERROR", f"cannot read policy {path}") from None


__all__ = ["Policy", "PurposePolicy", "StaleAction"]
