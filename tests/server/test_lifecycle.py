"""The process around the app: SIGTERM mid-request, hosting the trust bundle for `bundle fetch`,
plain HTTP with its warning, loopback by default."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kaga_vc.did import did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.verifier.bundle import TrustedIssuer, build_bundle

from ._harness import PASSWORD, start_server
from .conftest import Keys, issuer_args
from .test_vcapi import admin, unsigned


def test_sigterm_during_a_request_loses_nothing(keys: Keys, tmp_path: Path) -> None:
    server = start_server(issuer_args(keys), workdir=tmp_path, name="sigterm")
    credential = unsigned(keys.ed25519_did, id="urn:uuid:9d1c1a52-6a3e-4d8e-a1b7-3f0e2d4c5b6a")
    body = httpx.Request("POST", "/", json={"credential": credential}).read()
    half = len(body) // 2
    sent_first_half, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def chunks() -> Any:
        yield body[:half]
        sent_first_half.set()
        release.wait(20)
        yield body[half:]

    def call() -> None:
        with server.client() as client:
            try:
                outcome["response"] = client.post("/issuers/bitstring/credentials/issue", content=chunks(),
                                                  headers={**admin(keys), "content-type": "application/json"})
            except httpx.HTTPError as exc:  # pragma: no cover - the failure this test is about
                outcome["error"] = exc

    thread = threading.Thread(target=call)
    thread.start()
    assert sent_first_half.wait(20)
    time.sleep(0.5)  # the server is now reading the body of an unfinished request
    server.process.send_signal(15)
    time.sleep(0.5)
    assert server.process.poll() is None  # it waits for the request in flight
    release.set()
    thread.join(30)
    assert "error" not in outcome, outcome
    response = outcome["response"]
    assert response.status_code == 201, response.text
    issued = response.json()["verifiableCredential"]
    # a clean shutdown; uvicorn re-raises the SIGTERM it handled, so the exit status is "terminated" (-15)
    assert server.process.wait(30) in (0, -15)
    log = server.log()
    assert "Shutting down" in log and "Finished server process" in log
    with pytest.raises(httpx.ConnectError), server.client() as client:
        client.get("/ns/credentials/v1")

    # what the answered request promised is durable: the record and its status index
    from kaga_vc.issuer.records import IssuanceStore

    store = IssuanceStore.open(f"sqlite:///{tmp_path / 'home' / 'server' / 'issuer-bitstring.sqlite3'}")
    try:
        record = store.get(credential["id"])
        assert record is not None and record.status == "active"
        entry = issued["credentialStatus"][0]
        assert record.status_index == int(entry["statusListIndex"])
        assert entry["statusListCredential"].split("/")[-2] == record.status_list_id
    finally:
        store.close()


def _did_key_signer() -> KeySigner:
    key = PrivateKey.generate(KeyType.ED25519)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.split(':')[-1]}")


def test_bundle_hosted_and_fetched_by_url(keys: Keys, tmp_path: Path) -> None:
    city = _did_key_signer()
    city_did = city.key_id.split("#")[0]
    bundle_file = tmp_path / "trust-bundle.jwt"
    first = build_bundle(signer=city, issuers=[TrustedIssuer(keys.ed25519_did, ("ExampleAlumniCredential",))],
                         histories=[])
    bundle_file.write_text(first.token)
    server = start_server(["--role", "verifier", "--bundle", str(bundle_file)], workdir=tmp_path, name="bundle")
    try:
        url = f"{server.base_url}/vc/trust-bundle.jwt"
        with server.client() as client:
            served = client.get("/vc/trust-bundle.jwt")
            assert served.status_code == 200 and served.text == first.token
            assert served.headers["content-type"].startswith("application/jwt")
            assert served.headers["cache-control"].startswith("public, max-age=")
            assert client.get("/vc/trust-bundle.jwt",
                              headers={"If-None-Match": served.headers["etag"]}).status_code == 304
        env = {**os.environ, "REQUESTS_CA_BUNDLE": str(server.cert), "SSL_CERT_FILE": str(server.cert),
               "KAGA_VC_HOME": str(tmp_path / "shop")}
        out = tmp_path / "shop-bundle.jwt"
        fetched = subprocess.run([sys.executable, "-c", "from kaga_vc.cli import main; main()", "bundle", "fetch",
                                  url, "--city", city_did, "--allow-private-address", "--out", str(out), "--json"],
                                 check=False, env=env, capture_output=True, text=True, timeout=120)
        assert fetched.returncode == 0, fetched.stdout + fetched.stderr
        assert out.read_text().strip() == first.token
        # pinned to another city: refused, nothing saved
        other = tmp_path / "other.jwt"
        refused = subprocess.run([sys.executable, "-c", "from kaga_vc.cli import main; main()", "bundle", "fetch",
                                  url, "--city", _did_key_signer().key_id.split("#")[0], "--allow-private-address",
                                  "--out", str(other)],
                                 check=False, env=env, capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0 and not other.exists()
        # a new bundle replaces the file: the next request serves it, with a new ETag
        second = build_bundle(signer=city, issuers=[TrustedIssuer(keys.ed25519_did, ())], histories=[])
        bundle_file.write_text(second.token)
        with server.client() as client:
            again = client.get("/vc/trust-bundle.jwt")
            assert again.text == second.token and again.headers["etag"] != served.headers["etag"]
    finally:
        server.terminate()


def test_plain_http_warns_and_binds_loopback(tmp_path: Path) -> None:
    server = start_server(["--role", "verifier"], workdir=tmp_path, tls=False, name="plain")
    try:
        with server.client() as client:
            assert client.get("/ns/credentials/v1").headers["content-type"].startswith("application/ld+json")
            from kaga_vc.contexts import kaga_contexts

            programmes = "https://city.kaga.ishikawa.jp/ns/credentials/programmes/v1"
            served = client.get("/ns/credentials/programmes/v1")  # the programme types' context, byte for byte
            assert served.status_code == 200 and served.content == kaga_contexts().raw_bytes(programmes)
            assert client.get("/ns/credentials/v2").status_code == 404
        log = server.log()
        assert "WARNING: serving plain HTTP" in log
        assert "running on http://127.0.0.1:" in log
    finally:
        assert server.terminate() in (0, -15)
    assert PASSWORD  # the harness's password reaches a verifier that needs none without harm


def test_public_verify_is_rate_limited(tmp_path: Path) -> None:
    server = start_server(["--role", "verifier", "--verify-rate", "3"], workdir=tmp_path, name="rate")
    try:
        with server.client() as client:
            statuses = [client.post("/credentials/verify", json={"verifiableCredential": {}}).status_code
                        for _ in range(5)]
            assert 429 not in statuses[:3] and statuses[3:] == [429, 429]
            limited = client.post("/credentials/verify", json={"verifiableCredential": {}})
            assert limited.json()["code"] == "kaga:rate-limited" and limited.headers["retry-after"] == "60"
            assert client.get("/ns/credentials/v1").status_code == 200  # hosting is not limited
    finally:
        server.terminate()
