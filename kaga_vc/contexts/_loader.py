"""The offline JSON-LD document loader (pyld's ``(url, options) -> RemoteDocument`` shape).

Contexts are served from the files bundled in this package, each checked against the SHA-256
recorded in ``index.json`` the first time it is read. Any other URL is refused with
:class:`~kaga_vc.errors.DocumentLoadError` and no socket is opened, unless the caller names it in
``allow_network`` (then it is fetched over HTTPS with a timeout and a size limit, and cached) or
passes documents of its own in ``extra``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pkgutil
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import (
    CONTEXT_DIGEST_MISMATCH,
    CONTEXT_LOAD_FAILED,
    CONTEXT_NOT_BUNDLED,
    DocumentLoadError,
)

JSONObject = dict[str, Any]
MAX_REMOTE_BYTES = 256 * 1024
REMOTE_TIMEOUT = 5.0


def _package_data(package: str, name: str) -> bytes:
    """A data file of ``package`` through its loader (a directory or a zip alike).

    pkgutil, not importlib.resources: that imports tempfile, shutil, zipfile, bz2 and lzma, which a
    cold ``kaga-vc verify`` otherwise never loads.
    """
    data = pkgutil.get_data(package, name)
    if data is None:  # a loader without get_data (a namespace package): not how kaga_vc is installed
        raise FileNotFoundError(f"{package}/{name}")
    return data


class BundledContexts:
    """The contexts shipped in ``kaga_vc/contexts/data`` (lazily read, digest-checked, cached)."""

    def __init__(self, package: str = "kaga_vc.contexts.data", index: str = "index.json") -> None:
        self._package = package
        self._lock = threading.Lock()
        self._index: dict[str, JSONObject] = json.loads(_package_data(package, index).decode("utf-8"))
        self._cache: dict[str, Any] = {}

    def urls(self) -> list[str]:
        return sorted(self._index)

    def digest(self, url: str) -> str:
        return str(self._index[url]["sha256"])

    def __contains__(self, url: object) -> bool:
        return url in self._index

    def raw_bytes(self, url: str) -> bytes:
        """The exact bytes of a bundled context (for digests such as ``relatedResource``), digest-checked."""
        if url not in self._index:
            raise DocumentLoadError(CONTEXT_NOT_BUNDLED, f"context {url!r} is not bundled", url=url)
        entry = self._index[url]
        raw = _package_data(self._package, entry["file"])
        if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
            raise DocumentLoadError(CONTEXT_DIGEST_MISMATCH, f"bundled context {url!r} does not match its digest", url=url)
        return raw

    def get(self, url: str) -> Any:
        """The parsed context document; DocumentLoadError if absent or its digest is wrong."""
        with self._lock:
            if url not in self._cache:
                self._cache[url] = json.loads(self.raw_bytes(url))
            return self._cache[url]


_BUNDLED: BundledContexts | None = None


def bundled_contexts() -> BundledContexts:
    """The process-wide bundle of official contexts (read once)."""
    global _BUNDLED
    if _BUNDLED is None:
        _BUNDLED = BundledContexts()
    return _BUNDLED


_KAGA: BundledContexts | None = None


def kaga_contexts() -> BundledContexts:
    """The process-wide bundle of the city's own contexts (``kaga_vc/contexts/kaga``), digest-checked alike."""
    global _KAGA
    if _KAGA is None:
        _KAGA = BundledContexts("kaga_vc.contexts.kaga")
    return _KAGA


class OfflineLoader:
    """A pyld document loader that serves bundled contexts and refuses everything else."""

    def __init__(
        self,
        *,
        extra: Mapping[str, Any] | None = None,
        bundles: Iterable[BundledContexts] = (),
        allow_network: Iterable[str] = (),
    ) -> None:
        self._bundles = [bundled_contexts(), kaga_contexts(), *bundles]
        self._extra = dict(extra or {})
        self._allow = frozenset(allow_network)
        self._remote: dict[str, Any] = {}

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> JSONObject:
        return {"contextUrl": None, "documentUrl": url, "document": self.document(url)}

    def document(self, url: str) -> Any:
        """The document for ``url``; pyld may mutate what it gets, so callers get a deep copy."""
        if url in self._extra:
            return copy.deepcopy(self._extra[url])
        for bundle in self._bundles:
            if url in bundle:
                return copy.deepcopy(bundle.get(url))
        if url in self._allow:
            if url not in self._remote:
                self._remote[url] = _fetch(url)
            return copy.deepcopy(self._remote[url])
        raise DocumentLoadError(
            CONTEXT_NOT_BUNDLED, f"context {url!r} is not bundled and network access is not allowed", url=url
        )


def default_loader() -> OfflineLoader:
    """A loader serving the bundled contexts only (the official ones and the city's own)."""
    return OfflineLoader()


def _fetch(url: str) -> Any:
    """Fetch one explicitly allowed context over HTTPS, with a timeout and a size limit."""
    if not url.startswith("https://"):
        raise DocumentLoadError(CONTEXT_LOAD_FAILED, f"refusing to fetch non-HTTPS context {url!r}", url=url)
    import requests

    try:
        with requests.get(
            url, timeout=REMOTE_TIMEOUT, stream=True, headers={"Accept": "application/ld+json, application/json"}
        ) as response:
            response.raise_for_status()
            body = response.raw.read(MAX_REMOTE_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise DocumentLoadError(CONTEXT_LOAD_FAILED, f"could not fetch {url!r}: {type(exc).__name__}", url=url) from None
    if len(body) > MAX_REMOTE_BYTES:
        raise DocumentLoadError(CONTEXT_LOAD_FAILED, f"context {url!r} is larger than {MAX_REMOTE_BYTES} bytes", url=url)
    try:
        return json.loads(body)
    except ValueError:
        raise DocumentLoadError(CONTEXT_LOAD_FAILED, f"context {url!r} is not JSON", url=url) from None
