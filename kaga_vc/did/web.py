"""did:web: DID documents served over HTTPS (https://w3c-ccg.github.io/did-method-web/).

``did:web:kaga.example`` -> ``https://kaga.example/.well-known/did.json``;
``did:web:kaga.example:city:office`` -> ``https://kaga.example/city/office/did.json``; a port is
written ``%3A`` (``did:web:localhost%3A8443``). A resolution has one overall deadline (``timeout``
seconds for the whole exchange, not per read) and a size limit, redirects are not followed, hosts that
resolve to loopback, private or link-local addresses are refused (``kaga:address-not-allowed``) unless
``allow_private_addresses`` (or ``insecure_localhost``, for tests) says so, and the document's ``id``
must be the DID. Resolved documents are kept in
:attr:`WebMethod.documents`, which can be saved and handed to a ``WebMethod(allow_network=False)``
for offline use.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import unquote

from ..errors import INVALID_DID, NOT_FOUND, ResolutionError
from ._resolver import ResolutionOptions, ResolutionResult
from ._syntax import DID

JSONObject = dict[str, Any]
WEB_UNREACHABLE = "kaga:did-web-unreachable"
MAX_DOCUMENT_BYTES = 256 * 1024
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                   r"[A-Za-z0-9])?(?::\d{1,5})?$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=@-]+$")


def did_web_url(did: str | DID, *, insecure_localhost: bool = False) -> str:
    """The URL of the DID document of a did:web (did:web method specification §3.2 Read)."""
    parsed = did if isinstance(did, DID) else DID.parse(did)
    if parsed.method != "web":
        raise ResolutionError(INVALID_DID, f"not a did:web: {str(parsed)[:100]}")
    parts = parsed.method_specific_id.split(":")
    host = unquote(parts[0])
    if not _HOST.match(host) or any(not _SEGMENT.match(unquote(p)) or unquote(p) in (".", "..") for p in parts[1:]):
        raise ResolutionError(INVALID_DID, f"not a valid did:web: {str(parsed)[:100]}")
    path = "/".join(unquote(p) for p in parts[1:]) or ".well-known"
    bare_host = host.split(":")[0]
    scheme = "http" if insecure_localhost and bare_host in ("localhost", "127.0.0.1") else "https"
    return f"{scheme}://{host}/{path}/did.json"


class WebMethod:
    """did:web resolution: over HTTPS when ``allow_network``, else from ``documents`` only."""

    method: ClassVar[str] = "web"

    def __init__(self, *, allow_network: bool = True, documents: Mapping[str, JSONObject] | None = None,
                 timeout: float = 5.0, max_bytes: int = MAX_DOCUMENT_BYTES, insecure_localhost: bool = False,
                 allow_private_addresses: bool = False, ca_file: str | None = None) -> None:
        self.allow_network = allow_network
        self.documents: dict[str, JSONObject] = dict(documents or {})
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.insecure_localhost = insecure_localhost
        self.allow_private_addresses = allow_private_addresses or insecure_localhost
        self.ca_file = ca_file  # None: $REQUESTS_CA_BUNDLE, else $SSL_CERT_FILE, else the system's authorities

    def resolve(self, did: DID, options: ResolutionOptions) -> ResolutionResult:
        url = did_web_url(did, insecure_localhost=self.insecure_localhost)
        key = str(did)
        if key in self.documents:
            return ResolutionResult(self.documents[key], {}, {"contentType": options.accept, "cached": True})
        if not self.allow_network:
            raise ResolutionError(NOT_FOUND, f"{key} is not cached and network access is not allowed")
        document = self._fetch(url)
        if document.get("id") != key:
            raise ResolutionError(NOT_FOUND, f"the document at {url} is not the document of {key}")
        self.documents[key] = document
        return ResolutionResult(document, {}, {"contentType": options.accept, "retrieved": int(time.time())})

    def _fetch(self, url: str) -> JSONObject:
        from .._http import FetchFailed, http_get
        from ..errors import InputError

        try:
            fetched = http_get(url, deadline=self.timeout, max_bytes=self.max_bytes,
                               accept="application/did+json, application/json",
                               allow_private_addresses=self.allow_private_addresses, ca_file=self.ca_file)
        except FetchFailed as exc:
            raise ResolutionError(WEB_UNREACHABLE, exc.detail) from None
        except InputError as exc:
            raise ResolutionError(exc.code, exc.detail) from None
        if fetched.status in (404, 410):
            raise ResolutionError(NOT_FOUND, f"{url}: HTTP {fetched.status}")
        if fetched.status != 200:
            raise ResolutionError(WEB_UNREACHABLE, f"{url}: HTTP {fetched.status}")
        body = fetched.body
        if len(body) > self.max_bytes:
            raise ResolutionError(NOT_FOUND, f"{url}: the DID document exceeds {self.max_bytes} bytes")
        try:
            document = json.loads(body)
        except ValueError:
            raise ResolutionError(NOT_FOUND, f"{url}: not a JSON DID document") from None
        if not isinstance(document, dict):
            raise ResolutionError(NOT_FOUND, f"{url}: not a JSON DID document")
        return document
