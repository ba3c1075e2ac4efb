"""A shop's verifier trusts a pinned city's bundle: the issuers' status lists come from it, and a new
bundle with a revocation is picked up without a restart. Unpinned, a bundle is never trusted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kaga_vc.did import did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.verifier.bundle import TrustedIssuer, build_bundle

from ._harness import Server, start_server
from .conftest import Keys
from .test_vcapi import admin, issue, unsigned


def _city() -> KeySigner:
    key = PrivateKey.generate(KeyType.ED25519)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.split(':')[-1]}")


def _bundle(city: KeySigner, keys: Keys, issuer: Server, urls: list[str]) -> str:
    with issuer.client() as client:
        lists = {url: client.get(url).json() for url in urls}  # what `bundle sync` reads from the city
    return build_bundle(signer=city, issuers=[TrustedIssuer(keys.ed25519_did, ())], histories=[],
                        status_lists=lists).token


def _codes(response: Any) -> list[str]:
    return [p["code"] for p in response.json()["problemDetails"]]


def test_shop_verifier_uses_the_pinned_bundle(server: Server, keys: Keys, tmp_path: Path) -> None:
    city = _city()
    credential = unsigned(keys.ed25519_did, id="urn:uuid:3c9a7e1f-2b4d-4e6f-8a0b-1c2d3e4f5061")
    with server.client() as client:
        response = issue(client, keys, "bitstring", credential)
        assert response.status_code == 201, response.text
    secured = response.json()["verifiableCredential"]
    url = [entry["statusListCredential"] for entry in secured["credentialStatus"]]
    bundle_file = tmp_path / "trust-bundle.jwt"
    bundle_file.write_text(_bundle(city, keys, server, url))
    shop = start_server(["--role", "verifier", "--bundle", str(bundle_file), "--trusted-city",
                         city.key_id.split("#")[0]], workdir=tmp_path, name="shop")
    unpinned = start_server(["--role", "verifier", "--bundle", str(bundle_file)], workdir=tmp_path, name="unpinned")
    try:
        with shop.client() as client:
            good = client.post("/credentials/verify", json={"verifiableCredential": secured})
            assert good.status_code == 200, good.text
        with unpinned.client() as client:
            unchecked = client.post("/credentials/verify", json={"verifiableCredential": secured})
            assert unchecked.status_code == 422 and unchecked.json().get("couldNotCheck") is True
            assert "kaga:status-list-unavailable" in _codes(unchecked)

        with server.client() as client:  # the city revokes; the shop gets the next bundle
            changed = client.post("/credentials/status", headers=admin(keys), json={
                "credentialId": credential["id"], "credentialStatus": [{"type": "BitstringStatusListCredential",
                                                                         "status": "revoked"}]})
            assert changed.status_code == 200
        next_bundle = tmp_path / "next.jwt"
        next_bundle.write_text(_bundle(city, keys, server, url))
        next_bundle.replace(bundle_file)
        with shop.client() as client:
            refused = client.post("/credentials/verify", json={"verifiableCredential": secured})
            assert refused.status_code == 422 and "kaga:credential-revoked" in _codes(refused)

        # a bundle signed by another city is not trusted: nothing to check the status against
        bundle_file.write_text(_bundle(_city(), keys, server, url) + "\n")
        with shop.client() as client:
            forged = client.post("/credentials/verify", json={"verifiableCredential": secured})
            assert forged.status_code == 422 and "kaga:status-list-unavailable" in _codes(forged)
        assert "trust bundle trust-bundle.jwt not used" in shop.log()
    finally:
        shop.terminate()
        unpinned.terminate()


@pytest.mark.parametrize("path", ["/.well-known/did.json"])
def test_did_web_document_hosted(tmp_path: Path, path: str) -> None:
    document = tmp_path / "did.json"
    document.write_text('{"id": "did:web:city.kaga.ishikawa.jp"}')
    server = start_server(["--role", "verifier", "--did-document", str(document)], workdir=tmp_path, name="didweb")
    try:
        with server.client() as client:
            response = client.get(path)
            assert response.status_code == 200 and response.headers["content-type"].startswith("application/did+json")
            assert response.json()["id"] == "did:web:city.kaga.ishikawa.jp" and response.headers["etag"]
    finally:
        server.terminate()
