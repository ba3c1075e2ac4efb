"""What the verify endpoints trust: did:key always; with a pinned trust bundle, its did:ethr histories
and status lists too.

The bundle file (``--bundle``) is re-read when it changes (``kaga-vc bundle fetch --out`` replaces it
atomically) and used for verification only when its signature checks out against the pinned city
(``--trusted-city`` or ``$KAGA_VC_TRUSTED_CITY``); an unpinned bundle is hosted but never trusted, and a
bundle that stops verifying is dropped (verification then falls back to did:key and this server's own
lists). Status lists come first from this server's own issuers (fresh from their records), then from
the bundle; a list named by a credential is never fetched from the network.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from ..did import KeyMethod, Resolver
from ..errors import STATUS_LIST_UNAVAILABLE, KagaError, StatusError

log = logging.getLogger("kaga_vc.server")
TRUSTED_CITY_ENV = "KAGA_VC_TRUSTED_CITY"


class Trust:
    """The resolver and status source verification uses, kept in step with the bundle file."""

    def __init__(self, bundle_path: str | None, trusted_city: str | None, hosted: Any) -> None:
        self.path = Path(bundle_path) if bundle_path else None
        self.trusted_city = trusted_city or os.environ.get(TRUSTED_CITY_ENV) or None
        self.hosted = hosted  # StatusListHost or None
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._bundle: Any = None
        self._resolver = Resolver({"key": KeyMethod()})
        self._default = self._resolver

    def _refresh(self) -> None:
        if self.path is None or self.trusted_city is None:
            return
        try:
            stat = self.path.stat()
            seen = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            seen = None
        if seen == self._seen:
            return
        with self._lock:
            if seen == self._seen:
                return
            self._seen = seen
            bundle = None
            if seen is not None:
                from ..verifier.bundle import read_bundle

                try:
                    bundle = read_bundle(self.path.read_bytes(), trusted_city=self.trusted_city)
                except (KagaError, OSError) as error:
                    log.error("trust bundle %s not used: %s", self.path.name, getattr(error, "code", error))
            self._bundle = bundle
            self._resolver = bundle.resolver() if bundle is not None else self._default

    @property
    def bundle(self) -> Any:
        self._refresh()
        return self._bundle

    def resolver(self) -> Resolver:
        self._refresh()
        return self._resolver

    def status_source(self) -> _Source:
        return _Source(self.hosted, self.bundle)


class _Source:
    def __init__(self, hosted: Any, bundle: Any) -> None:
        self.hosted = hosted.source() if hosted is not None else None
        self.bundle = bundle

    def fetch(self, url: str) -> Any:
        if self.hosted is not None:
            try:
                return self.hosted.fetch(url)
            except StatusError:
                pass
        if self.bundle is not None:
            return self.bundle.fetch(url)
        raise StatusError(STATUS_LIST_UNAVAILABLE, f"status list {url}: neither hosted here nor in a trusted bundle",
                          url=url)
