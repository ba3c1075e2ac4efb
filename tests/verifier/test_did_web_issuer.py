"""Issue 11: a did:web issuer trusted in a bundle verifies offline from the bundle, and in the CLI.

The issuer's DID document is served by a real HTTP server on the loopback interface. ``sync_bundle``
fetches it (the city, online) and carries it in the bundle, signed with the rest; then the page is
taken down and the verifier resolves the issuer from the bundle alone. The city is real (embedded
chain); the credentials are a ``vc+jwt`` and a Data Integrity credential signed by the did:web's key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc import verify_credential
from kaga_vc.cli._app import app
from kaga_vc.credentials import issue_credential
from kaga_vc.did.web import WebMethod
from kaga_vc.errors import BUNDLE_INVALID, KagaError
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.proofs.jose import envelope, sign_compact, sign_vc_jwt, sign_vp_jwt
from kaga_vc.registry import ethr_method
from kaga_vc.verifier import (
    CredentialQuery,
    NonceStore,
    Policy,
    PresentationResponse,
    TrustedIssuer,
    build_bundle,
    create_request,
    encode_response,
    read_bundle,
    sync_bundle,
    verify_response,
)

from .._did_web_host import DidWebHost, did_web_host
from .conftest import ALL_TYPES, World, did_key_signer

CLINIC_TYPE = "ClinicVisitCredential"


@pytest.fixture(scope="module")
def web() -> Iterator[DidWebHost]:
    with did_web_host() as served:
        yield served


@pytest.fixture
def clinic(web: DidWebHost) -> Iterator[KeySigner]:
    """A did:web issuer whose DID document is online while the test runs (until it takes it down)."""
    did = f"did:web:{web.host}"
    key = PrivateKey.generate(KeyType.ED25519)
    method = f"{did}#key-1"
    document = {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"], "id": did,
                "verificationMethod": [{"id": method, "type": "Multikey", "controller": did,
                                        "publicKeyMultibase": key.public_key.to_multikey()}],
                "assertionMethod": [method], "authentication": [method]}
    web.pages["/.well-known/did.json"] = json.dumps(document).encode()
    try:
        yield KeySigner(key, method)
    finally:
        web.pages.clear()


def _did(signer: KeySigner) -> str:
    return signer.key_id.split("#", 1)[0]


def _vc_jwt(clinic: KeySigner, subject: str) -> str:
    return sign_vc_jwt({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential", CLINIC_TYPE],
                        "issuer": _did(clinic), "validFrom": datetime.now(UTC).isoformat(timespec="seconds"),
                        "credentialSubject": {"id": subject, "ageOver18": True}}, clinic)


def _di(clinic: KeySigner, subject: str) -> Any:
    return issue_credential({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                             "issuer": _did(clinic), "credentialSubject": {"id": subject}}, signer=clinic)


def _sync(world: World, clinic: KeySigner) -> Any:
    return sync_bundle(ethr_method(world.registry), signer=world.bundle_signer,
                       issuers=[TrustedIssuer(world.config.did, ALL_TYPES), TrustedIssuer(_did(clinic), (CLINIC_TYPE,))],
                       status_lists=world.status_lists(), web=WebMethod(insecure_localhost=True, timeout=5))


def test_a_did_web_issuer_verifies_offline_from_the_bundle(world: World, clinic: KeySigner, web: DidWebHost,
                                                           tmp_path: Path) -> None:
    token = _sync(world, clinic).token
    web.pages.clear()  # the issuer's site is down: only the bundle knows its key now
    bundle = read_bundle(token, trusted_city=world.config.did)
    assert set(bundle.did_documents) == {_did(clinic)} and bundle.summary()["didDocuments"] == [_did(clinic)]
    holder = world.wallet
    assert verify_credential(_di(clinic, holder.did), resolver=bundle.resolver()).verified
    req = create_request(signer=world.verifier, purpose="clinic visit",
                         credentials=[CredentialQuery(CLINIC_TYPE, ("ageOver18",))])
    vp = sign_vp_jwt({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                      "holder": holder.did, "verifiableCredential": [envelope(_vc_jwt(clinic, holder.did))]},
                     holder.signer, audience=req.verifier, nonce=req.nonce)
    with NonceStore(tmp_path / "nonces.sqlite3") as store:
        result = verify_response(encode_response(PresentationResponse(req.id, (vp,))), request=req.token,
                                 bundle=token, nonce_store=store, policy=Policy(trusted_cities=(world.config.did,)))
    assert result.verified, result.codes
    assert result.details["claims"] == {"ageOver18": True}
    assert result.details["credentials"][0]["issuer"] == _did(clinic)


def test_without_the_document_a_did_web_issuer_cannot_be_checked(world: World, clinic: KeySigner) -> None:
    """A bundle that does not carry the issuer (it is not trusted there): could not check, never verified."""
    bundle = read_bundle(world.bundle().token)
    assert not bundle.did_documents
    result = verify_credential(_di(clinic, world.wallet.did), resolver=bundle.resolver())
    assert not result.verified and result.could_not_check and "methodNotSupported" in result.codes


def _payload(token: str) -> Any:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_bundle_carries_only_documents_of_the_did_they_are_filed_under(clinic: KeySigner, web: DidWebHost) -> None:
    city = did_key_signer()  # a did:key city signs its bundles with its own key
    did = _did(clinic)
    document = json.loads(web.pages["/.well-known/did.json"])
    with pytest.raises(KagaError) as refused:
        build_bundle(signer=city, issuers=[TrustedIssuer(did)], histories=[],
                     did_documents={"did:web:elsewhere.example": document})
    assert refused.value.code == BUNDLE_INVALID
    token = build_bundle(signer=city, issuers=[TrustedIssuer(did)], histories=[], did_documents={did: document}).token
    assert read_bundle(token).did_documents == {did: document}
    # a city's software that files a document under another did:web (or a malformed one) is refused on reading,
    # even when the city signed it: the key of did:web:a must never answer for did:web:b
    for forged in ({"did:web:elsewhere.example": document}, {did: {"id": did, "verificationMethod": [{"id": 3}]}},
                   {"did:key:z6Mk": document}, [document]):
        payload = {**_payload(token), "didDocuments": forged}
        header = {"alg": "EdDSA", "typ": "kaga-bundle+jwt", "kid": city.key_id}
        with pytest.raises(KagaError) as refused:
            read_bundle(sign_compact(header, payload, city))
        assert refused.value.code == BUNDLE_INVALID, forged


def test_the_cli_syncs_and_verifies_a_did_web_issuer(clinic: KeySigner, web: DidWebHost, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """city init → bundle sync --issuer did:web:… (fetched now) → verify --did-web online, --bundle offline."""
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAGA_VC_PASSWORD", "correct horse battery staple")
    for name in ("KAGA_VC_TRUSTED_CITY", "KAGA_VC_RPC_URL", "KAGA_VC_REGISTRY", "KAGA_VC_CHAIN_ID"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def kaga(*args: str) -> Any:
        return runner.invoke(app, list(args))

    made = kaga("city", "init", "--json")
    assert made.exit_code == 0, made.output
    city = json.loads(made.stdout)["did"]
    holder = did_key_signer()
    credential = tmp_path / "clinic.jwt"
    credential.write_text(_vc_jwt(clinic, holder.key_id.split("#")[0]))
    bundle = tmp_path / "bundle.jwt"
    refused = kaga("bundle", "sync", "--issuer", city, "--issuer", f"{_did(clinic)}={CLINIC_TYPE}",
                   "--out", str(bundle), "--json")
    assert refused.exit_code != 0 and not bundle.exists()  # a loopback address is refused by default
    synced = kaga("bundle", "sync", "--issuer", city, "--issuer", f"{_did(clinic)}={CLINIC_TYPE}",
                  "--allow-private-address", "--out", str(bundle), "--json")
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)["didDocuments"] == [_did(clinic)]
    online = kaga("verify", str(credential), "--did-web", "--allow-private-address", "--json")
    assert online.exit_code == 0, online.output
    assert kaga("verify", str(credential), "--json").exit_code == 4  # offline, no bundle: could not check
    web.pages.clear()  # the issuer's site is down
    offline = kaga("verify", str(credential), "--bundle", str(bundle), "--city", city, "--json")
    assert offline.exit_code == 0, offline.output
    assert json.loads(offline.stdout)["details"]["trustedTypes"] == [CLINIC_TYPE]
    down = kaga("verify", str(credential), "--did-web", "--allow-private-address", "--json")
    assert down.exit_code == 4, down.output  # online and the page is gone: could not check
