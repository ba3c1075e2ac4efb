"""The verdict reads what was signed, at the counter (issue 11): ``verify_response`` and ``kaga-vc verify``.

The city issues a real Data Integrity credential on the embedded chain; the holder respells it in a
way that keeps its canonical RDF (so the proof holds) and presents it in a presentation it signs
itself. Before the compaction rule, a revoked credential respelled this way was accepted.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc.credentials import create_presentation
from kaga_vc.errors import CREDENTIAL_REVOKED, NOT_COMPACTED
from kaga_vc.holder import create_wallet
from kaga_vc.verifier import (
    CredentialQuery,
    NonceStore,
    Policy,
    PresentationResponse,
    create_request,
    encode_response,
    verify_response,
)

from .conftest import FAST, KYC_CLAIMS, PASSWORD, World

CRED = "https://www.w3.org/2018/credentials#"
AGE = [CredentialQuery("KycCredential", ("ageOver18",))]


def _present(world: World, wallet: Any, credential: dict[str, Any]) -> tuple[Any, str]:
    req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
    vp = create_presentation([credential], signer=wallet.signer, challenge=req.nonce, domain=req.verifier)
    return req, encode_response(PresentationResponse(req.id, (vp,)))


def _verify(world: World, req: Any, response: str, bundle: Any, tmp_path: Path) -> Any:
    with NonceStore(tmp_path / "nonces.sqlite3") as store:
        return verify_response(response, request=req.token, bundle=bundle.token, nonce_store=store,
                               policy=Policy(trusted_cities=(world.config.did,)))


@pytest.fixture(scope="module")
def revoked(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], Any]:
    wallet = create_wallet(tmp_path_factory.mktemp("holder") / "w.json", PASSWORD, scrypt_n=FAST)
    issued = world.issue("data-integrity", subject=wallet.did)
    world.issuer.status.revoke(issued.id)
    return wallet, issued.document, world.bundle()


def _hide_status(document: dict[str, Any]) -> dict[str, Any]:
    hidden = {k: v for k, v in copy.deepcopy(document).items() if k != "credentialStatus"}
    hidden[CRED + "credentialStatus"] = copy.deepcopy(document["credentialStatus"])
    return hidden


def test_revoked_credential_with_a_full_iri_status_is_refused_by_verify_response(
        world: World, revoked: tuple[Any, dict[str, Any], Any], tmp_path: Path) -> None:
    wallet, document, bundle = revoked
    req, response = _present(world, wallet, document)
    control = _verify(world, req, response, bundle, tmp_path)
    assert not control.verified and CREDENTIAL_REVOKED in control.codes

    req, response = _present(world, wallet, _hide_status(document))
    result = _verify(world, req, response, bundle, tmp_path / "2")
    assert not result.verified
    assert NOT_COMPACTED in result.codes
    assert result.details["credentials"] == [] or result.details["credentials"][0]["accepted"] is False


def test_revoked_credential_with_a_full_iri_status_is_refused_by_the_cli(
        world: World, revoked: tuple[Any, dict[str, Any], Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kaga_vc.cli._app import app

    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path / "shop"))
    wallet, document, bundle = revoked
    req, response = _present(world, wallet, _hide_status(document))
    (tmp_path / "request.jwt").write_text(req.token)
    (tmp_path / "response.txt").write_text(response)
    (tmp_path / "bundle.jwt").write_text(bundle.token)
    done = CliRunner().invoke(app, ["verify", str(tmp_path / "response.txt"), "--request", str(tmp_path / "request.jwt"),
                                    "--bundle", str(tmp_path / "bundle.jwt"), "--city", world.config.did, "--json"])
    assert done.exit_code == 1, done.output
    body = json.loads(done.stdout)
    assert body["verified"] is False
    assert NOT_COMPACTED in [p["code"] for p in body["problems"]]


def test_null_claim_and_one_element_false_through_verify_response(world: World, tmp_path: Path) -> None:
    wallet = create_wallet(tmp_path / "minor.json", PASSWORD, scrypt_n=FAST)
    minor = {**KYC_CLAIMS, "birthDate": "2015-04-01"}
    issued = world.issuer.issue("kyc", wallet.did, minor, format="data-integrity", staff="test")
    document = issued.document
    assert document["credentialSubject"]["ageOver18"] is False
    bundle = world.bundle()

    wrapped = copy.deepcopy(document)
    wrapped["credentialSubject"]["ageOver18"] = [False]  # truthy in JSON, false in what was signed
    req, response = _present(world, wallet, wrapped)
    result = _verify(world, req, response, bundle, tmp_path / "a")
    assert result.details["claims"]["ageOver18"] is False, result.to_json()

    added = copy.deepcopy(document)
    added["credentialSubject"]["ageOver20"] = None  # a claim name that was never signed
    req, response = _present(world, wallet, added)
    result = _verify(world, req, response, bundle, tmp_path / "b")
    assert not result.verified and NOT_COMPACTED in result.codes
    assert "ageOver20" not in result.details.get("claims", {})


def test_a_credential_outside_the_bundle_schema_is_refused(world: World, tmp_path: Path) -> None:
    """The verifier's JSON Schema check reads the normalised credential (kaga:schema-invalid)."""
    from kaga_vc.registry import ethr_method
    from kaga_vc.verifier import TrustedIssuer, sync_bundle

    wallet = create_wallet(tmp_path / "w.json", PASSWORD, scrypt_n=FAST)
    document = world.issue("data-integrity", subject=wallet.did).document
    strict = {"type": "object", "required": ["credentialSubject"],
              "properties": {"credentialSubject": {"type": "object", "required": ["ageOver21"]}}}
    bundle = sync_bundle(ethr_method(world.registry), signer=world.bundle_signer,
                         issuers=[TrustedIssuer(world.config.did, ("KycCredential",))],
                         status_lists=world.status_lists(), schemas={"KycCredential": strict})
    req, response = _present(world, wallet, document)
    result = _verify(world, req, response, bundle, tmp_path)
    assert not result.verified
    assert "kaga:schema-invalid" in result.codes
