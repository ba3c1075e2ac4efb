"""The resident's wallet over HTTP: receive by OpenID4VCI (pre-authorized code + PIN), present by OpenID4VP.

:func:`receive_offer` follows an ``openid-credential-offer://`` URI: issuer metadata, Token Request with
the PIN, ``c_nonce``, a key proof (``openid4vci-proof+jwt``, ``kid`` the wallet's did:key) and the
Credential Request; the SD-JWT VC received is checked to be bound to the wallet's key and stored.

:func:`present_openid4vp` follows an ``openid4vp://`` URI: it fetches the request object from
``request_uri``, checks it is signed by the DID its ``client_id`` names
(``decentralized_identifier:did:…``, and the expected verifier if the holder gave one), answers the
DCQL query with SD-JWT VCs disclosing only the requested claims, with a KB-JWT (``aud`` = client_id,
``nonce`` = the request's), and posts ``vp_token`` + ``state`` to ``response_uri`` (``direct_post``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..credentials import SD_JWT
from ..did import DIDURL, KeyMethod, Resolver
from ..errors import (
    MALFORMED_VALUE_ERROR,
    REQUEST_INVALID,
    REQUEST_NOT_SATISFIABLE,
    REQUEST_VERIFIER_MISMATCH,
    InputError,
    ProofError,
    ProtocolError,
)
from .wallet import StoredCredential, Wallet

JSONObject = dict[str, Any]
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
TIMEOUT = 15.0


def _http(session: Any) -> Any:
    if session is not None:
        return session
    import requests

    return requests.Session()


def _json(response: Any, what: str) -> JSONObject:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400:
        code = data.get("kaga_code") if isinstance(data, dict) else None
        error = data.get("error") if isinstance(data, dict) else None
        detail = data.get("error_description") if isinstance(data, dict) else None
        raise ProtocolError(code or "kaga:http-error", f"{what}: {detail or response.status_code}",
                            oauth_error=str(error or "server_error"), status=response.status_code)
    if not isinstance(data, dict):
        raise InputError(MALFORMED_VALUE_ERROR, f"{what}: the answer is not a JSON object")
    return data


def parse_offer_uri(uri: str) -> JSONObject:
    """The Credential Offer in an ``openid-credential-offer://?credential_offer=…`` URI (by value)."""
    parts = urlsplit(uri)
    if parts.scheme != "openid-credential-offer":
        raise InputError(MALFORMED_VALUE_ERROR, "not an openid-credential-offer:// URI")
    values = parse_qs(parts.query).get("credential_offer")
    if not values:
        raise InputError(MALFORMED_VALUE_ERROR, "the offer URI carries no credential_offer (by reference is not supported)")
    try:
        offer = json.loads(values[0])
    except ValueError:
        raise InputError(MALFORMED_VALUE_ERROR, "the credential offer is not JSON") from None
    if not isinstance(offer, dict) or not isinstance(offer.get("credential_issuer"), str):
        raise InputError(MALFORMED_VALUE_ERROR, "the credential offer names no credential_issuer")
    return offer


def receive_offer(wallet: Wallet, uri: str, *, tx_code: str | None, session: Any = None) -> StoredCredential:
    """Redeem an offer with the PIN and store the credential; ProtocolError with the issuer's code on refusal."""
    from ..proofs.jose import sign_compact

    http = _http(session)
    offer = parse_offer_uri(uri)
    issuer = offer["credential_issuer"].rstrip("/")
    metadata = _json(http.get(issuer + "/.well-known/openid-credential-issuer", timeout=TIMEOUT), "issuer metadata")
    if metadata.get("credential_issuer", "").rstrip("/") != issuer:
        raise InputError(MALFORMED_VALUE_ERROR, "the issuer metadata is for another credential issuer")
    server = _json(http.get(issuer + "/.well-known/oauth-authorization-server", timeout=TIMEOUT), "AS metadata")
    grant = offer.get("grants", {}).get(PRE_AUTHORIZED_GRANT)
    if not isinstance(grant, dict) or not isinstance(grant.get("pre-authorized_code"), str):
        raise InputError(MALFORMED_VALUE_ERROR, "the offer has no pre-authorized code")
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": grant["pre-authorized_code"]}
    if "tx_code" in grant:
        if not tx_code:
            raise InputError(MALFORMED_VALUE_ERROR, "this offer needs its PIN (transaction code)")
        form["tx_code"] = tx_code
    token = _json(http.post(server["token_endpoint"], data=form, timeout=TIMEOUT), "token request")
    nonce = _json(http.post(metadata["nonce_endpoint"], timeout=TIMEOUT), "nonce request")["c_nonce"]
    signer = wallet.signer
    header = {"alg": "EdDSA" if signer.key_type.value == "Ed25519" else "ES256", "typ": "openid4vci-proof+jwt",
              "kid": signer.key_id}
    proof = sign_compact(header, {"aud": issuer, "iat": int(time.time()), "nonce": nonce}, signer)
    configuration = offer.get("credential_configuration_ids", [None])[0]
    answer = _json(http.post(metadata["credential_endpoint"], timeout=TIMEOUT,
                             headers={"Authorization": f"Bearer {token['access_token']}"},
                             json={"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}),
                   "credential request")
    credentials = answer.get("credentials")
    if not isinstance(credentials, list) or not credentials or not isinstance(credentials[0], dict):
        raise InputError(MALFORMED_VALUE_ERROR, "the credential response holds no credential")
    return wallet.add(credentials[0]["credential"])  # refuses one not bound to this wallet's key


@dataclass(frozen=True, slots=True)
class OpenID4VPAnswer:
    """What the wallet sent and what the verifier said."""

    client_id: str
    disclosed: dict[str, list[str]]
    status: int
    body: Any
    verifier_name: str | None = None
    """``client_metadata.client_name`` of the signed request object: who the wallet presented to."""


MAX_CLIENT_NAME = 200


def _verify_request_object(token: str, client_id: str, resolver: Resolver) -> JSONObject:
    from ..proofs.jose import parse_compact, verify_jws_with_did

    jws = parse_compact(token)
    if jws.header.get("typ") != "oauth-authz-req+jwt":
        raise InputError(REQUEST_INVALID, "the request object's typ is not oauth-authz-req+jwt")
    if not client_id.startswith("decentralized_identifier:did:"):
        raise InputError(REQUEST_INVALID, "only decentralized_identifier: client ids are supported")
    did = client_id.removeprefix("decentralized_identifier:")
    kid = jws.header.get("kid")
    if not isinstance(kid, str) or str(DIDURL.parse(kid).did) != did:
        raise ProofError(REQUEST_VERIFIER_MISMATCH, "the request object is not signed by the client_id's DID")
    verify_jws_with_did(jws, resolver=resolver, expected_did=did, relationship="authentication", require_kid=True)
    payload = jws.payload
    if payload.get("client_id") != client_id:
        raise ProofError(REQUEST_VERIFIER_MISMATCH, "the request object's client_id is not the one in the QR code")
    exp = payload.get("exp")
    if not isinstance(exp, (int, float)) or exp < time.time() - 300:
        raise ProofError("kaga:request-expired", "the request object has expired")
    return payload


def _choose(wallet: Wallet, query: JSONObject) -> tuple[StoredCredential, list[str]]:
    vcts = query.get("meta", {}).get("vct_values") or []
    types = {str(v).rstrip("/").rsplit("/", 1)[-1] for v in vcts}
    paths = [".".join(str(p) for p in claim.get("path", [])) for claim in query.get("claims", [])]
    for stored in reversed(wallet.credentials()):
        if stored.format != SD_JWT or (types and not types & set(stored.types)):
            continue
        if all(p.split(".")[0] in stored.claims for p in paths):
            return stored, paths
    raise InputError(REQUEST_NOT_SATISFIABLE, f"the wallet holds no SD-JWT VC for {sorted(types)} with {paths}")


def present_openid4vp(wallet: Wallet, uri: str, *, resolver: Resolver | None = None,
                      expected_verifier: str | Iterable[str] | None = None, session: Any = None,
                      vp_token_hook: Any = None) -> OpenID4VPAnswer:
    """Answer an ``openid4vp://`` request over HTTP (see the module docstring).

    ``vp_token_hook(vp_token_dict) -> dict`` lets a test tamper with what is sent.
    """
    from ..proofs.jose.sd_jwt import present_sd_jwt

    http = _http(session)
    parts = urlsplit(uri)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    client_id, request_uri = params.get("client_id"), params.get("request_uri")
    if parts.scheme != "openid4vp" or not client_id or not request_uri:
        raise InputError(REQUEST_INVALID, "not an openid4vp:// URI with client_id and request_uri")
    response = http.get(request_uri, timeout=TIMEOUT)
    if response.status_code != 200:
        raise ProtocolError("kaga:openid4vp-request-unknown", f"request_uri answered {response.status_code}",
                            status=response.status_code)
    payload = _verify_request_object(response.text.strip(), client_id, resolver or Resolver({"key": KeyMethod()}))
    did = client_id.removeprefix("decentralized_identifier:")
    if expected_verifier is not None:
        expected = {expected_verifier} if isinstance(expected_verifier, str) else set(expected_verifier)
        if did not in expected:
            raise ProofError(REQUEST_VERIFIER_MISMATCH, f"the request comes from {did}, not the expected verifier")
    if payload.get("response_mode") != "direct_post" or not isinstance(payload.get("response_uri"), str):
        raise InputError(REQUEST_INVALID, "only response_mode direct_post with a response_uri is supported")
    queries = payload.get("dcql_query", {}).get("credentials")
    if not isinstance(queries, list) or not queries:
        raise InputError(REQUEST_INVALID, "the request has no DCQL credential query")
    vp_token: dict[str, list[str]] = {}
    disclosed: dict[str, list[str]] = {}
    for query in queries:
        stored, paths = _choose(wallet, query)
        vp_token[str(query["id"])] = [present_sd_jwt(str(stored.data), disclose=paths, holder_signer=wallet.signer,
                                                     audience=client_id, nonce=str(payload["nonce"]))]
        disclosed[stored.id] = paths
    if vp_token_hook is not None:
        vp_token = vp_token_hook(vp_token)
    posted = http.post(payload["response_uri"], timeout=TIMEOUT,
                       data={"vp_token": json.dumps(vp_token), "state": payload.get("state", "")})
    try:
        body = posted.json()
    except ValueError:
        body = posted.text
    return OpenID4VPAnswer(client_id, disclosed, posted.status_code, body, _client_name(payload))


def _client_name(payload: JSONObject) -> str | None:
    """The verifier's display name from the signed request object, if it is a short printable string."""
    metadata = payload.get("client_metadata")
    name = metadata.get("client_name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_CLIENT_NAME or not name.isprintable():
        return None
    return name.strip()


__all__ = ["OpenID4VPAnswer", "parse_offer_uri", "present_openid4vp", "receive_offer"]
