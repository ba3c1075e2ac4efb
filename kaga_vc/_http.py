"""One small HTTP(S) GET for the few online steps (did:web, ``bundle fetch``): an overall deadline, a size
limit, no redirects, and no private, loopback or link-local addresses unless the caller allows them.

``requests``' timeout is per socket operation: a server that trickles one byte per second keeps a
"2 s timeout" read going for as long as it likes. Here the whole exchange — name lookup excepted,
connect, TLS, headers, body — must finish before one deadline. The host name is resolved once, every
address is checked, and the connection goes to the checked address (TLS still verifies the name), so
a DNS answer cannot point the fetch at ``169.254.169.254`` or ``127.0.0.1`` (SSRF, DNS rebinding).

TLS trusts the system's certificate authorities, or exactly the PEM file named by the caller's
``ca_file`` (the CLI's ``--ca-file``), else by ``$REQUESTS_CA_BUNDLE``, else by ``$SSL_CERT_FILE`` —
the variables a corporate proxy or a private CA already sets for pip and requests.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import (
    ADDRESS_NOT_ALLOWED,
    FETCH_FAILED,
    MALFORMED_VALUE_ERROR,
    URL_NOT_ALLOWED,
    InputError,
    UnavailableError,
)

#: where a CA bundle may be named, first match wins (after the caller's own ``ca_file``)
CA_ENV = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


class FetchFailed(UnavailableError):
    """The server could not be read in time (a could-not-check condition for callers)."""

    default_code = FETCH_FAILED


@dataclass(frozen=True, slots=True)
class FetchedBody:
    status: int
    body: bytes


def is_public_address(address: str) -> bool:
    """False for loopback, private (RFC 1918, ULA), link-local, multicast, reserved and unspecified addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or getattr(ip, "is_site_local", False))


def ca_file_in_use(ca_file: str | os.PathLike[str] | None = None) -> str | None:
    """The CA bundle TLS will trust: ``ca_file``, else ``$REQUESTS_CA_BUNDLE``, else ``$SSL_CERT_FILE``
    (None: the system's authorities)."""
    if ca_file is not None and os.fspath(ca_file):
        return os.fspath(ca_file)
    return next((os.environ[name] for name in CA_ENV if os.environ.get(name)), None)


def tls_context(ca_file: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A verifying TLS context (hostname checked) over :func:`ca_file_in_use`.

    An unreadable or empty CA file is the caller's input error (``MALFORMED_VALUE_ERROR``), never a
    silent fall-back to the system's authorities.
    """
    chosen = ca_file_in_use(ca_file)
    if chosen is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=chosen)
    except (OSError, ssl.SSLError, ValueError):
        raise InputError(MALFORMED_VALUE_ERROR, f"the CA file {chosen} cannot be read as PEM certificates") from None


def http_get(url: str, *, deadline: float, max_bytes: int, accept: str,
             allow_private_addresses: bool = False, ca_file: str | os.PathLike[str] | None = None) -> FetchedBody:
    """GET ``url`` (http or https) within ``deadline`` seconds overall; the body is cut at ``max_bytes + 1``.

    Raises InputError ``kaga:address-not-allowed`` for a host resolving to a non-public address (unless
    ``allow_private_addresses``) and :class:`FetchFailed` for anything that goes wrong on the wire,
    the deadline included. Redirects are returned as they are (status 3xx), never followed. HTTPS
    trusts :func:`tls_context` (``ca_file``, else the CA environment variables, else the system).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(URL_NOT_ALLOWED, "only http(s) URLs with a host are fetched")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    end = time.monotonic() + deadline
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchFailed(detail=f"cannot resolve {host}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchFailed(detail=f"cannot resolve {host}")
    if not allow_private_addresses:
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            raise InputError(ADDRESS_NOT_ALLOWED, f"{host} resolves to a non-public address ({refused[0]}); "
                                                  "refusing to fetch it unless private addresses are allowed")
    context = tls_context(ca_file) if parts.scheme == "https" else None
    target = f"{parts.path or '/'}{'?' + parts.query if parts.query else ''}"

    def remaining() -> float:
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline")
        return left

    conn: http.client.HTTPConnection | None = None
    try:
        sock = socket.create_connection((addresses[0], port), timeout=remaining())
        if context is not None:
            sock.settimeout(remaining())
            sock = context.wrap_socket(sock, server_hostname=host)
        conn = http.client.HTTPConnection(host, port, timeout=remaining())
        conn.sock = sock
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.putheader("Accept", accept)
        conn.putheader("Accept-Encoding", "identity")
        conn.endheaders()
        sock.settimeout(remaining())
        response = conn.getresponse()
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            sock.settimeout(remaining())
            chunk = response.read1(min(65536, max_bytes + 1 - size))  # one recv: a trickle cannot stretch it
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        remaining()
        return FetchedBody(response.status, b"".join(chunks))
    except (OSError, http.client.HTTPException, ssl.SSLError, TimeoutError, ValueError) as exc:
        reason = "the overall deadline passed" if isinstance(exc, TimeoutError) else type(exc).__name__
        raise FetchFailed(detail=f"cannot read {url}: {reason}") from None
    finally:
        if conn is not None:
            conn.close()
