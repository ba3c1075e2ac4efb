"""Issue 13: did:web's timeout was per read (a 2 s timeout took 20 s) and private / link-local addresses were fetched.

Against a real HTTP server on a real socket that trickles its answer, and real name resolution.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from kaga_vc.did import Resolver
from kaga_vc.did.web import WebMethod
from kaga_vc.errors import ADDRESS_NOT_ALLOWED, InputError, ResolutionError
from kaga_vc.verifier.fetch import BundleFetchError, fetch_bundle


@pytest.fixture
def trickling_server() -> Iterator[int]:
    """Answers 200 with headers, then one byte every 0.2 s for ever (each read well inside any timeout)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            def trickle(c: socket.socket) -> None:
                try:
                    c.recv(65536)
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
                    while not stop.is_set():
                        c.sendall(b" ")
                        time.sleep(0.2)
                except OSError:
                    pass
                finally:
                    c.close()
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()


def test_did_web_has_one_overall_deadline(trickling_server: int) -> None:
    method = WebMethod(insecure_localhost=True, timeout=1.5)
    started = time.monotonic()
    with pytest.raises(ResolutionError) as err:
        Resolver({"web": method}).resolve(f"did:web:127.0.0.1%3A{trickling_server}")
    assert err.value.code == "kaga:did-web-unreachable"
    assert time.monotonic() - started < 3.5


def test_bundle_fetch_has_one_overall_deadline(trickling_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(BundleFetchError):
        fetch_bundle(f"http://127.0.0.1:{trickling_server}/b.jwt", timeout=1.5, allow_private_addresses=True)
    assert time.monotonic() - started < 3.5


@pytest.mark.parametrize("did", ["did:web:127.0.0.1", "did:web:169.254.169.254", "did:web:10.0.0.1",
                                 "did:web:192.168.1.1", "did:web:localhost", "did:web:%5B%3A%3A1%5D"])
def test_did_web_refuses_loopback_private_and_link_local_hosts(did: str) -> None:
    try:
        method = WebMethod(timeout=1)
        started = time.monotonic()
        with pytest.raises(ResolutionError) as err:
            Resolver({"web": method}).resolve(did)
    except ResolutionError as invalid:  # a host form the did:web syntax itself refuses is fine too
        assert invalid.code == "invalidDid"
        return
    assert err.value.code in (ADDRESS_NOT_ALLOWED, "invalidDid")
    assert time.monotonic() - started < 1  # refused before any connection


@pytest.mark.parametrize("url", ["https://127.0.0.1/b.jwt", "https://169.254.169.254/latest", "http://localhost/b.jwt",
                                 "https://10.1.2.3/b.jwt"])
def test_bundle_fetch_refuses_non_public_addresses_unless_allowed(url: str) -> None:
    with pytest.raises(InputError) as err:
        fetch_bundle(url, timeout=1)
    assert err.value.code == ADDRESS_NOT_ALLOWED
