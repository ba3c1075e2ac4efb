"""A real HTTP server on the loopback interface that serves did:web pages, for the did:web tests.

The pages are a dict the test fills (path -> body); ``/redirect/did.json`` answers a 302 to the
well-known page, so a test can check that the resolver does not follow redirects.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REDIRECT_PATH = "/redirect/did.json"


@dataclass
class DidWebHost:
    """Where the server listens, spelled as a did:web host (``127.0.0.1%3APORT``), and what it serves."""

    host: str
    pages: dict[str, bytes] = field(default_factory=dict)


@contextmanager
def did_web_host() -> Iterator[DidWebHost]:
    served = DidWebHost("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == REDIRECT_PATH:
                self.send_response(302)
                self.send_header("Location", "/.well-known/did.json")
                self.end_headers()
                return
            body = served.pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.host = f"127.0.0.1%3A{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()
