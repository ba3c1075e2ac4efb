"""Sign → verify round trips for every JOSE format and key type, through the verify entry point too,
and cross-checks of our output with independent implementations (jwcrypto, the ``sd-jwt`` package)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from kaga_vc.credentials._verify_jose import verify_credential, verify_presentation
from kaga_vc.credentials.verify import JWT_VC11, SD_JWT, VC_JWT, detect_format
from kaga_vc.did.ethr_implicit import did_ethr_from_public_key, implicit_document
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.proofs.jose import (
    Decoys,
    envelope,
    issue_sd_jwt,
    present_sd_jwt,
    sd_jwt_vc_claims,
    sign_jwt_vc11,
    sign_jwt_vp11,
    sign_vc_jwt,
    sign_vp_jwt,
    verify_sd_jwt,
)
from tests._jose_support import (
    ED,
    ETHR,
    HOLDER,
    HOLDER_ED,
    K1_KEY,
    NOW,
    P256,
    credential_v2,
    credential_v11,
    did_key_signer,
    did_of,
    key,
    resolver,
)

RESOLVER = resolver()
AUD, NONCE = "did:web:ryokan.example", "c2VydmVyLW5vbmNl"
P384 = did_key_signer(key(KeyType.P384, 14))
P521 = did_key_signer(PrivateKey(KeyType.P521, b"\x00" + bytes([16]) * 64 + b"\x01"))
ETHR_PUBKEY = KeySigner(
    key(KeyType.SECP256K1, 15),
    did_ethr_from_public_key(key(KeyType.SECP256K1, 15).public_key, network="0x4b6", use_address=False) + "#controllerKey",
)


@pytest.fixture(autouse=True)
def _offline(no_network: None) -> None:
    return None


@pytest.mark.parametrize("signer", [ED, P256, K1_KEY, P384, P521, ETHR], ids=["EdDSA", "ES256", "ES256K", "ES384", "ES512", "ES256K-ethr"])
def test_vc_jwt_round_trip(signer: KeySigner) -> None:
    token = sign_vc_jwt(credential_v2(did_of(signer)), signer)
    assert detect_format(token) == VC_JWT
    result = verify_credential(token, format=VC_JWT, resolver=RESOLVER, now=NOW)
    assert result.verified, result.codes
    assert result.issuer == did_of(signer)
    assert result.subject == did_of(HOLDER)
    assert result.details["verificationMethod"] == signer.key_id
    assert result.credential == credential_v2(did_of(signer))
    assert result.checks == ("signature", "validity-period")


@pytest.mark.parametrize(
    ("signer", "recoverable"),
    [(ETHR, False), (ETHR, True), (ED, False), (ETHR_PUBKEY, False), (K1_KEY, False)],
    ids=["ES256K-ethr", "ES256K-R-ethr", "EdDSA-key", "ES256K-ethr-pubkey", "ES256K-key"],
)
def test_jwt_vc11_round_trip(signer: KeySigner, recoverable: bool) -> None:
    credential = credential_v11(did_of(signer))
    token = sign_jwt_vc11(credential, signer, recoverable=recoverable)
    assert detect_format(token) == JWT_VC11
    result = verify_credential(token, format=JWT_VC11, resolver=RESOLVER, now=NOW)
    assert result.verified, result.codes
    normalised = dict(result.credential or {})
    assert normalised.pop("proof") == {"type": "JwtProof2020", "jwt": token}
    assert normalised == credential


def test_jwt_vc11_without_kid_tries_the_relationship() -> None:
    token = sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR, include_kid=False)
    result = verify_credential(token, format=JWT_VC11, resolver=RESOLVER, now=NOW)
    assert result.verified, result.codes
    assert result.details["verificationMethod"] == ETHR.key_id


def test_implicit_did_ethr_document_shape() -> None:
    did = did_of(ETHR)
    document = implicit_document(did)
    (method,) = document["verificationMethod"]
    assert method["type"] == "EcdsaSecp256k1RecoveryMethod2020"
    assert method["blockchainAccountId"] == f"eip155:1206:{did.rsplit(':', 1)[1]}"
    assert document["assertionMethod"] == document["authentication"] == [f"{did}#controller"]
    assert len(implicit_document(did_of(ETHR_PUBKEY))["verificationMethod"]) == 2


def test_vp_jwt_round_trip_through_the_entry_point() -> None:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_of(HOLDER),
        "verifiableCredential": [envelope(sign_vc_jwt(credential_v2(did_of(ED)), ED))],
    }
    token = sign_vp_jwt(presentation, HOLDER, audience=AUD, nonce=NONCE)
    result = verify_presentation(token, format=detect_format(token), resolver=RESOLVER, domain=AUD, challenge=NONCE, now=NOW)
    assert result.verified, result.codes
    assert result.details["credentials"][0]["verified"] is True


def test_jwt_vp11_round_trip() -> None:
    credential = sign_jwt_vc11(credential_v11(did_of(ETHR), subject=did_of(HOLDER_ED)), ETHR)
    presentation = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "holder": did_of(HOLDER_ED),
        "verifiableCredential": [credential],
    }
    token = sign_jwt_vp11(presentation, HOLDER_ED, audience=AUD, nonce=NONCE, now=NOW, expires_in=timedelta(minutes=5))
    result = verify_presentation(token, format=JWT_VC11, resolver=RESOLVER, domain=[AUD], challenge=NONCE, now=NOW)
    assert result.verified, result.codes
    assert not result.warnings


@pytest.mark.parametrize(
    ("issuer", "holder"), [(ED, HOLDER), (ETHR, HOLDER_ED), (P256, HOLDER)], ids=["EdDSA/ES256", "ES256K-ethr/EdDSA", "ES256/ES256"]
)
def test_sd_jwt_vc_round_trip_with_key_binding(issuer: KeySigner, holder: KeySigner) -> None:
    claims = sd_jwt_vc_claims(credential_v2(did_of(issuer), subject=did_of(holder)), now=NOW)
    claims["address"] = {"locality": "Kaga", "postal_code": "922-8622"}
    claims["languages"] = ["ja", "en", "fr"]
    issued = issue_sd_jwt(
        claims,
        signer=issuer,
        disclosable=["residentOf", "ageOver18", "address", "address.postal_code", "languages[*]"],
        holder_key=holder.key.public_key,
        decoys=Decoys(1, 3),
    )
    assert detect_format(issued) == SD_JWT
    full = verify_credential(issued, format=SD_JWT, resolver=RESOLVER, now=NOW)
    assert full.verified, full.codes
    assert {k: full.credential[k] for k in claims} == claims  # type: ignore[index]
    token = present_sd_jwt(issued, disclose=["ageOver18", "languages[2]"], holder_signer=holder, audience=AUD, nonce=NONCE, now=NOW)
    result = verify_presentation(token, format=SD_JWT, resolver=RESOLVER, domain=AUD, challenge=NONCE, now=NOW)
    assert result.verified, result.codes
    assert result.credential is not None
    assert result.credential["ageOver18"] is True
    assert result.credential["languages"] == ["fr"]
    assert "residentOf" not in result.credential and "address" not in result.credential
    assert result.details["keyBinding"] is True
    assert result.checks == ("signature", "disclosures", "validity-period", "key-binding")


def test_sd_jwt_without_holder_key_and_no_key_binding() -> None:
    issued = issue_sd_jwt({"iss": did_of(ED), "vct": "urn:x", "a": 1}, signer=ED, disclosable=["a"])
    result = verify_sd_jwt(present_sd_jwt(issued, disclose=[]), resolver=RESOLVER, now=NOW)
    assert result.verified and result.credential == {"iss": did_of(ED), "vct": "urn:x"}


# -- independent implementations -----------------------------------------------------------------
@pytest.mark.parametrize("signer", [ED, P256, K1_KEY], ids=["EdDSA", "ES256", "ES256K"])
def test_our_jws_verifies_with_jwcrypto(signer: KeySigner) -> None:
    from jwcrypto import jwk, jws

    token = sign_vc_jwt(credential_v2(did_of(signer)), signer)
    parsed = jws.JWS()
    parsed.deserialize(token)
    parsed.verify(jwk.JWK(**signer.key.public_key.to_jwk()), alg=signer.key_type.info.jose_alg)
    assert json.loads(parsed.payload) == credential_v2(did_of(signer))


def _sd_jwt_package_verifier(presentation: str, issuer_jwk: dict[str, Any], aud: str | None, nonce: str | None) -> Any:
    from jwcrypto.jwk import JWK
    from sd_jwt.verifier import SDJWTVerifier

    return SDJWTVerifier(
        presentation, lambda iss, header: JWK(**issuer_jwk), expected_aud=aud, expected_nonce=nonce
    ).get_verified_payload()


def test_our_sd_jwt_verifies_with_the_sd_jwt_package() -> None:
    claims = {"iss": did_of(P256), "vct": "urn:x", "given_name": "Hanako", "address": {"locality": "Kaga"}, "tags": ["a", "b"]}
    issued = issue_sd_jwt(claims, signer=P256, disclosable=["given_name", "address.locality", "tags[1]"], holder_key=HOLDER.key.public_key, decoys=Decoys(2, 2))
    token = present_sd_jwt(issued, disclose=["address.locality", "tags[1]"], holder_signer=HOLDER, audience=AUD, nonce=NONCE)
    payload = _sd_jwt_package_verifier(token, P256.key.public_key.to_jwk(), AUD, NONCE)
    assert payload["address"] == {"locality": "Kaga"}
    assert payload["tags"] == ["a", "b"]
    assert "given_name" not in payload


def test_sd_jwt_package_output_verifies_with_ours() -> None:
    from jwcrypto.jwk import JWK
    from sd_jwt.common import SDObj
    from sd_jwt.holder import SDJWTHolder
    from sd_jwt.issuer import SDJWTIssuer

    user_claims = {
        "iss": did_of(P256),
        "vct": "urn:kaga:vct:KagaResidentCredential",
        SDObj("given_name"): "Hanako",
        SDObj("address"): {SDObj("locality"): "Kaga", "region": "Ishikawa"},
        "nationalities": [SDObj("JP"), "FR"],
    }
    issuer = SDJWTIssuer(
        user_claims,
        JWK(**P256.key.to_jwk()),
        holder_key=JWK(**HOLDER.key.to_jwk()),
        add_decoy_claims=True,
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": P256.key_id},
    )
    holder = SDJWTHolder(issuer.sd_jwt_issuance)
    holder.create_presentation(
        {"address": {"locality": True}, "nationalities": [True, False]},
        nonce=NONCE,
        aud=AUD,
        holder_key=JWK(**HOLDER.key.to_jwk()),
        sign_alg="ES256",
    )
    result = verify_sd_jwt(holder.sd_jwt_presentation, resolver=RESOLVER, require_key_binding=True, audience=AUD, nonce=NONCE)
    assert result.verified, result.codes
    assert result.credential is not None
    assert result.credential["address"] == {"locality": "Kaga", "region": "Ishikawa"}
    assert result.credential["nationalities"] == ["JP", "FR"]
    assert "given_name" not in result.credential


def test_verify_path_imports_no_ethereum_client() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tests._jose_support import ETHR, NOW, credential_v11, did_of, resolver\n"
        "from kaga_vc.credentials._verify_jose import verify_credential\n"
        "from kaga_vc.proofs.jose import sign_jwt_vc11\n"
        "token = sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR)\n"
        "assert verify_credential(token, format='jwt-vc11', resolver=resolver(), now=NOW).verified\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('web3', 'eth_account', 'eth_tester', 'evm')\n"
        "         or m.startswith('kaga_vc.registry')]\n"
        "assert not heavy, heavy\n"
    )
    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=root)
    assert done.returncode == 0, done.stderr


def test_public_entry_points_dispatch_every_jose_format() -> None:
    import kaga_vc

    tokens = {
        "vc+jwt": sign_vc_jwt(credential_v2(did_of(ED)), ED),
        "jwt-vc11": sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR, recoverable=True),
        "dc+sd-jwt": issue_sd_jwt({"iss": did_of(ED), "vct": "urn:x", "a": 1}, signer=ED, disclosable=["a"]),
    }
    for fmt, token in tokens.items():
        result = kaga_vc.verify_credential(token, resolver=RESOLVER, now=NOW)
        assert (result.format, result.verified) == (fmt, True), result.codes
        assert kaga_vc.verify_credential(token.encode(), resolver=RESOLVER, now=NOW).verified
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_of(HOLDER),
        "verifiableCredential": [envelope(tokens["vc+jwt"])],
    }
    vp = sign_vp_jwt(presentation, HOLDER, audience=AUD, nonce=NONCE)
    assert kaga_vc.verify_presentation(vp, resolver=RESOLVER, challenge=NONCE, domain=AUD, now=NOW).verified
    wrong = kaga_vc.verify_presentation(vp, resolver=RESOLVER, challenge="x", domain=AUD, now=NOW)
    assert wrong.codes == ["INVALID_CHALLENGE_ERROR"]
