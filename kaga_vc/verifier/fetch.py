"""Receive a trust bundle by URL (the online step before a business goes offline).

The bundle's integrity comes from the city's signature, not from the transport, so the bundle is
verified (and the city pinned, if asked) before anything is returned. Still, only HTTPS is fetched,
except plain HTTP to a loopback address (a local mirror); redirects are refused, and the body is
read with a timeout and a size limit. This module is never imported by the verify path.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import (
    BUNDLE_EXPIRED,
    BUNDLE_INVALID,
    BUNDLE_ROLLBACK,
    InputError,
    KagaError,
    ProofError,
    UnavailableError,
)
from .bundle import MAX_BUNDLE_BYTES, BundleMemory, TrustBundle, read_bundle

DEFAULT_TIMEOUT = 10.0


class BundleFetchError(UnavailableError):
    """The bundle's URL could not be read (a could-not-check condition, exit 4)."""

    default_code = "kaga:bundle-unavailable"


def fetch_bundle(
    url: str,
    *,
    trusted_city: str | Iterable[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = MAX_BUNDLE_BYTES,
    allow_private_addresses: bool = False,
    ca_file: str | os.PathLike[str] | None = None,
) -> TrustBundle:
    """Download a signed trust bundle and verify it (see :func:`read_bundle` for its errors).

    ``timeout`` is one deadline for the whole download, not per read. Hosts resolving to loopback,
    private or link-local addresses are refused unless ``allow_private_addresses`` (then plain http is
    allowed to a loopback address, a local mirror). Raises InputError ``kaga:bundle-invalid`` for a URL
    that may not be fetched, ``kaga:address-not-allowed`` for such a host, and :class:`BundleFetchError`
    (``kaga:bundle-unavailable``) when the server cannot be read in time. HTTPS trusts ``ca_file`` (a PEM
    file), else ``$REQUESTS_CA_BUNDLE``, else ``$SSL_CERT_FILE``, else the system's authorities.
    """
    from .._http import FetchFailed, http_get

    _check_url(url)
    try:
        fetched = http_get(url, deadline=timeout, max_bytes=max_bytes, accept="application/jwt, text/plain",
                           allow_private_addresses=allow_private_addresses, ca_file=ca_file)
    except FetchFailed as exc:
        raise BundleFetchError(detail=exc.detail) from None
    if fetched.status != 200:
        raise BundleFetchError(detail=f"{url} answered HTTP {fetched.status}")
    body = fetched.body
    if len(body) > max_bytes:
        raise InputError(BUNDLE_INVALID, f"the bundle at {url} is larger than {max_bytes} bytes")
    return read_bundle(body, trusted_city=trusted_city)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return
    raise InputError(BUNDLE_INVALID, "a bundle URL must be https:// (or http:// to a loopback address)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def install_bundle(bundle: TrustBundle, out: str | Path, *, memory: BundleMemory | None = None,
                   grace: timedelta = timedelta(0), now: datetime | None = None) -> Path:
    """Save a verified ``bundle`` to ``out`` — never an expired one, never over a newer one.

    Raises ProofError ``kaga:bundle-expired`` (past ``expiresAt`` + ``grace``) and ``kaga:bundle-rollback``
    when the bundle already at ``out`` (of the same city, validly signed) or the newest one ``memory``
    saw is newer. The file is replaced atomically and a symlink at ``out`` is replaced, not followed.
    """
    from .._files import write_atomically

    if bundle.is_expired(now or datetime.now(UTC), grace):
        raise ProofError(BUNDLE_EXPIRED, f"the bundle expired at {bundle.expires}; not saved")
    target = Path(out)
    existing = _existing_bundle(target, bundle.city)
    if existing is not None and existing.sequence > bundle.sequence:
        raise ProofError(BUNDLE_ROLLBACK, f"{target} holds a newer bundle (sequence {existing.sequence}) than the one "
                                          f"fetched ({bundle.sequence}); kept the newer one",
                         sequence=bundle.sequence, newest=existing.sequence)
    if memory is not None:
        memory.remember(bundle)
    write_atomically(target, bundle.token + "\n", mode=0o644)
    return target


def _existing_bundle(path: Path, city: str) -> TrustBundle | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return read_bundle(path.read_bytes()[: MAX_BUNDLE_BYTES + 1], trusted_city=city)
    except (KagaError, OSError):
        return None  # not a bundle of this city (or unreadable): nothing newer to protect
