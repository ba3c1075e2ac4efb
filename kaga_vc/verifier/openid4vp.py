"""OpenID for Verifiable Presentations 1.0 at the shop: DCQL, a signed request object by reference, direct_post.

A shop's request (:func:`create_openid4vp_request`) is two views of one thing:

- the **internal request** — exactly what ``kaga-vc request create`` makes (:func:`create_request`:
  the shop's did:key, a fresh nonce, purpose, requested claims) — which the response is verified
  against by :func:`~kaga_vc.verifier.verify_response`, the same pipeline, policy, trust bundle and
  nonce store as a KVP1 response (so the access-log entry is the same whichever protocol carried it);
- the **OpenID4VP Authorization Request** (§5): a request object (JAR, RFC 9101; header ``typ``
  ``oauth-authz-req+jwt``, signed by the shop's did:key) with ``client_id``
  ``decentralized_identifier:<did>`` (§5.9.3), ``response_type`` ``vp_token``, ``response_mode``
  ``direct_post`` with a ``response_uri``, the same ``nonce``, a ``state`` and a ``dcql_query``
  (§6). The wallet fetches it from ``request_uri`` (the ``openid4vp://`` QR code holds only
  ``client_id`` and ``request_uri``).

The wallet posts ``vp_token`` (a JSON object: DCQL credential query id → array of presentations,
§8.1) and ``state`` to ``response_uri`` (:func:`handle_direct_post`). Key binding: an SD-JWT VC's
KB-JWT must carry ``aud`` = the ``client_id`` and ``nonce`` = the request's (Appendix B.3.6).

Pending requests live in a small SQLite store next to the nonce store (:class:`OpenID4VPStore`):
the shop's network may be cut from the internet, everything here is local.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote

from .._sqlite import use_wal
from ..credentials.kaga import CredentialKind
from ..errors import OPENID4VP_REQUEST_UNKNOWN, OPENID4VP_RESPONSE_INVALID, ProtocolError
from ..keys import Signer
from ..results import VerificationResult
from .request import ANY_TYPE, DEFAULT_LIFETIME, CredentialQuery, PresentationRequest, create_request

JSONObject = dict[str, Any]
CLIENT_ID_PREFIX = "decentralized_identifier:"
REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
SCHEME = "openid4vp://"
REQUEST_PATH = "/openid4vp/request/"
RESPONSE_PATH = "/openid4vp/response"
WALLET_AUDIENCE = "https://self-issued.me/v2"  # §5.8: static discovery metadata
MAX_VP_TOKEN = 256 * 1024
KB_ALGS = ["EdDSA", "ES256", "ES256K"]


def _vct_values(type_name: str) -> list[str]:
    kinds = list(CredentialKind) if type_name == ANY_TYPE else [CredentialKind.parse(type_name)]
    return [kind.spec.vct for kind in kinds]


def dcql_query(credentials: Sequence[CredentialQuery]) -> JSONObject:
    """The DCQL query (§6) for the requested claims: one SD-JWT VC query per credential asked for."""
    queries = []
    for index, query in enumerate(credentials):
        queries.append({
            "id": f"q{index}",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": _vct_values(query.type)},
            "claims": [{"path": claim.split(".")} for claim in query.claims],
        })
    return {"credentials": queries}


@dataclass(frozen=True, slots=True)
class OpenID4VPRequest:
    """A pending shop request: the internal request, its request object and the QR code's URI."""

    handle: str  # public, random: in the request_uri and as ``state``
    request: PresentationRequest
    client_id: str
    request_object: str
    uri: str

    @property
    def expires(self) -> datetime:
        return self.request.expires


def create_openid4vp_request(
    *,
    signer: Signer,
    purpose: str,
    credentials: Sequence[CredentialQuery],
    base_url: str,
    location: str | None = None,
    name: str | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
    randbytes: Callable[[int], bytes] = secrets.token_bytes,
) -> OpenID4VPRequest:
    """Create the internal request and its signed OpenID4VP request object; the URI goes in a QR code.

    ``base_url`` is where the wallet reaches this verifier (on the shop's network):
    ``<base>/openid4vp/request/<handle>`` serves the request object, ``<base>/openid4vp/response``
    takes the ``direct_post``. ``name`` (the shop's name) goes into the internal request and into
    ``client_metadata.client_name`` (RFC 7591 §2, which OpenID4VP §5.1 ``client_metadata`` carries),
    so a standard wallet can show whom it is presenting to before the resident consents.
    """
    from ..proofs.jose import alg_for_key_type, sign_compact

    internal = create_request(signer=signer, purpose=purpose, credentials=credentials, location=location,
                              name=name, lifetime=lifetime, now=now, randbytes=randbytes)
    handle = randbytes(16).hex()
    base = base_url.rstrip("/")
    client_id = CLIENT_ID_PREFIX + internal.verifier
    metadata: JSONObject = {"vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": ["EdDSA"],
                                                                   "kb-jwt_alg_values": KB_ALGS}}}
    if internal.name:
        metadata["client_name"] = internal.name
    payload = {
        "aud": WALLET_AUDIENCE,
        "client_id": client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": base + RESPONSE_PATH,
        "nonce": internal.nonce,
        "state": handle,
        "dcql_query": dcql_query(credentials),
        "client_metadata": metadata,
        "iat": int(internal.created.timestamp()),
        "exp": int(internal.expires.timestamp()),
    }
    header = {"alg": alg_for_key_type(signer.key_type), "typ": REQUEST_OBJECT_TYP, "kid": signer.key_id}
    request_object = sign_compact(header, payload, signer)
    request_uri = base + REQUEST_PATH + handle
    uri = f"{SCHEME}?client_id={quote(client_id, safe='')}&request_uri={quote(request_uri, safe='')}"
    return OpenID4VPRequest(handle, internal, client_id, request_object, uri)


# -- the store of pending requests -------------------------------------------------------------
_SCHEMA = """
CREATE TABLE IF NOT EXISTS openid4vp_requests (
    handle         TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    internal       TEXT NOT NULL,
    request_object TEXT NOT NULL,
    uri            TEXT NOT NULL,
    expires_at     INTEGER NOT NULL,
    result         TEXT
)
"""


def default_openid4vp_path(home: str | os.PathLike[str] | None = None) -> Path:
    """``$KAGA_VC_HOME/verifier/openid4vp.sqlite3``, beside the nonce store."""
    from .nonces import default_nonce_path

    return default_nonce_path(home).parent / "openid4vp.sqlite3"


class OpenID4VPStore:
    """Pending OpenID4VP requests and the outcome of each (SQLite, WAL, one row per request)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        use_wal(self._conn)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, request: OpenID4VPRequest) -> None:
        self._conn.execute(
            "INSERT INTO openid4vp_requests (handle, client_id, internal, request_object, uri, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (request.handle, request.client_id, request.request.token, request.request_object, request.uri,
             int(request.expires.timestamp())))

    def get(self, handle: Any) -> OpenID4VPRequest:
        """The pending request for ``handle`` (= ``state``); ``kaga:openid4vp-request-unknown`` if none."""
        from .request import parse_request

        if not isinstance(handle, str) or not handle or len(handle) > 64:
            raise ProtocolError(OPENID4VP_REQUEST_UNKNOWN, "no such request", status=404)
        row = self._conn.execute("SELECT handle, client_id, internal, request_object, uri FROM openid4vp_requests "
                                 "WHERE handle = ?", (handle,)).fetchone()
        if row is None:
            raise ProtocolError(OPENID4VP_REQUEST_UNKNOWN, "no such request", status=404)
        internal, _ = parse_request(row[2])
        return OpenID4VPRequest(row[0], internal, row[1], row[3], row[4])

    def set_result(self, handle: str, summary: JSONObject) -> None:
        """Keep the first outcome for the counter's page: a later answer (a replay) cannot change what it shows."""
        self._conn.execute("UPDATE openid4vp_requests SET result = ? WHERE handle = ? AND result IS NULL",
                           (json.dumps(summary, ensure_ascii=False), handle))

    def result(self, handle: str) -> JSONObject | None:
        row = self._conn.execute("SELECT result FROM openid4vp_requests WHERE handle = ?", (handle,)).fetchone()
        if row is None:
            raise ProtocolError(OPENID4VP_REQUEST_UNKNOWN, "no such request", status=404)
        return json.loads(row[0]) if row[0] else None

    def purge(self, *, now: datetime | None = None, keep: timedelta = timedelta(hours=1)) -> int:
        limit = int(((now or datetime.now(UTC)) - keep).timestamp())
        return self._conn.execute("DELETE FROM openid4vp_requests WHERE expires_at < ?", (limit,)).rowcount


# -- the wallet's direct_post ----------------------------------------------------------------------
def parse_vp_token(value: Any, request: OpenID4VPRequest) -> tuple[str | JSONObject, ...]:
    """The presentations of a ``vp_token`` (§8.1): a JSON object, DCQL query id → non-empty array.

    Only the query ids of this request are accepted; raises ``kaga:openid4vp-response-invalid``.
    """
    def refuse(detail: str) -> ProtocolError:
        return ProtocolError(OPENID4VP_RESPONSE_INVALID, detail)

    if not isinstance(value, str) or not value or len(value) > MAX_VP_TOKEN:
        raise refuse("vp_token is missing or too large")
    from ..credentials import parse_json
    from ..errors import KagaError

    try:
        token = parse_json(value, max_bytes=MAX_VP_TOKEN)
    except KagaError as error:
        raise refuse(f"vp_token is not a JSON object: {error.detail}") from None
    if not isinstance(token, dict) or not token:
        raise refuse("vp_token must be a JSON object keyed by DCQL credential query id")
    known = {q["id"] for q in dcql_query(request.request.credentials)["credentials"]}
    presentations: list[str | JSONObject] = []
    for query_id, items in token.items():
        if query_id not in known:
            raise refuse(f"vp_token answers an unknown query {query_id[:40]!r}")
        if not isinstance(items, list) or not items or not all(isinstance(i, (str, dict)) for i in items):
            raise refuse("each vp_token value must be a non-empty array of presentations")
        presentations.extend(items)
    return tuple(presentations)


def handle_direct_post(
    store: OpenID4VPStore,
    form: Mapping[str, Any],
    *,
    bundle: Any,
    policy: Any = None,
    nonce_store: Any = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = timedelta(minutes=5),
    on_complete: Any = None,
) -> tuple[OpenID4VPRequest, VerificationResult]:
    """Verify a wallet's Authorization Response (``direct_post``: form fields ``vp_token`` and ``state``).

    The presentations go through :func:`~kaga_vc.verifier.verify_response` against the internal
    request with ``audience`` = the ``client_id``: signatures, key binding, nonce (single use, in
    ``nonce_store``), trust bundle, status and policy exactly as for KVP1. Raises
    ``kaga:openid4vp-request-unknown`` / ``kaga:openid4vp-response-invalid`` for a message that
    answers no request of ours (nothing is verified or recorded then); every other outcome is in
    the returned result. ``on_complete`` is :func:`~kaga_vc.verifier.verify_response`'s: the
    access-log record, written before the nonce is committed.
    """
    from ._verify import verify_response
    from .response import PresentationResponse

    if form.get("error"):  # §8.5: the wallet declined
        raise ProtocolError(OPENID4VP_RESPONSE_INVALID, f"the wallet answered with an error: {str(form['error'])[:80]}")
    request = store.get(form.get("state"))
    presentations = parse_vp_token(form.get("vp_token"), request)
    result = verify_response(PresentationResponse(request.request.id, presentations), request=request.request,
                             bundle=bundle, policy=policy, nonce_store=nonce_store, now=now,
                             max_clock_skew=max_clock_skew, audience=request.client_id, on_complete=on_complete)
    return request, result


__all__ = [
    "CLIENT_ID_PREFIX",
    "REQUEST_OBJECT_TYP",
    "OpenID4VPRequest",
    "OpenID4VPStore",
    "create_openid4vp_request",
    "dcql_query",
    "default_openid4vp_path",
    "handle_direct_post",
    "parse_vp_token",
]
