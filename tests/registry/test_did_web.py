"""did:web resolution against a real HTTP server on the loopback interface."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kaga_vc.did import Resolver
from kaga_vc.did.web import WebMethod, did_web_url
from kaga_vc.errors import ResolutionError

PAGES: dict[str, bytes] = {}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect/did.json":
            self.send_response(302)
            self.send_header("Location", "/.well-known/did.json")
            self.end_headers()
            return
        body = PAGES.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1%3A{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_urls() -> None:
    assert did_web_url("did:web:kaga.example") == "https://kaga.example/.well-known/did.json"
    assert did_web_url("did:web:kaga.example:city:office") == "https://kaga.example/city/office/did.json"
    assert did_web_url("did:web:localhost%3A8443") == "https://localhost:8443/.well-known/did.json"
    for bad in ("did:web:kaga.example:..", "did:web:-bad-.example", "did:ethr:0x" + "00" * 20):
        with pytest.raises(ResolutionError) as err:
            did_web_url(bad)
        assert err.value.code == "invalidDid"


def test_resolve_then_offline(server: str) -> None:
    did = f"did:web:{server}"
    PAGES["/.well-known/did.json"] = json.dumps({"id": did, "verificationMethod": []}).encode()
    PAGES["/city/did.json"] = json.dumps({"id": "did:web:someone.else"}).encode()
    PAGES["/big/did.json"] = b"{" + b" " * 300_000 + b"}"
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
