"""The VC-API of a real ``kaga-vc serve`` (uvicorn, TLS on 127.0.0.1) through httpx."""

from __future__ import annotations

import copy
import gzip
import json
from typing import Any

import httpx
import pytest

from kaga_vc import create_presentation
from kaga_vc._encoding import multibase_decode
from kaga_vc.did import did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.status import BitstringStatusList

from ._harness import Server
from .conftest import Keys

EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def unsigned(issuer: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", EXAMPLES],
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "Kaga University"},
        **extra,
    }


def admin(keys: Keys) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.secret}"}


def issue(client: httpx.Client, keys: Keys, issuer: str, credential: dict[str, Any]) -> httpx.Response:
    return client.post(f"/issuers/{issuer}/credentials/issue", json={"credential": credential, "options": {}},
                       headers=admin(keys))


@pytest.mark.parametrize(("issuer", "did_attr", "cryptosuite"), [
    ("eddsa", "ed25519_did", "eddsa-rdfc-2022"),
    ("p256", "p256_did", "ecdsa-rdfc-2019"),
    ("p384", "p384_did", "ecdsa-rdfc-2019"),
])
def test_issue_then_verify_each_suite(server: Server, keys: Keys, issuer: str, did_attr: str, cryptosuite: str) -> None:
    did = getattr(keys, did_attr)
    credential = unsigned(did, id="urn:uuid:0b5e9c4e-3d1f-4f6e-9a43-1c2d3e4f5a6b")
    with server.client() as client:
        response = issue(client, keys, issuer, credential)
        assert response.status_code == 201, response.text
        assert response.headers["content-type"].startswith("application/json")
        secured = response.json()["verifiableCredential"]
        assert {k: v for k, v in secured.items() if k != "proof"} == credential  # every other member unchanged
        assert secured["proof"]["cryptosuite"] == cryptosuite
        assert secured["proof"]["verificationMethod"].startswith(did + "#")
        verified = client.post("/credentials/verify", json={"verifiableCredential": secured})
        assert verified.status_code == 200, verified.text
        assert verified.json()["verified"] is True
        tampered = copy.deepcopy(secured)
        tampered["credentialSubject"]["alumniOf"] = "Another University"
        refused = client.post("/credentials/verify", json={"verifiableCredential": tampered})
        assert refused.status_code == 422
        body = refused.json()
        assert body["verified"] is False
        assert "PROOF_VERIFICATION_ERROR" in [p["code"] for p in body["problemDetails"]]


def test_issue_revoke_verify_refused_and_status_list_by_url(server: Server, keys: Keys) -> None:
    credential = unsigned(keys.ed25519_did, id="urn:uuid:5f0c8a1e-7d6b-4c3a-9e2f-0a1b2c3d4e5f")
    with server.client() as client:
        response = issue(client, keys, "bitstring", credential)
        assert response.status_code == 201, response.text
        secured = response.json()["verifiableCredential"]
        entries = secured["credentialStatus"]
        assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
        assert all(e["type"] == "BitstringStatusListEntry" for e in entries)
        assert client.post("/credentials/verify", json={"verifiableCredential": secured}).json()["verified"] is True

        # the status list credential is served at exactly the URL the credential names
        url = entries[0]["statusListCredential"]
        assert url.startswith(server.base_url + "/")
        listed = client.get(url)
        assert listed.status_code == 200
        assert listed.headers["content-type"].startswith("application/vc")
        assert listed.headers["cache-control"].startswith("public, max-age=")
        assert listed.headers["content-encoding"] == "gzip"  # httpx asks for it; the body is decoded for us
        etag = listed.headers["etag"]
        document = listed.json()
        assert document["id"] == url and "validUntil" in document and document["proof"]["cryptosuite"]
        bits = BitstringStatusList.decode(document["credentialSubject"]["encodedList"])
        index = int(entries[0]["statusListIndex"])
        raw = multibase_decode(document["credentialSubject"]["encodedList"], expected_base=None)
        assert len(gzip.decompress(raw)) >= 16 * 1024  # 131,072 entries, GZIP-compressed
        assert not bits.get(index)
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

        unauthenticated = client.post("/credentials/status", json={
            "credentialId": credential["id"], "credentialStatus": [{"type": "BitstringStatusListCredential",
                                                                     "status": "revoked"}]})
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["code"] == "kaga:unauthorized"

        changed = client.post("/credentials/status", headers=admin(keys), json={
            "credentialId": credential["id"], "credentialStatus": [{"type": "BitstringStatusListCredential",
                                                                     "status": "revoked"}]})
        assert changed.status_code == 200, changed.text

        refused = client.post("/credentials/verify", json={"verifiableCredential": secured})
        assert refused.status_code == 422
        assert "kaga:credential-revoked" in [p["code"] for p in refused.json()["problemDetails"]]
        # ... unless the caller excludes the status check
        unchecked = client.post("/credentials/verify", json={"verifiableCredential": secured,
                                                             "options": {"checks": ["proof"]}})
        assert unchecked.status_code == 200 and unchecked.json()["verified"] is True

        relisted = client.get(url)
        assert relisted.headers["etag"] != etag
        assert BitstringStatusList.decode(relisted.json()["credentialSubject"]["encodedList"]).get(index)


def test_presentation_verify_with_challenge_and_domain(server: Server, keys: Keys) -> None:
    holder_key = PrivateKey.generate(KeyType.ED25519)
    holder_did = did_key_from_public_key(holder_key.public_key)
    holder = KeySigner(holder_key, f"{holder_did}#{holder_did.split(':')[-1]}")
    with server.client() as client:
        secured = issue(client, keys, "eddsa", unsigned(keys.ed25519_did)).json()["verifiableCredential"]
        presentation = create_presentation([secured], signer=holder, challenge="n-0001", domain="shop.kaga.example")
        good = client.post("/presentations/verify", json={
            "verifiablePresentation": presentation, "options": {"challenge": "n-0001", "domain": "shop.kaga.example"}})
        assert good.status_code == 200, good.text
        assert good.json()["verified"] is True
        wrong = client.post("/presentations/verify", json={
            "verifiablePresentation": presentation, "options": {"challenge": "n-0002", "domain": "shop.kaga.example"}})
        assert wrong.status_code == 422
        assert "INVALID_CHALLENGE_ERROR" in [p["code"] for p in wrong.json()["problemDetails"]]


@pytest.mark.parametrize(("mutate", "code"), [
    (lambda c: c.update({"@context": "https://www.w3.org/ns/credentials/v2"}) or c, None),
    (lambda c: c.update({"type": "ExampleAlumniCredential"}) or c, "MALFORMED_VALUE_ERROR"),
    (lambda c: c.update({"credentialSubject": {}}) or c, "MALFORMED_VALUE_ERROR"),
    (lambda c: c.update({"issuer": 42}) or c, "MALFORMED_VALUE_ERROR"),
    (lambda c: c.update({"credentialSchema": {"id": "https://example.org/schema.json"}}) or c, "MALFORMED_VALUE_ERROR"),
])
def test_invalid_credentials_are_refused_with_problem_details(server: Server, keys: Keys, mutate: Any,
                                                              code: str | None) -> None:
    credential = mutate(unsigned(keys.ed25519_did))
    with server.client() as client:
        response = issue(client, keys, "eddsa", credential)
    if code is None:  # a single string @context is allowed by VCDM 2.0 only when... it is an array: 400
        assert response.status_code in (201, 400)
        return
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == response.status_code and body["detail"]


def test_malformed_and_oversized_bodies(server: Server, keys: Keys) -> None:
    with server.client() as client:
        not_json = client.post("/credentials/verify", content=b"{not json", headers={"content-type": "application/json"})
        assert not_json.status_code == 400 and not_json.json()["code"] == "PARSING_ERROR"
        duplicate = client.post("/credentials/verify", content=b'{"verifiableCredential": {}, "verifiableCredential": {}}',
                                headers={"content-type": "application/json"})
        assert duplicate.status_code == 400 and duplicate.json()["code"] == "kaga:duplicate-json-key"
        wrong_type = client.post("/credentials/verify", content=b"{}", headers={"content-type": "text/plain"})
        assert wrong_type.status_code == 415 and wrong_type.json()["code"] == "kaga:unsupported-media-type"
        missing = client.post("/credentials/verify", json={"credential": {}})
        assert missing.status_code == 400 and missing.json()["code"] == "MALFORMED_VALUE_ERROR"
        big = b'{"verifiableCredential": "' + b"a" * (2 * 1024 * 1024) + b'"}'
        oversized = client.post("/credentials/verify", content=big, headers={"content-type": "application/json"})
        assert oversized.status_code == 413 and oversized.json()["code"] == "kaga:document-too-large"

        def chunks() -> Any:  # no Content-Length: the limit is applied while the body streams in
            for _ in range(40):
                yield b"a" * 65536
        streamed = client.post("/credentials/verify", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        deep = b'{"verifiableCredential": ' + b"[" * 5000 + b"]" * 5000 + b"}"
        too_deep = client.post("/credentials/verify", content=deep, headers={"content-type": "application/json"})
        assert too_deep.status_code == 400 and too_deep.json()["code"] == "kaga:document-too-deep"
        assert client.get("/nothing-here").json()["code"] == "kaga:not-found"
        assert client.get("/credentials/verify").status_code == 405


def test_admin_endpoints_refuse_without_valid_credentials(server: Server, keys: Keys) -> None:
    body = {"credential": unsigned(keys.ed25519_did)}
    with server.client() as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {keys.secret}"},
                        {"Authorization": "Bearer kat1.eyJzdWIiOiJzdGFmZiJ9.AAAA"}):
            response = client.post("/issuers/eddsa/credentials/issue", json=body, headers=headers)
            assert response.status_code == 401, (headers, response.text)
            assert response.json()["code"] == "kaga:unauthorized"


def test_oauth2_client_credentials(server: Server, keys: Keys) -> None:
    with server.client() as client:
        bad = client.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=("staff", "wrong"))
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
        unsupported = client.post("/oauth2/token", data={"grant_type": "password"}, auth=("staff", keys.secret))
        assert unsupported.json()["error"] == "unsupported_grant_type"
        granted = client.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=("staff", keys.secret))
        assert granted.status_code == 200, granted.text
        token = granted.json()
        assert token["token_type"] == "Bearer" and token["expires_in"] > 0
        assert granted.headers["cache-control"] == "no-store"
        issued = client.post("/issuers/eddsa/credentials/issue", json={"credential": unsigned(keys.ed25519_did)},
                             headers={"Authorization": f"Bearer {token['access_token']}"})
        assert issued.status_code == 201
        forged = token["access_token"][:-4] + ("AAAA" if not token["access_token"].endswith("AAAA") else "BBBB")
        refused = client.post("/issuers/eddsa/credentials/issue", json={"credential": unsigned(keys.ed25519_did)},
                              headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401


def test_request_log_has_one_line_per_request_and_no_personal_data(server: Server, keys: Keys) -> None:
    marker = "加賀花子-unique-name"
    credential = unsigned(keys.ed25519_did)
    credential["credentialSubject"]["name"] = marker
    with server.client() as client:
        client.post("/issuers/eddsa/credentials/issue", json={"credential": credential}, headers=admin(keys))
    log = server.log()
    assert "POST /issuers/eddsa/credentials/issue 201" in log
    assert marker not in log
    assert keys.secret not in log
    request_lines = [line for line in log.splitlines() if "kaga_vc.server.access" in line]
    assert request_lines and not any("127.0.0.1" in line for line in request_lines)  # no client address


def test_admin_token_cli_add_list_remove(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "KAGA_VC_PASSWORD": "tokens pw"}
    file = str(tmp_path / "tokens.json")

    def run(*args: str) -> Any:
        return subprocess.run([sys.executable, "-c", "from kaga_vc.cli import main; main()", "admin-token", *args,
                               "--file", file, "--json"], check=False, env=env, capture_output=True, text=True,
                              timeout=120)

    added = run("add", "tanaka", "--scope", "status")
    assert added.returncode == 0, added.stderr
    secret = json.loads(added.stdout)["client_secret"]
    assert secret not in (tmp_path / "tokens.json").read_text()  # only its digest, sealed
    assert oct((tmp_path / "tokens.json").stat().st_mode & 0o777) == "0o600"
    assert json.loads(run("list").stdout) == [{"client_id": "tanaka", "scopes": ["status"]}]
    assert run("add", "tanaka").returncode == 3  # exists already
    assert run("remove", "tanaka").returncode == 0
    assert json.loads(run("list").stdout) == []
    wrong = subprocess.run([sys.executable, "-c", "from kaga_vc.cli import main; main()", "admin-token", "list",
                            "--file", file], check=False, env={**env, "KAGA_VC_PASSWORD": "wrong"},
                           capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 3
