"""The city in production: its did:ethr (embedded chain) issues through the VC-API, its status lists are
hosted at the path of its service endpoint, and a server trusting its bundle verifies and sees revocations."""

from __future__ import annotations

from pathlib import Path

from kaga_vc.issuer import city_bundle_signer, init_city
from kaga_vc.registry import close_registry, ethr_method, open_embedded
from kaga_vc.verifier import TrustedIssuer, sync_bundle

from ._harness import PASSWORD, start_server
from .conftest import FAST_N, Keys
from .test_vcapi import admin, unsigned


def test_city_issues_hosts_and_verifies_with_its_bundle(keys: Keys, tmp_path: Path) -> None:
    import time

    home = tmp_path / "home"
    config, _ = init_city(PASSWORD, home=home, scrypt_n=FAST_N)
    registry = open_embedded(home)
    try:
        _, timestamp = registry.head()
        while time.time() < timestamp + 1.05:  # let the wall clock pass the chain's burst of blocks
            time.sleep(0.05)
        bundle = sync_bundle(ethr_method(registry), signer=city_bundle_signer(PASSWORD, home=home),
                             issuers=[TrustedIssuer(config.did, ())])
    finally:
        close_registry(registry)
    bundle_file = tmp_path / "trust-bundle.jwt"
    bundle_file.write_text(bundle.token)
    server = start_server(["--admin-tokens", str(keys.tokens), "--bundle", str(bundle_file),
                           "--trusted-city", config.did], workdir=tmp_path, name="city")
    try:
        credential = unsigned(config.did, id="urn:uuid:6e4f1a2b-3c5d-4e7f-9a1b-2c3d4e5f6a7b")
        with server.client() as client:
            listed = client.get("/issuers").json()["issuers"]
            assert listed[0]["name"] == "city" and listed[0]["id"] == config.did
            response = client.post("/credentials/issue", json={"credential": credential}, headers=admin(keys))
            assert response.status_code == 201, response.text
            secured = response.json()["verifiableCredential"]
            assert secured["proof"]["verificationMethod"].startswith(config.did + "#")
            entries = secured["credentialStatus"]
            assert all(e["statusListCredential"].startswith(config.status_base_url + "/") for e in entries)
            # hosted at the path of the URL the credential names (the city's origin is a proxy to this server)
            path = entries[0]["statusListCredential"][len(config.service_endpoint.rstrip("/")):]
            listed_credential = client.get(path)
            assert listed_credential.status_code == 200 and listed_credential.json()["issuer"] == config.did

            verified = client.post("/credentials/verify", json={"verifiableCredential": secured})
            assert verified.status_code == 200, verified.text
            changed = client.post("/credentials/status", headers=admin(keys), json={
                "credentialId": credential["id"], "credentialStatus": [{"type": "BitstringStatusListCredential",
                                                                         "status": "suspended"}]})
            assert changed.status_code == 200, changed.text
            refused = client.post("/credentials/verify", json={"verifiableCredential": secured})
            assert refused.status_code == 422
            assert "kaga:credential-suspended" in [p["code"] for p in refused.json()["problemDetails"]]
            other = unsigned(keys.ed25519_did)  # the city signs only as itself
            mismatch = client.post("/credentials/issue", json={"credential": other}, headers=admin(keys))
            assert mismatch.status_code == 400 and mismatch.json()["code"] == "kaga:issuer-mismatch"
    finally:
        server.terminate()
    from kaga_vc.issuer.records import IssuanceStore

    store = IssuanceStore.open(None, home=home)
    try:
        record = store.get(credential["id"])
        assert record is not None and record.staff == "staff" and record.status == "suspended"
    finally:
        store.close()
