"""Issue 13: ``bundle fetch`` and did:web trust a private CA when told so (``--ca-file``,
``$REQUESTS_CA_BUNDLE``, ``$SSL_CERT_FILE``), and nothing else is turned off.

Against a real HTTPS server (the standard library's, on a real socket) with a test certificate made
by the server harness; without the CA the same fetch fails certificate verification.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.did import Resolver, did_key_from_public_key
from kaga_vc.did.web import WebMethod
from kaga_vc.errors import MALFORMED_VALUE_ERROR, InputError, ResolutionError
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.verifier.bundle import TrustedIssuer, build_bundle
from kaga_vc.verifier.fetch import BundleFetchError, fetch_bundle

from ..server._harness import make_certificate


@dataclass
class TLSServer:
    port: int
    cert: Path
    token: str
    city: str
    did: str


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TLSServer]:
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    cert, key = make_certificate(tmp_path)
    city_key = PrivateKey.generate(KeyType.ED25519)
    city = did_key_from_public_key(city_key.public_key)
    token = build_bundle(signer=KeySigner(city_key, f"{city}#{city.split(':')[-1]}"),
                         issuers=[TrustedIssuer(city)], histories=[]).token
    documents: dict[str, bytes] = {"/trust-bundle.jwt": token.encode()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    did = f"did:web:localhost%3A{port}"
    documents["/.well-known/did.json"] = json.dumps({"id": did}).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TLSServer(port, cert, token, city, did)
    finally:
        server.shutdown()
        server.server_close()


def _url(server: TLSServer) -> str:
    return f"https://localhost:{server.port}/trust-bundle.jwt"


def test_without_the_ca_the_certificate_is_refused(tls_server: TLSServer) -> None:
    with pytest.raises(BundleFetchError):
        fetch_bundle(_url(tls_server), trusted_city=tls_server.city, allow_private_addresses=True, timeout=5)
    with pytest.raises(ResolutionError):
        Resolver({"web": WebMethod(allow_private_addresses=True)}).resolve(tls_server.did)


def test_ca_file_argument(tls_server: TLSServer) -> None:
    bundle = fetch_bundle(_url(tls_server), trusted_city=tls_server.city, allow_private_addresses=True,
                          ca_file=tls_server.cert, timeout=5)
    assert bundle.token == tls_server.token
    web = WebMethod(allow_private_addresses=True, ca_file=str(tls_server.cert))
    assert Resolver({"web": web}).resolve(tls_server.did).did_document["id"] == tls_server.did


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_standard_environment_variables(variable: str, tls_server: TLSServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, str(tls_server.cert))
    bundle = fetch_bundle(_url(tls_server), trusted_city=tls_server.city, allow_private_addresses=True, timeout=5)
    assert bundle.token == tls_server.token
    assert Resolver({"web": WebMethod(allow_private_addresses=True)}).resolve(tls_server.did).did_document


def test_another_ca_does_not_vouch_for_the_server(tls_server: TLSServer, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other, _ = make_certificate(tmp_path / "other")
    with pytest.raises(BundleFetchError):
        fetch_bundle(_url(tls_server), trusted_city=tls_server.city, allow_private_addresses=True, ca_file=other,
                     timeout=5)


def test_an_unreadable_ca_file_is_an_input_error(tls_server: TLSServer, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(InputError) as raised:
        fetch_bundle(_url(tls_server), trusted_city=tls_server.city, allow_private_addresses=True, ca_file=junk)
    assert raised.value.code == MALFORMED_VALUE_ERROR


def test_cli_bundle_fetch_ca_file(tls_server: TLSServer, tmp_path: Path) -> None:
    out = tmp_path / "bundle.jwt"
    args = ["bundle", "fetch", _url(tls_server), "--city", tls_server.city, "--allow-private-address",
            "--out", str(out), "--json"]
    env = {"KAGA_VC_HOME": str(tmp_path / "shop")}
    refused = CliRunner().invoke(app, args, env=env)
    assert refused.exit_code == 4 and not out.exists(), refused.output
    result = CliRunner().invoke(app, [*args, "--ca-file", str(tls_server.cert)], env=env)
    assert result.exit_code == 0, result.output
    assert out.read_text().strip() == tls_server.token
