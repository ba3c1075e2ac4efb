"""Issue 11's policy holes, reproduced at the counter with real credentials on the embedded chain.

- An issuer trusted for one type vouches only for that type: a credential that also names
  ``KycCredential`` does not answer a KYC request when the bundle trusts its issuer for residency only.
- One response, one person: two residents' presentations for one nonce are refused
  (``kaga:multiple-subjects``), and no claim of either is merged into the verdict.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.credentials import create_presentation, issue_credential
from kaga_vc.errors import CLAIM_NOT_DISCLOSED, MULTIPLE_SUBJECTS
from kaga_vc.holder import create_wallet
from kaga_vc.proofs.jose import present_sd_jwt
from kaga_vc.verifier import (
    CredentialQuery,
    NonceStore,
    Policy,
    PresentationResponse,
    create_request,
    encode_response,
    verify_response,
)

from .conftest import FAST, PASSWORD, World

RESIDENCY_CLAIMS = {"fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-02-03",
                    "address": "石川県 加賀市 大聖寺南町 ニ41", "residentSince": "2015-04-01",
                    "evidence": ["residenceCard"]}


def _verify(world: World, req: Any, response: str, bundle: Any, tmp_path: Path) -> Any:
    with NonceStore(tmp_path / "nonces.sqlite3") as store:
        return verify_response(response, request=req.token, bundle=bundle.token, nonce_store=store,
                               policy=Policy(trusted_cities=(world.config.did,)))


@pytest.fixture(scope="module")
def wallets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    base = tmp_path_factory.mktemp("two")
    return (create_wallet(base / "a.json", PASSWORD, scrypt_n=FAST),
            create_wallet(base / "b.json", PASSWORD, scrypt_n=FAST))


def test_a_type_the_issuer_is_not_trusted_for_answers_no_request(world: World, wallets: tuple[Any, Any],
                                                                 tmp_path: Path) -> None:
    wallet = wallets[0]
    issued = world.issuer.issue("residency", wallet.did, RESIDENCY_CLAIMS, format="data-integrity", staff="test")
    forged = {k: v for k, v in copy.deepcopy(issued.document).items() if k != "proof"}
    forged["type"] = [*forged["type"], "KycCredential"]  # validly signed by the city, naming a second type
    forged = issue_credential(forged, signer=world.issuer.ed25519_signer)
    bundle = world.bundle(types=("ResidencyCredential",))  # the city is trusted for residency only
    for query, accepted in ((CredentialQuery("ResidencyCredential", ("ageOver18",)), True),
                            (CredentialQuery("KycCredential", ("ageOver18",)), False)):
        req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=[query])
        vp = create_presentation([forged], signer=wallet.signer, challenge=req.nonce, domain=req.verifier)
        result = _verify(world, req, encode_response(PresentationResponse(req.id, (vp,))), bundle,
                         tmp_path / query.type)
        assert result.verified is accepted, result.codes
        entry = result.details["credentials"][0]
        assert entry["acceptedTypes"] == ["ResidencyCredential"] and "KycCredential" in entry["types"]
        if not accepted:
            assert result.codes == [CLAIM_NOT_DISCLOSED]


@pytest.mark.parametrize("fmt", ["sd-jwt", "data-integrity"])
def test_two_people_in_one_response_are_refused(world: World, wallets: tuple[Any, Any], tmp_path: Path,
                                                fmt: str) -> None:
    adult, resident = wallets
    kyc = world.issue(fmt, subject=adult.did)
    residency = world.issuer.issue("residency", resident.did, RESIDENCY_CLAIMS, format=fmt, staff="test")
    bundle = world.bundle()
    req = create_request(signer=world.verifier, purpose="hotel check-in",
                         credentials=[CredentialQuery("KycCredential", ("ageOver18",)),
                                      CredentialQuery("ResidencyCredential", ("residentOfKaga",))])
    shown: list[Any] = []
    for wallet, issued, claim in ((adult, kyc, "ageOver18"), (resident, residency, "residentOfKaga")):
        if fmt == "sd-jwt":
            shown.append(present_sd_jwt(str(issued.document), disclose=[claim], holder_signer=wallet.signer,
                                        audience=req.verifier, nonce=req.nonce))
        else:
            shown.append(create_presentation([issued.document], signer=wallet.signer, challenge=req.nonce,
                                             domain=req.verifier))
    both = _verify(world, req, encode_response(PresentationResponse(req.id, tuple(shown))), bundle, tmp_path / "both")
    assert not both.verified and MULTIPLE_SUBJECTS in both.codes, both.codes
    assert both.details["claims"] == {}  # nothing of either person reaches the verdict
    # each person alone answers their part (so it is the mix that is refused, not the credentials)
    alone = create_request(signer=world.verifier, purpose="hotel check-in",
                           credentials=[CredentialQuery("KycCredential", ("ageOver18",))])
    if fmt == "sd-jwt":
        one = present_sd_jwt(str(kyc.document), disclose=["ageOver18"], holder_signer=adult.signer,
                             audience=alone.verifier, nonce=alone.nonce)
    else:
        one = create_presentation([kyc.document], signer=adult.signer, challenge=alone.nonce, domain=alone.verifier)
    single = _verify(world, alone, encode_response(PresentationResponse(alone.id, (one,))), bundle, tmp_path / "one")
    assert single.verified, single.codes


def test_a_vp_jwt_carrying_a_data_integrity_credential_gets_one_verdict(world: World, wallets: tuple[Any, Any],
                                                                        tmp_path: Path) -> None:
    """VC-JOSE-COSE: a vp+jwt carries enveloped vc+jwt credentials; the library and the counter agree."""
    from kaga_vc import verify_presentation
    from kaga_vc.proofs.jose import sign_vp_jwt
    from kaga_vc.verifier import read_bundle

    wallet = wallets[0]
    document = world.issue("data-integrity", subject=wallet.did).document
    bundle = world.bundle()
    req = create_request(signer=world.verifier, purpose="hotel check-in",
                         credentials=[CredentialQuery("KycCredential", ("ageOver18",))])
    vp = sign_vp_jwt({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                      "holder": wallet.did, "verifiableCredential": [document]},
                     wallet.signer, audience=req.verifier, nonce=req.nonce)
    library = verify_presentation(vp, resolver=read_bundle(bundle.token).resolver(), domain=req.verifier,
                                  challenge=req.nonce)
    counter = _verify(world, req, encode_response(PresentationResponse(req.id, (vp,))), bundle, tmp_path)
    assert library.verified is False and counter.verified is False, (library.codes, counter.codes)
    assert "MALFORMED_VALUE_ERROR" in library.codes and "MALFORMED_VALUE_ERROR" in counter.codes
    assert counter.details["claims"] == {}


def test_a_credential_checked_with_the_bundle_alone_is_trusted_only_as_its_trusted_types(
        world: World, wallets: tuple[Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kaga-vc verify FILE --bundle``: the shop sees which types the bundle vouches for, and --type requires one."""
    import json

    from typer.testing import CliRunner

    from kaga_vc.cli._app import app

    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path / "shop"))
    issued = world.issuer.issue("residency", wallets[0].did, RESIDENCY_CLAIMS, format="data-integrity", staff="test")
    forged = {k: v for k, v in copy.deepcopy(issued.document).items() if k != "proof"}
    forged["type"] = [*forged["type"], "KycCredential"]  # validly signed by the city, naming a second type
    (tmp_path / "vc.json").write_text(json.dumps(issue_credential(forged, signer=world.issuer.ed25519_signer)))
    (tmp_path / "bundle.jwt").write_text(world.bundle(types=("ResidencyCredential",)).token)
    base = ["verify", str(tmp_path / "vc.json"), "--bundle", str(tmp_path / "bundle.jwt"), "--city", world.config.did]
    runner = CliRunner()

    plain = runner.invoke(app, [*base, "--json"])
    assert plain.exit_code == 0, plain.output
    details = json.loads(plain.stdout)["details"]
    assert details["trustedTypes"] == ["ResidencyCredential"]
    assert details["types"] == ["ResidencyCredential", "KycCredential"]
    human = runner.invoke(app, base)
    assert "not trusted as: KycCredential" in human.output

    kyc = runner.invoke(app, [*base, "--type", "KycCredential", "--json"])
    assert kyc.exit_code == 1, kyc.output
    assert [p["code"] for p in json.loads(kyc.stdout)["problems"]] == ["kaga:credential-type-not-accepted"]
    residency = runner.invoke(app, [*base, "--type", "ResidencyCredential", "--json"])
    assert residency.exit_code == 0, residency.output
    misused = runner.invoke(app, ["verify", str(tmp_path / "vc.json"), "--type", "KycCredential", "--json"])
    assert misused.exit_code != 0 and "--type" in misused.output
