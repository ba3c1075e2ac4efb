"""Specification examples with their keys (tests/vectors/<spec>/, sources in SOURCE.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kaga_vc.keys import PublicKey
from kaga_vc.proofs.jose.sd_jwt import verify_sd_jwt

VECTORS = Path(__file__).parent / "vectors"
SD_JWT_FILES = sorted((VECTORS / "sd-jwt").glob("*.json"))


@pytest.mark.parametrize("path", SD_JWT_FILES, ids=[p.name for p in SD_JWT_FILES])
def test_sd_jwt_spec_presentation_verifies(path: Path, no_network: None) -> None:
    vector = json.loads(path.read_text())
    result = verify_sd_jwt(
        vector["presentation"],
        issuer_key=PublicKey.from_jwk(vector["issuer_public_jwk"]),
        expected_typ=(vector["expected_typ"],),
        require_key_binding=True,
        audience=vector["aud"],
        nonce=vector["nonce"],
        now=datetime.fromtimestamp(vector["now"], UTC),
    )
    assert result.verified, result.codes
    assert result.credential == vector["expected_payload"]
    assert result.details["keyBinding"] is True


@pytest.mark.parametrize("path", SD_JWT_FILES, ids=[p.name for p in SD_JWT_FILES])
def test_sd_jwt_spec_presentation_wrong_nonce_and_late(path: Path) -> None:
    vector = json.loads(path.read_text())
    result = verify_sd_jwt(
        vector["presentation"],
        issuer_key=PublicKey.from_jwk(vector["issuer_public_jwk"]),
        expected_typ=(vector["expected_typ"],),
        require_key_binding=True,
        audience=vector["aud"],
        nonce="another-nonce",
        now=datetime.fromtimestamp(vector["now"], UTC) + timedelta(hours=1),
    )
    assert set(result.codes) == {"INVALID_CHALLENGE_ERROR", "kaga:kb-jwt-expired"}


@pytest.mark.parametrize("path", SD_JWT_FILES, ids=[p.name for p in SD_JWT_FILES])
def test_sd_jwt_spec_presentation_wrong_issuer_key(path: Path) -> None:
    vector = json.loads(path.read_text())
    holder = PublicKey.from_jwk(vector["expected_payload"]["cnf"]["jwk"])
    result = verify_sd_jwt(
        vector["presentation"],
        issuer_key=holder,
        expected_typ=(vector["expected_typ"],),
        now=datetime.fromtimestamp(vector["now"], UTC),
    )
    assert "PROOF_VERIFICATION_ERROR" in result.codes


VC_JOSE = json.loads((VECTORS / "vc-jose-cose" / "examples-vc-2.0.json").read_text())


@pytest.mark.parametrize("name", sorted(VC_JOSE["tokens"]))
def test_vc_jose_cose_repository_examples_verify_with_their_key(name: str) -> None:
    from kaga_vc.proofs.jose._jws import parse_compact, verify_with_public_key

    jws = parse_compact(VC_JOSE["tokens"][name])
    assert jws.header["typ"] == name
    verify_with_public_key(jws, PublicKey.from_jwk(VC_JOSE["private_jwk"]))


@pytest.mark.parametrize("name", sorted(VC_JOSE["tokens"]))
def test_vc_jose_cose_repository_examples_tampered_fail(name: str) -> None:
    from kaga_vc.errors import ProofError
    from kaga_vc.proofs.jose._jws import parse_compact, verify_with_public_key

    header, payload, signature = VC_JOSE["tokens"][name].split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(ProofError) as info:
        verify_with_public_key(parse_compact(f"{header}.{payload}.{flipped}"), PublicKey.from_jwk(VC_JOSE["private_jwk"]))
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


def test_vc_jose_cose_old_typ_and_non_did_kid_are_refused(no_network: None) -> None:
    from kaga_vc.proofs.jose.vc_jose import verify_vc_jwt
    from tests._jose_support import NOW, resolver

    result = verify_vc_jwt(VC_JOSE["tokens"]["vc+ld+jwt"], resolver=resolver(), now=NOW)
    assert "kaga:invalid-typ" in result.codes
    assert any(p.code == "kaga:issuer-not-a-did" and p.could_not_check for p in result.problems)
