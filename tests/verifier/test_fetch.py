"""Receiving a trust bundle by URL: verified before it is saved; transport failures are "could not check"."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.cli._common import ExitCode
from kaga_vc.errors import BUNDLE_INVALID, InputError
from kaga_vc.verifier.fetch import BundleFetchError, fetch_bundle

runner = CliRunner()


class _Server:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body, headers = routes.get(self.path, (404, b"not found", {}))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


@pytest.fixture(scope="module")
def token(world: Any) -> str:
    return str(world.bundle().token)


def test_fetch_verifies_and_saves(server: _Server, token: str, world: Any, tmp_path: Path) -> None:
    server.routes["/vc/trust-bundle.jwt"] = (200, token.encode() + b"\n", {"Content-Type": "application/jwt"})
    out = tmp_path / "bundle.jwt"
    url = server.url("/vc/trust-bundle.jwt")
    result = runner.invoke(app, ["bundle", "fetch", url, "--out", str(out), "--city", world.config.did, "--allow-private-address", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["url"] == url and summary["city"] == world.config.did
    assert out.read_text().strip() == token
    assert fetch_bundle(url, allow_private_addresses=True).city == world.config.did


def test_tampered_bundle_is_not_saved(server: _Server, token: str, tmp_path: Path) -> None:
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature])
    server.routes["/b"] = (200, forged.encode(), {})
    out = tmp_path / "bundle.jwt"
    result = runner.invoke(app, ["bundle", "fetch", server.url("/b"), "--out", str(out), "--trust-any-city", "--allow-private-address", "--json"])
    assert result.exit_code in (ExitCode.INVALID, ExitCode.BAD_INPUT), result.output
    assert "error" in json.loads(result.stdout)
    assert not out.exists()


def test_bundle_of_another_city_is_refused(server: _Server, token: str, tmp_path: Path) -> None:
    server.routes["/b"] = (200, token.encode(), {})
    out = tmp_path / "bundle.jwt"
    other = "did:ethr:0x539:0x1111111111111111111111111111111111111111"
    result = runner.invoke(app, ["bundle", "fetch", server.url("/b"), "--out", str(out), "--city", other, "--allow-private-address", "--json"])
    assert result.exit_code == ExitCode.INVALID, result.output
    assert json.loads(result.stdout)["error"]["code"] == "kaga:bundle-signer-not-trusted"
    assert not out.exists()


@pytest.mark.parametrize(("route", "status"), [("/missing", 404), ("/moved", 302), ("/broken", 500)])
def test_unreachable_bundle_could_not_check(server: _Server, tmp_path: Path, route: str, status: int) -> None:
    if route != "/missing":
        server.routes[route] = (status, b"", {"Location": "https://elsewhere.example/b"} if status == 302 else {})
    result = runner.invoke(app, ["bundle", "fetch", server.url(route), "--out", str(tmp_path / "b"), "--trust-any-city", "--allow-private-address", "--json"])
    assert result.exit_code == ExitCode.COULD_NOT_CHECK, result.output
    assert json.loads(result.stdout)["error"]["code"] == "kaga:bundle-unavailable"


def test_nothing_listens() -> None:
    with pytest.raises(BundleFetchError):
        fetch_bundle("http://127.0.0.1:9/bundle.jwt", timeout=2, allow_private_addresses=True)


@pytest.mark.parametrize(
    "url", ["http://city.kaga.example/b.jwt", "ftp://127.0.0.1/b", "file:///etc/passwd", "https://", "not a url"]
)
def test_only_https_or_loopback_http(url: str, no_network: None) -> None:
    with pytest.raises(InputError) as info:
        fetch_bundle(url)
    assert info.value.code == BUNDLE_INVALID


def test_oversized_body_is_refused(server: _Server) -> None:
    server.routes["/big"] = (200, b"a" * 2048, {})
    with pytest.raises(InputError) as info:
        fetch_bundle(server.url("/big"), max_bytes=1024, allow_private_addresses=True)
    assert info.value.code == BUNDLE_INVALID
