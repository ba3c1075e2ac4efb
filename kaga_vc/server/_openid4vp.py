"""OpenID4VP and KVP1 at the shop: create a request, serve its request object, take the wallet's answer.

Thin adapters over :mod:`kaga_vc.verifier.openid4vp` and :func:`kaga_vc.verifier.verify_response`:

- ``POST /openid4vp/requests`` ``{"check": "age"|"residency"|"identity"}`` (the counter page) → the
  ``openid4vp://`` URI and its QR code (SVG), the same request as a KVP1 request (for the offline
  wallet) and its QR code, a ``handle``;
- ``GET /openid4vp/request/{handle}`` → the signed request object (``application/oauth-authz-req+jwt``);
- ``POST /openid4vp/response`` (``direct_post``: ``vp_token``, ``state``) → 200 ``{}`` when accepted,
  else 400 with the OAuth error and our stable ``kaga_code``;
- ``POST /openid4vp/requests/{handle}/kvp1`` ``{"response": "KVP1:…"}`` → the verdict (the page's camera);
- ``GET /openid4vp/requests/{handle}`` → ``{"status": "pending"}`` or the verdict (the page polls it).

Both protocols run the same verification (the trust bundle given to ``kaga-vc serve --bundle``, the
policy, the durable nonce store) and leave the same access-log entry, in the log of the server's one
verifier, the shop (its key: ``--verifier-key``, else ``$KAGA_VC_HOME/verifier/verifier-key.json``, the
one ``kaga-vc request create`` uses; created on first use; :mod:`._verifier`). Nothing here needs the
internet.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..errors import MALFORMED_VALUE_ERROR, InputError, ProtocolError
from ..results import VerificationResult
from ..verifier.openid4vp import (
    OpenID4VPStore,
    create_openid4vp_request,
    default_openid4vp_path,
    handle_direct_post,
)
from ..verifier.request import CredentialQuery
from ..verifier.verdict import counter_verdict
from ._http import json_response, read_body, read_json
from ._state import ServerState
from ._verifier import log_key_file, verifier_signer

NO_STORE = {"Cache-Control": "no-store"}
# what the clerk can ask for: purpose and claims
CHECKS: dict[str, tuple[str, tuple[CredentialQuery, ...]]] = {
    "age": ("年齢確認 / age check", (CredentialQuery("*", ("ageOver18",)),)),
    "residency": ("加賀市民の確認 / residency check", (CredentialQuery("ResidencyCredential", ("residentOfKaga",)),)),
    "identity": ("本人確認 / identity check", (CredentialQuery("KycCredential", ("fullName", "birthDate")),)),
}


class ShopVerifier:
    """What the verifier role needs: the shop's signer, bundle, policy, stores and access log."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        settings = state.settings
        self.home = Path(settings.home) if settings.home else _default_home()
        self.requests_path = default_openid4vp_path(self.home)
        from ..verifier.nonces import default_nonce_path

        self.nonces_path = default_nonce_path(self.home)

    def signer(self) -> Any:
        return verifier_signer(self.state)

    def bundle(self) -> str:
        path = self.state.settings.bundle
        if not path:
            raise InputError(MALFORMED_VALUE_ERROR, "this verifier has no trust bundle: start it with --bundle")
        return Path(path).read_text(encoding="utf-8")

    def policy(self) -> Any:
        from ..verifier import Policy

        extra = self.state.settings.extra
        policy = Policy.load(extra["policy"]) if extra.get("policy") else Policy()
        pinned = extra.get("trusted_city") or os.environ.get("KAGA_VC_TRUSTED_CITY")
        return policy.pinned(pinned) if pinned else policy  # the rest of the policy (grace, any-city) kept

    def record(self, result: VerificationResult) -> None:
        """The access-log entry, as ``kaga-vc verify --request`` writes it."""
        from ..accesslog import AccessEntry, AccessLog, load_or_create_log_key, log_url
        from ..did import DIDURL

        signer = self.signer()
        key = load_or_create_log_key(log_key_file(self.state.settings))
        extra = self.state.settings.extra
        entry = AccessEntry.from_verification(result, verifier=str(DIDURL.parse(signer.key_id).did),
                                              verifier_category=extra.get("category"),
                                              verifier_name=extra.get("shop_name"), location=extra.get("shop_location"))
        with AccessLog.open(log_url(self.state.settings.log_url, home=self.home), log_key=key) as log:
            log.record(entry, signer=signer)

    def close(self) -> None:
        return None


def _default_home() -> Path:
    from .._home import default_home

    return default_home()


def _shop(request: Request) -> ShopVerifier:
    found: ShopVerifier = request.app.state.kaga.extras["openid4vp"]
    return found


def _qr_svg(text: str) -> str:
    from ..verifier.qr import make_qr

    return str(make_qr(text).svg_inline(scale=4, border=4, omitsize=True))


def create(shop: ShopVerifier, check: Any, base_url: str) -> dict[str, Any]:
    """A new request for one of :data:`CHECKS`, stored, with both QR codes."""
    if check not in CHECKS:
        raise InputError(MALFORMED_VALUE_ERROR, f"check must be one of {', '.join(CHECKS)}")
    purpose, queries = CHECKS[check]
    extra = shop.state.settings.extra
    made = create_openid4vp_request(signer=shop.signer(), purpose=purpose, credentials=queries, base_url=base_url,
                                    name=extra.get("shop_name"), location=extra.get("shop_location"))
    with OpenID4VPStore(shop.requests_path) as store:
        store.purge()
        store.add(made)
    return {"handle": made.handle, "check": check, "uri": made.uri, "qr": _qr_svg(made.uri),
            "kvp1Request": made.request.token, "kvp1Qr": _qr_svg(made.request.token),
            "expires": made.expires.isoformat(), "claims": made.request.requested_claims}


def _verdict(shop: ShopVerifier, handle: str, requested: list[str], result: VerificationResult,
             protocol: str) -> dict[str, Any]:
    """The counter's verdict, stored for the page; the entry was recorded inside the verification
    (``on_complete``, before the nonce was committed: a failed log write consumes nothing, issue 13)."""
    verdict = {"status": "done", "protocol": protocol, **counter_verdict(result, requested)}
    with OpenID4VPStore(shop.requests_path) as store:
        store.set_result(handle, verdict)
    return verdict


def direct_post(shop: ShopVerifier, form: dict[str, str]) -> tuple[dict[str, Any], VerificationResult]:
    from ..verifier import NonceStore

    with OpenID4VPStore(shop.requests_path) as store, NonceStore(shop.nonces_path) as nonces:
        pending, result = handle_direct_post(store, form, bundle=shop.bundle(), policy=shop.policy(),
                                             nonce_store=nonces, on_complete=shop.record)
    verdict = _verdict(shop, pending.handle, pending.request.requested_claims, result, "openid4vp")
    return verdict, result


def kvp1(shop: ShopVerifier, handle: str, text: Any) -> dict[str, Any]:
    from ..verifier import NonceStore, verify_response

    if not isinstance(text, str) or not text.strip():
        raise InputError(MALFORMED_VALUE_ERROR, "response must be the scanned KVP1 text")
    with OpenID4VPStore(shop.requests_path) as store:
        pending = store.get(handle)
    with NonceStore(shop.nonces_path) as nonces:
        result = verify_response(text, request=pending.request, bundle=shop.bundle(), policy=shop.policy(),
                                 nonce_store=nonces, on_complete=shop.record)
    return _verdict(shop, pending.handle, pending.request.requested_claims, result, "kvp1")


def status(shop: ShopVerifier, handle: str) -> dict[str, Any]:
    with OpenID4VPStore(shop.requests_path) as store:
        found = store.result(handle)
    return found or {"status": "pending"}


# -- routes --------------------------------------------------------------------------------------
async def create_route(request: Request) -> Response:
    body = await read_json(request)
    check = body.get("check") if isinstance(body, dict) else None
    base = str(request.app.state.kaga.settings.base_url)
    return json_response(await run_in_threadpool(create, _shop(request), check, base), 201, headers=NO_STORE)


async def request_object_route(request: Request) -> Response:
    def load() -> str:
        with OpenID4VPStore(_shop(request).requests_path) as store:
            return store.get(request.path_params["handle"]).request_object

    try:
        token = await run_in_threadpool(load)
    except ProtocolError as error:
        return json_response(error.to_oauth(), error.status, headers=NO_STORE)
    return Response(token, media_type="application/oauth-authz-req+jwt", headers=NO_STORE)


async def response_route(request: Request) -> Response:
    from urllib.parse import parse_qsl

    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        error = ProtocolError("kaga:openid4vp-response-invalid", "direct_post is application/x-www-form-urlencoded")
        return json_response(error.to_oauth(), 400, headers=NO_STORE)
    body = await read_body(request, request.app.state.kaga.settings.max_body_bytes)
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10))
    except (UnicodeDecodeError, ValueError):
        return json_response({"error": "invalid_request", "error_description": "malformed form body"}, 400,
                             headers=NO_STORE)
    try:
        _verdict, result = await run_in_threadpool(direct_post, _shop(request), form)
    except ProtocolError as error:
        return json_response(error.to_oauth(), error.status, headers=NO_STORE)
    if result.verified:
        return json_response({}, headers=NO_STORE)
    code = result.problems[0].code if result.problems else "kaga:requirement-not-met"
    return json_response({"error": "invalid_request", "error_description": result.problems[0].detail
                          if result.problems else "refused", "kaga_code": code}, 400, headers=NO_STORE)


async def kvp1_route(request: Request) -> Response:
    body = await read_json(request)
    text = body.get("response") if isinstance(body, dict) else None
    verdict = await run_in_threadpool(kvp1, _shop(request), request.path_params["handle"], text)
    return json_response(verdict, headers=NO_STORE)


async def status_route(request: Request) -> Response:
    found = await run_in_threadpool(status, _shop(request), request.path_params["handle"])
    return json_response(found, headers=NO_STORE)


def routes(state: ServerState) -> list[BaseRoute]:
    """The shop's OpenID4VP and KVP1 endpoints, for a server with the verifier role."""
    if not state.settings.verifies:
        return []
    state.extras["openid4vp"] = ShopVerifier(state)
    return [
        Route("/openid4vp/requests", create_route, methods=["POST"]),
        Route("/openid4vp/request/{handle}", request_object_route, methods=["GET"]),
        Route("/openid4vp/response", response_route, methods=["POST"]),
        Route("/openid4vp/requests/{handle}", status_route, methods=["GET"]),
        Route("/openid4vp/requests/{handle}/kvp1", kvp1_route, methods=["POST"]),
    ]
