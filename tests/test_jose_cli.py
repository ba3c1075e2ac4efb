"""The JOSE half of ``kaga-vc credential sign`` (``kaga_vc.cli._jose_sign``): keystore in, token out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaga_vc.cli._jose_sign import default_key_id, holder_key_from, sign_jose
from kaga_vc.credentials._verify_jose import verify_credential
from kaga_vc.credentials.verify import detect_format
from kaga_vc.errors import InputError
from kaga_vc.keys.keystore import MIN_SCRYPT_N, save_key
from tests._jose_support import ED, ETHR, HOLDER, NOW, credential_v2, credential_v11, did_of, resolver


@pytest.fixture
def keystores(tmp_path: Path, password_env: str) -> dict[str, Path]:
    paths = {"ed": tmp_path / "ed.json", "ethr": tmp_path / "ethr.json"}
    save_key(paths["ed"], ED.key, password_env, scrypt_n=MIN_SCRYPT_N)
    save_key(paths["ethr"], ETHR.key, password_env, scrypt_n=MIN_SCRYPT_N)
    return paths


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "unsigned.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize(
    ("fmt", "detected"), [("vc-jwt", "vc+jwt"), ("jwt-vc11", "jwt-vc11"), ("sd-jwt", "dc+sd-jwt")]
)
def test_sign_each_format_with_a_keystore(
    fmt: str, detected: str, keystores: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    credential = credential_v11(did_of(ED)) if fmt == "jwt-vc11" else credential_v2(did_of(ED))
    credential.pop("validUntil", None), credential.pop("expirationDate", None)  # sd-jwt's iat is the real clock
    disclosable = ["credentialSubject.residentOf", "ageOver18"] if fmt == "sd-jwt" else []
    sign_jose(write(tmp_path, credential), key=keystores["ed"], fmt=fmt, disclosable=disclosable, as_json=True)
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == detected
    assert detect_format(out["token"]) == detected
    result = verify_credential(out["token"], format=detected, resolver=resolver())
    assert result.verified, result.codes
    if fmt == "sd-jwt":
        assert result.details["disclosed"] == ["ageOver18", "residentOf"]
        assert result.credential is not None and result.credential["cnf"]["jwk"] == HOLDER.key.public_key.to_jwk()


def test_did_ethr_recoverable_jwt_with_verification_method(
    keystores: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, credential_v11(did_of(ETHR)))
    sign_jose(file, key=keystores["ethr"], fmt="jwt-vc11", verification_method=ETHR.key_id, recoverable=True)
    token = capsys.readouterr().out.strip()
    assert json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[0] + "==="))["alg"] == "ES256K-R"
    assert verify_credential(token, format="jwt-vc11", resolver=resolver(), now=NOW).verified


def test_usage_mistakes_are_input_errors(keystores: dict[str, Path], tmp_path: Path) -> None:
    file = write(tmp_path, credential_v2(did_of(ED)))
    with pytest.raises(InputError):
        sign_jose(file, key=keystores["ed"], fmt="vc-jwt", disclosable=["residentOf"])
    with pytest.raises(InputError):
        sign_jose(file, key=keystores["ed"], fmt="sd-jwt", disclosable=["no.such.claim"])
    with pytest.raises(InputError):
        sign_jose(write(tmp_path, [1]), key=keystores["ed"], fmt="vc-jwt")
    with pytest.raises(InputError):  # the default kid is the did:key of the key, not the issuer's DID
        sign_jose(write(tmp_path, credential_v2(did_of(HOLDER))), key=keystores["ed"], fmt="vc-jwt")


def test_holder_key_from_did_key_or_jwk_file(tmp_path: Path) -> None:
    assert holder_key_from(did_of(HOLDER)) == HOLDER.key.public_key
    path = tmp_path / "holder.jwk"
    path.write_text(json.dumps(HOLDER.key.public_key.to_jwk()))
    assert holder_key_from(str(path)) == HOLDER.key.public_key
    assert default_key_id(ED.key.public_key) == ED.key_id


def test_options_work_in_a_typer_command(keystores: dict[str, Path], tmp_path: Path) -> None:
    """The option objects ``credential sign`` declares, driven through typer as a user would."""
    import typer
    from typer.testing import CliRunner

    from kaga_vc.cli import _jose_sign as jose
    from kaga_vc.cli._common import error_boundary

    app = typer.Typer()

    @app.command()
    @error_boundary
    def sign(
        file: str,
        key: Path = typer.Option(..., "--key"),  # noqa: B008
        fmt: str = jose.FormatOption,
        disclosable: list[str] = jose.DisclosableOption,
        holder_key: str = jose.HolderKeyOption,
        vct: str = jose.VctOption,
        recoverable: bool = jose.RecoverableOption,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        jose.sign_jose(file, key=key, fmt=fmt, disclosable=disclosable, holder_key=holder_key, vct=vct,
                       recoverable=recoverable, as_json=as_json)

    @app.command()
    def other() -> None:  # a second command keeps typer from collapsing the group
        pass

    file = write(tmp_path, credential_v2(did_of(ED)))
    runner = CliRunner()
    done = runner.invoke(app, ["sign", file, "--key", str(keystores["ed"]), "--format", "sd-jwt", "--disclosable",
                               "residentOf", "--disclosable", "credentialSubject.ageOver18", "--vct", "urn:kaga:vct:X",
                               "--holder-key", did_of(HOLDER), "--json"])
    assert done.exit_code == 0, done.output
    token = json.loads(done.output)["token"]
    result = verify_credential(token, format="dc+sd-jwt", resolver=resolver())
    assert result.credential is not None and result.credential["vct"] == "urn:kaga:vct:X"
    assert result.details["disclosed"] == ["ageOver18", "residentOf"]
    bad = runner.invoke(app, ["sign", file, "--key", str(keystores["ed"]), "--format", "vc-jwt", "--disclosable", "x"])
    assert bad.exit_code == 3


# -- the real command line ----------------------------------------------------------------------
def kaga(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from kaga_vc.cli._app import app

    done = CliRunner().invoke(app, list(args))
    return done.exit_code, done.output


@pytest.mark.parametrize("fmt", ["vc-jwt", "jwt-vc11", "sd-jwt"])
def test_credential_sign_format_then_verify_auto_detects(
    fmt: str, keystores: dict[str, Path], tmp_path: Path, no_network: None
) -> None:
    credential = credential_v11(did_of(ED)) if fmt == "jwt-vc11" else credential_v2(did_of(ED))
    credential.pop("validUntil", None), credential.pop("expirationDate", None)
    extra = ["--disclosable", "credentialSubject.residentOf"] if fmt == "sd-jwt" else []
    code, token = kaga("credential", "sign", write(tmp_path, credential), "--key", str(keystores["ed"]), "--format", fmt, *extra)
    assert code == 0, token
    token_file = tmp_path / "token.txt"
    token_file.write_text(token)
    code, out = kaga("verify", str(token_file), "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["verified"] is True
    assert result["format"] == {"vc-jwt": "vc+jwt", "jwt-vc11": "jwt-vc11", "sd-jwt": "dc+sd-jwt"}[fmt]


def test_cli_sd_jwt_presentation_with_challenge_and_domain(tmp_path: Path, no_network: None) -> None:
    from kaga_vc.proofs.jose import issue_sd_jwt, present_sd_jwt

    claims = {"iss": did_of(ED), "vct": "urn:kaga:vct:KagaResidentCredential", "residentOf": "Kaga", "name": "Hanako"}
    issued = issue_sd_jwt(claims, signer=ED, disclosable=["residentOf", "name"], holder_key=HOLDER.key.public_key)
    shown = tmp_path / "shown.txt"
    shown.write_text(present_sd_jwt(issued, disclose=["residentOf"], holder_signer=HOLDER, audience="did:web:r.example", nonce="n1"))
    code, out = kaga("verify", str(shown), "--challenge", "n1", "--domain", "did:web:r.example", "--json")
    assert code == 0, out
    assert json.loads(out)["details"]["disclosed"] == ["residentOf"]
    code, out = kaga("verify", str(shown), "--challenge", "n2", "--domain", "did:web:r.example", "--json")
    assert code == 1
    assert [p["code"] for p in json.loads(out)["problems"]] == ["INVALID_CHALLENGE_ERROR"]


def test_cli_verify_exit_codes_for_jose(keystores: dict[str, Path], tmp_path: Path, no_network: None) -> None:
    token = tmp_path / "t.txt"
    token.write_text("eyJhbGciOiJub25lIn0.e30.")  # alg none: checked and refused
    assert kaga("verify", str(token))[0] == 1
    token.write_text("not.a+jwt.at all")
    assert kaga("verify", str(token))[0] == 3
    # an issuer whose DID method the CLI cannot resolve offline: could not check
    from kaga_vc.proofs.jose import sign_jwt_vc11

    token.write_text(sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR))
    assert kaga("verify", str(token))[0] == 4


def test_cli_refuses_jose_options_with_data_integrity(keystores: dict[str, Path], tmp_path: Path) -> None:
    file = write(tmp_path, credential_v2(did_of(ED)))
    code, _ = kaga("credential", "sign", file, "--key", str(keystores["ed"]), "--disclosable", "residentOf")
    assert code == 3
    code, _ = kaga("credential", "sign", file, "--key", str(keystores["ed"]), "--format", "vc-jwt", "--suite", "eddsa-rdfc-2022")
    assert code == 3
    code, _ = kaga("credential", "sign", file, "--key", str(keystores["ed"]), "--format", "cbor")
    assert code == 3  # an unknown --format is the caller's bad input
