"""did:web resolution against a real HTTP server on the loopback interface."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kaga_vc.did import Resolver
from kaga_vc.did.web import WebMethod, did_web_url
from kaga_vc.errors import ResolutionError

from .._did_web_host import DidWebHost, did_web_host


@pytest.fixture(scope="module")
def server() -> Iterator[DidWebHost]:
    with did_web_host() as served:
        yield served


def test_urls() -> None:
    assert did_web_url("did:web:kaga.example") == "https://kaga.example/.well-known/did.json"
    assert did_web_url("did:web:kaga.example:city:office") == "https://kaga.example/city/office/did.json"
    assert did_web_url("did:web:localhost%3A8443") == "https://localhost:8443/.well-known/did.json"
    for bad in ("did:web:kaga.example:..", "did:web:-bad-.example", "did:ethr:0x" + "00" * 20):
        with pytest.raises(ResolutionError) as err:
            did_web_url(bad)
        assert err.value.code == "invalidDid"


def test_resolve_then_offline(server: DidWebHost) -> None:
    did = f"did:web:{server.host}"
    server.pages["/.well-known/did.json"] = json.dumps({"id": did, "verificationMethod": []}).encode()
    server.pages["/city/did.json"] = json.dumps({"id": "did:web:someone.else"}).encode()
    server.pages["/big/did.json"] = b"{" + b" " * 300_000 + b"}"
    method = WebMethod(insecure_localhost=True, timeout=2)
    resolver = Resolver({"web": method})
    assert resolver.resolve(did).did_document["id"] == did
    for path, code in (("city", "notFound"), ("big", "notFound"), ("missing", "notFound"),
                       ("redirect", "kaga:did-web-unreachable")):
        with pytest.raises(ResolutionError) as err:
            resolver.resolve(f"{did}:{path}")
        assert err.value.code == code, path
    offline = Resolver({"web": WebMethod(allow_network=False, documents=method.documents)})
    assert offline.resolve(did).did_document["id"] == did
    with pytest.raises(ResolutionError) as err:
        offline.resolve(f"{did}:other")
    assert err.value.code == "notFound"


def test_unreachable_host_is_typed() -> None:
    method = WebMethod(insecure_localhost=True, timeout=1)
    with pytest.raises(ResolutionError) as err:
        Resolver({"web": method}).resolve("did:web:127.0.0.1%3A9")
    assert err.value.code == "kaga:did-web-unreachable"
