"""A bounded memo of resolved DID documents, for one set of verify parameters (issue 16).

Verifying a presentation with several credentials from one issuer, a status list signed by that
issuer, or a batch of credentials with one reused :class:`~kaga_vc.credentials.VerifyParameters`
resolves the same DIDs again and again. :class:`DocumentCache` remembers each document (per resolver
and DID, default resolution options only) for at most ``max_age`` and at most ``max_entries`` of
them, so a long-lived parameters object still sees a key rotated on the registry within ``max_age``.
Failures are never remembered. Thread-safe (one lock around the dictionary).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from ._resolver import ResolutionOptions, ResolutionResult, Resolver
from ._syntax import DID

DEFAULT_MAX_ENTRIES = 256
DEFAULT_MAX_AGE = timedelta(seconds=60)


class DocumentCache:
    """Resolved DID documents by (resolver, DID), bounded in number and age."""

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_age: timedelta = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 0 or max_age < timedelta(0):
            raise ValueError("max_entries and max_age must not be negative")
        self.max_entries = max_entries
        self.max_age = max_age.total_seconds()
        self._clock = clock
        self._entries: OrderedDict[tuple[Any, str], tuple[float, ResolutionResult]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def view(self, resolver: Resolver) -> Resolver:
        """``resolver`` with its default-option resolutions served from this cache."""
        if self.max_entries == 0 or isinstance(resolver, _CachedResolver):
            return resolver
        return _CachedResolver(resolver, self)

    def resolve(self, resolver: Resolver, did: str | DID) -> ResolutionResult:
        key = (resolver, str(did))
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] <= self.max_age:
                self._entries.move_to_end(key)
                return hit[1]
        result = resolver.resolve(did)  # outside the lock: a resolver may take time (or fail)
        with self._lock:
            self._entries[key] = (now, result)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return result

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class _CachedResolver(Resolver):
    """A :class:`Resolver` that answers default-option resolutions from a :class:`DocumentCache`."""

    def __init__(self, inner: Resolver, cache: DocumentCache) -> None:
        super().__init__({name: inner._methods[name] for name in inner.methods})
        self._inner = inner
        self._cache = cache

    def resolve(self, did: str | DID, options: ResolutionOptions | None = None) -> ResolutionResult:
        if options is not None and options != _DEFAULT_OPTIONS:
            return self._inner.resolve(did, options)
        return self._cache.resolve(self._inner, did)

    def with_method(self, method: Any) -> Resolver:
        return self._inner.with_method(method)


_DEFAULT_OPTIONS = ResolutionOptions()
