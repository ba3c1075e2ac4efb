"""Hosting at exactly the URLs that credentials and bundles name, with content types, ETags, caching.

- Status list credentials (``GET <issuer's status base>/{list}/{purpose}``): built from the issuance
  records when asked (so they are never older than the records), GZIP-compressed bitstring of at least
  131,072 entries (16 KiB uncompressed), signed by the issuer, with ``validUntil`` and ``ttl``. A signed
  copy is reused while its bits are unchanged and it is younger than :data:`RESIGN_AFTER`.
- The city's JSON-LD contexts (``/ns/credentials/v1``, ``/ns/credentials/programmes/v1``) and the JSON Schemas of the Kaga credential
  types (``/ns/credentials/schemas/{file}``): the exact bytes shipped in the package, whose digests the
  credentials (``digestSRI``) and bundles name.
- The current trust bundle (``/vc/trust-bundle.jwt``, and ``/trust-bundle.jwt``), read from the file
  ``--bundle`` names at every request (``kaga-vc bundle sync --out`` replaces it atomically); its
  ``ETag`` carries its sequence when it has one.
- ``/.well-known/did.json`` when the city also has a did:web (``--did-document FILE``).

Every response has a weak ``ETag`` (SHA-256 of the body) and honours ``If-None-Match`` with 304.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..errors import CREDENTIAL_UNKNOWN, NOT_FOUND_HTTP, STATUS_LIST_UNAVAILABLE, InputError, StatusError
from ._issuers import STATUS_LIST_TTL, STATUS_LIST_VALIDITY, ServedIssuer
from ._problems import problem_response
from ._state import ServerState

JSONObject = dict[str, Any]

RESIGN_AFTER = 60.0  # seconds a signed list credential is reused while its bits do not change
LIST_CACHE_CONTROL = "public, max-age=60"
STATIC_CACHE_CONTROL = "public, max-age=86400"
BUNDLE_CACHE_CONTROL = "public, max-age=300"
KAGA_CONTEXT_PATH = "/ns/credentials/v1"
PROGRAMMES_CONTEXT_PATH = "/ns/credentials/programmes/v1"
VC_MEDIA_TYPE = "application/vc"  # VCDM 2.0 §6.2 (IANA-registered): a JSON-LD credential with embedded proof
SCHEMA_PATH = "/ns/credentials/schemas"


@dataclass(slots=True)
class _Signed:
    bits: str
    body: bytes
    document: JSONObject
    signed_at: float


class StatusListHost:
    """The served issuers' status list credentials, signed on demand, and status changes."""

    def __init__(self, issuers: Mapping[str, ServedIssuer]) -> None:
        self.issuers = {name: i for name, i in issuers.items() if i.status is not None}
        self._cache: dict[tuple[str, str, str], _Signed] = {}
        self._lock = threading.Lock()

    def issuer_for_url(self, url: str) -> tuple[ServedIssuer, str, str] | None:
        """``(issuer, list id, purpose)`` for a status list URL one of our issuers writes into credentials."""
        for issuer in self.issuers.values():
            base = str(issuer.status.base_url) + "/"
            if url.startswith(base):
                rest = url[len(base):].split("/")
                if len(rest) == 2 and all(rest):
                    return issuer, rest[0], rest[1]
        return None

    def signed(self, issuer: ServedIssuer, list_id: str, purpose: str) -> _Signed:
        """The signed list credential; StatusError ``kaga:status-list-unavailable`` for an unknown list."""
        from ..status import StatusPurpose

        try:
            purpose = StatusPurpose(purpose).value
        except ValueError:
            raise StatusError(STATUS_LIST_UNAVAILABLE, "no such status purpose") from None
        if not any(info.list_id == list_id for info in issuer.records.status_lists()):
            raise StatusError(STATUS_LIST_UNAVAILABLE, "no such status list")
        flagged = issuer.records.flagged_indices(list_id, purpose)
        bits = hashlib.sha256(json.dumps(sorted(flagged)).encode()).hexdigest()
        key = (issuer.name, list_id, purpose)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached.bits == bits and time.time() - cached.signed_at < RESIGN_AFTER:
            return cached
        unsigned = issuer.status.unsigned_list_credential(list_id, purpose, issuer=issuer.did,
                                                          ttl=STATUS_LIST_TTL, valid_for=STATUS_LIST_VALIDITY)
        document = issuer.sign_status_list(unsigned)
        fresh = _Signed(bits, json.dumps(document, ensure_ascii=False).encode(), document, time.time())
        with self._lock:
            self._cache[key] = fresh
        return fresh

    def source(self) -> _HostedSource:
        """A :class:`kaga_vc.status.StatusListSource` over these lists (in process, no HTTP)."""
        return _HostedSource(self)

    def change(self, issuer: ServedIssuer | None, credential_id: str, status: str, staff: str) -> str:
        """Revoke, suspend or reinstate (``active``) a credential of ``issuer`` (or of whichever issuer has it)."""
        candidates = [issuer] if issuer is not None else list(self.issuers.values())
        for candidate in candidates:
            if candidate.records is not None and candidate.records.get(credential_id) is not None:
                lists = candidate.status
                action = {"revoked": lists.revoke, "suspended": lists.suspend, "active": lists.unsuspend}[status]
                action(credential_id, staff=staff)
                with self._lock:  # this worker's copies; the others see the changed bits at their next request
                    for key in [k for k in self._cache if k[0] == candidate.name]:
                        del self._cache[key]
                return status
        raise StatusError(CREDENTIAL_UNKNOWN, "no issuer of this server recorded that credential")


class _HostedSource:
    def __init__(self, host: StatusListHost) -> None:
        self.host = host

    def fetch(self, url: str) -> JSONObject:
        found = self.host.issuer_for_url(url)
        if found is None:
            raise StatusError(STATUS_LIST_UNAVAILABLE, f"status list {url}: not hosted by this server", url=url)
        return self.host.signed(*found).document


# -- responses ------------------------------------------------------------------------------------


def etag_of(body: bytes) -> str:
    """A weak ETag (RFC 9110 §8.8.3) of the body: weak, because the gzip middleware may serve another
    content coding of the same representation under it."""
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def cached_response(request: Request, body: bytes, media_type: str, cache_control: str,
                    etag: str | None = None, extra: Mapping[str, str] | None = None) -> Response:
    """200 with ETag and Cache-Control, or 304 when ``If-None-Match`` names the same ETag."""
    tag = etag or etag_of(body)
    headers = {"ETag": tag, "Cache-Control": cache_control, **(extra or {})}
    wanted = request.headers.get("if-none-match", "")
    if _opaque(tag) in [_opaque(t) for t in wanted.split(",")] or wanted.strip() == "*":  # weak comparison
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


_VC_TYPES = (VC_MEDIA_TYPE, "application/ld+json", "application/json")


def negotiated_vc_type(request: Request) -> str:
    """The media type to serve a credential as: ``application/vc`` unless the client asks only for JSON(-LD).

    ``application/vc`` (VCDM 2.0 §6.2) is not a ``+json`` type, so generic JSON clients (the W3C status
    list suite's, for one, which sends ``Accept: application/ld+json, application/json``) would not
    parse it; the same bytes are served under the type the client accepts (RFC 9110 §12.5.1).
    """
    accepted: list[str] = []
    for part in request.headers.get("accept", "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            continue
        accepted.append(media.lower())
    if not accepted or VC_MEDIA_TYPE in accepted or "*/*" in accepted or "application/*" in accepted:
        return VC_MEDIA_TYPE
    return next((t for t in _VC_TYPES if t in accepted), VC_MEDIA_TYPE)


def _not_found(detail: str = "no such resource") -> Response:
    return problem_response(NOT_FOUND_HTTP, detail, 404)


def _status_route(issuer_name: str) -> Any:
    async def status_list(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        state: ServerState = request.app.state.kaga
        issuer = state.issuers[issuer_name]
        try:
            signed = await run_in_threadpool(state.status_host.signed, issuer, request.path_params["list_id"],
                                             request.path_params["purpose"])
        except StatusError:
            return _not_found("no such status list")
        valid_until = signed.document.get("validUntil", "")
        extra = {"Vary": "Accept", **({"Expires": _http_date(valid_until)} if valid_until else {})}
        return cached_response(request, signed.body, negotiated_vc_type(request), LIST_CACHE_CONTROL, extra=extra)
    return status_list


def _http_date(xsd: str) -> str:
    from email.utils import format_datetime

    try:
        return format_datetime(datetime.fromisoformat(xsd).astimezone(UTC), usegmt=True)
    except ValueError:
        return ""


def _package_bytes(package: str, name: str) -> bytes | None:
    try:
        return resources.files(package).joinpath(name).read_bytes()
    except (FileNotFoundError, OSError):
        return None


async def kaga_context(request: Request) -> Response:
    index = json.loads(_package_bytes("kaga_vc.contexts.kaga", "index.json") or b"{}")
    entry = index.get("https://city.kaga.ishikawa.jp" + request.url.path)
    body = _package_bytes("kaga_vc.contexts.kaga", entry["file"]) if entry else None
    if body is None:
        return _not_found()
    return cached_response(request, body, "application/ld+json", STATIC_CACHE_CONTROL)


async def schema(request: Request) -> Response:
    from ..credentials.kaga import CredentialKind

    name = request.path_params["name"]
    files = {kind.spec.schema_file for kind in CredentialKind}
    if name not in files:
        return _not_found("no such schema")
    body = _package_bytes("kaga_vc.credentials.kaga.schemas", name)
    if body is None:
        return _not_found("no such schema")
    return cached_response(request, body, "application/schema+json", STATIC_CACHE_CONTROL)


def _bundle_sequence(token: bytes) -> str | None:
    from .._encoding import b64url_decode

    try:
        payload = json.loads(b64url_decode(token.split(b".")[1].decode()))
        value = payload.get("sequence")
        return str(value) if isinstance(value, int) else None
    except (ValueError, IndexError, InputError, AttributeError):
        return None


async def trust_bundle(request: Request) -> Response:
    state: ServerState = request.app.state.kaga
    if not state.settings.bundle:
        return _not_found("this server hosts no trust bundle")
    try:
        body = Path(state.settings.bundle).read_bytes().strip()
    except OSError:
        return _not_found("the trust bundle is not there yet")
    sequence = _bundle_sequence(body)
    extra = {"Kaga-Bundle-Sequence": sequence} if sequence is not None else None
    return cached_response(request, body, "application/jwt", BUNDLE_CACHE_CONTROL, extra=extra)


async def did_web(request: Request) -> Response:
    state: ServerState = request.app.state.kaga
    document = state.settings.extra.get("did_document")
    if not document:
        return _not_found("this server hosts no did:web document")
    path = Path(document)
    try:
        body = path.read_bytes()
    except OSError:
        return _not_found("this server hosts no did:web document")
    return cached_response(request, body, "application/did+json", BUNDLE_CACHE_CONTROL)


def routes(state: ServerState) -> list[BaseRoute]:
    from ._issuers import status_path

    state.status_host = StatusListHost(state.issuers)
    out: list[BaseRoute] = [
        Route(KAGA_CONTEXT_PATH, kaga_context, methods=["GET", "HEAD"]),
        Route(PROGRAMMES_CONTEXT_PATH, kaga_context, methods=["GET", "HEAD"]),
        Route(SCHEMA_PATH + "/{name}", schema, methods=["GET", "HEAD"]),
        Route("/vc/trust-bundle.jwt", trust_bundle, methods=["GET", "HEAD"]),
        Route("/trust-bundle.jwt", trust_bundle, methods=["GET", "HEAD"]),
        Route("/.well-known/did.json", did_web, methods=["GET", "HEAD"]),
    ]
    for name, issuer in state.status_host.issuers.items():
        prefix = status_path(issuer)
        if prefix is not None:
            out.append(Route(prefix + "/{list_id}/{purpose}", _status_route(name), methods=["GET", "HEAD"]))
    return out


__all__ = ["StatusListHost", "cached_response", "etag_of", "routes"]
