"""The holder wallet: encrypted at rest, refuses what it cannot present, discloses only what is asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaga_vc.credentials import issue_credential
from kaga_vc.errors import KagaError
from kaga_vc.holder import FULL_DISCLOSURE, create_wallet, describe_credential, open_wallet
from kaga_vc.keys import KeySigner
from kaga_vc.proofs.jose import issue_sd_jwt, sd_jwt_vc_claims
from kaga_vc.verifier import CredentialQuery, create_request, decode_response

from ..verifier.conftest import FAST, did_key_signer

PASSWORD = "wallet password"


def credential(issuer: KeySigner, subject: str) -> dict[str, object]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "KycCredential"],
        "issuer": issuer.key_id.split("#")[0],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, "ageOver18": True, "residentOfKaga": True, "fullName": "加賀 花子"},
    }


@pytest.fixture
def issuer() -> KeySigner:
    return did_key_signer()


def sd_jwt_for(issuer: KeySigner, wallet: object) -> str:
    claims = sd_jwt_vc_claims(credential(issuer, wallet.did), vct="urn:kaga:vct:KycCredential")  # type: ignore[attr-defined]
    return issue_sd_jwt(claims, signer=issuer, disclosable=["ageOver18", "residentOfKaga", "fullName"],
                        holder_key=wallet.public_key)  # type: ignore[attr-defined]


def test_encrypted_at_rest(tmp_path: Path, issuer: KeySigner) -> None:
    path = tmp_path / "wallet.json"
    wallet = create_wallet(path, PASSWORD, scrypt_n=FAST)
    stored = wallet.add(sd_jwt_for(issuer, wallet))
    assert stored.types == ("KycCredential",) and set(stored.claims) >= {"ageOver18", "fullName"}
    raw = path.read_text()
    assert "加賀" not in raw and "ageOver18" not in raw and stored.data.split("~")[0] not in raw
    assert wallet._key.to_multikey() not in raw and json.loads(raw)["did"] == wallet.did
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    reopened = open_wallet(path, PASSWORD)
    assert reopened.did == wallet.did and [c.id for c in reopened.credentials()] == [stored.id]
    with pytest.raises(KagaError) as wrong:
        open_wallet(path, "not the password")
    assert wrong.value.code == "kaga:keystore-wrong-password"
    edited = json.loads(raw)
    edited["did"] = "did:key:z6Mkother"
    path.write_text(json.dumps(edited))
    with pytest.raises(KagaError) as tampered:
        open_wallet(path, PASSWORD)
    assert tampered.value.code == "kaga:keystore-wrong-password"  # AES-GCM: the header is authenticated
    with pytest.raises(KagaError) as exists:
        create_wallet(path, PASSWORD, scrypt_n=FAST)
    assert exists.value.code == "kaga:wallet-exists"
    with pytest.raises(KagaError) as missing:
        open_wallet(tmp_path / "none.json", PASSWORD)
    assert missing.value.code == "kaga:wallet-not-found"


def test_refuses_credentials_of_someone_else(tmp_path: Path, issuer: KeySigner) -> None:
    wallet = create_wallet(tmp_path / "a.json", PASSWORD, scrypt_n=FAST)
    other = create_wallet(tmp_path / "b.json", PASSWORD, scrypt_n=FAST)
    for foreign in (sd_jwt_for(issuer, other), issue_credential(credential(issuer, other.did), signer=issuer)):
        with pytest.raises(KagaError) as error:
            wallet.add(foreign)  # type: ignore[arg-type]
        assert error.value.code == "kaga:holder-not-subject"
    assert wallet.credentials() == [] and open_wallet(tmp_path / "a.json", PASSWORD).credentials() == []
    with pytest.raises(KagaError):
        wallet.add("neither JSON nor a JWT")


def test_discloses_only_the_requested_claims(tmp_path: Path, issuer: KeySigner, no_network: None) -> None:
    wallet = create_wallet(tmp_path / "w.json", PASSWORD, scrypt_n=FAST)
    wallet.add(sd_jwt_for(issuer, wallet))
    wallet.add(issue_credential(credential(issuer, wallet.did), signer=issuer))
    verifier = did_key_signer()
    request = create_request(signer=verifier, purpose="bar", credentials=[CredentialQuery("KycCredential", ("ageOver18",))])
    answer = wallet.present(request.token)
    (presentation,) = decode_response(answer.compact).presentations
    disclosures = str(presentation).split("~")[1:-1]  # issuer JWT ~ disclosures ~ KB-JWT
    assert len(disclosures) == 1 and answer.warnings == ()  # the SD-JWT is preferred, one claim shown
    assert list(answer.disclosed.values()) == [["ageOver18"]]
    # a claim only the Data Integrity credential lacks nothing for: still SD-JWT; ask for two claims
    request = create_request(signer=verifier, purpose="bar", credentials=[CredentialQuery("*", ("ageOver18", "residentOfKaga"))])
    (presentation,) = decode_response(wallet.present(request.token).compact).presentations
    assert len(str(presentation).split("~")[1:-1]) == 2


def test_whole_credential_warning_and_unsatisfiable(tmp_path: Path, issuer: KeySigner) -> None:
    wallet = create_wallet(tmp_path / "w.json", PASSWORD, scrypt_n=FAST)
    wallet.add(issue_credential(credential(issuer, wallet.did), signer=issuer))
    verifier = did_key_signer()
    request = create_request(signer=verifier, purpose="bar", credentials=[CredentialQuery("KycCredential", ("ageOver18",))])
    answer = wallet.present(request.token)
    assert [w.code for w in answer.warnings] == [FULL_DISCLOSURE]
    (vp,) = decode_response(answer.compact).presentations
    assert vp["proof"]["challenge"] == request.nonce and vp["proof"]["domain"] == request.verifier  # type: ignore[index]
    request = create_request(signer=verifier, purpose="bar", credentials=[CredentialQuery("ResidencyCredential", ("residentOfKaga",))])
    with pytest.raises(KagaError) as error:
        wallet.present(request.token)
    assert error.value.code == "kaga:request-not-satisfiable"
    with pytest.raises(KagaError) as error:
        wallet.present(request.token, expected_verifier="did:web:shop.kaga.example")
    assert error.value.code == "kaga:request-verifier-mismatch"


def test_describe_credential_reads_every_format(issuer: KeySigner) -> None:
    subject = did_key_signer().key_id.split("#")[0]
    fmt, iss, types, subj, claims = describe_credential(issue_credential(credential(issuer, subject), signer=issuer))
    assert (fmt, iss, types, subj) == ("data-integrity", issuer.key_id.split("#")[0], ("KycCredential",), subject)
    assert claims["ageOver18"] is True and "id" not in claims
