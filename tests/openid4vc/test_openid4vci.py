"""OpenID4VCI issuance logic on a real city (embedded chain, SQLite records): offers, PIN, key proofs, spending."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from kaga_vc.did import did_key_from_public_key
from kaga_vc.errors import InputError, ProtocolError
from kaga_vc.issuer.offers import MAX_PIN_ATTEMPTS, OfferStore, offers_table
from kaga_vc.issuer.openid4vci import (
    PRE_AUTHORIZED_GRANT,
    PROOF_TYP,
    authorization_server_metadata,
    create_offer,
    credential_response,
    issuer_metadata,
    nonce_response,
    token_response,
    verify_key_proof,
)
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.proofs.jose import sign_compact, verify_sd_jwt

from .conftest import BASE, kyc_claims


def _code(offer: Any) -> str:
    return str(offer.document["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"])


def _token(offers: OfferStore, offer: Any, pin: str | None = None) -> str:
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": _code(offer), "tx_code": pin or offer.tx_code}
    return str(token_response(offers, form)["access_token"])


def _proof(key: PrivateKey, nonce: str, *, aud: str = BASE, jwk_of: PrivateKey | None = None,
           typ: str = PROOF_TYP, iat: float | None = None) -> str:
    alg = "ES256" if key.key_type is KeyType.P256 else "EdDSA"
    header = {"alg": alg, "typ": typ, "jwk": (jwk_of or key).public_key.to_jwk()}
    return sign_compact(header, {"aud": aud, "iat": int(iat or time.time()), "nonce": nonce}, KeySigner(key, "k"))


def _request(issuer: Any, offers: OfferStore, token: str, proof: str, cid: str = "KycCredential-sd-jwt") -> Any:
    return credential_response(issuer, offers, authorization=f"Bearer {token}", credential_issuer=BASE,
                               body={"credential_configuration_id": cid, "proofs": {"jwt": [proof]}})


def test_metadata_names_every_type_in_japanese_and_english() -> None:
    meta = issuer_metadata(BASE)
    configs = meta["credential_configurations_supported"]
    for name in ("KycCredential", "ResidencyCredential", "VirtualResidentCredential"):
        sd = configs[f"{name}-sd-jwt"]
        assert sd["format"] == "dc+sd-jwt"
        assert sd["vct"] == f"https://city.kaga.ishikawa.jp/ns/credentials/vct/{name}"
        assert {d["locale"] for d in sd["credential_metadata"]["display"]} == {"ja-JP", "en-US"}
        assert configs[f"{name}-ldp"]["format"] == "ldp_vc"
        assert configs[f"{name}-jwt"]["format"] == "jwt_vc_json"
    assert meta["nonce_endpoint"] == BASE + "/openid4vci/nonce"
    assert authorization_server_metadata(BASE)["token_endpoint"] == BASE + "/openid4vci/token"


def test_pre_authorized_flow_binds_the_credential_to_the_proof_key_and_records_it(issuer: Any, offers: OfferStore) -> None:
    offer = create_offer(offers, BASE, "kyc", kyc_claims(), staff="clerk-7")
    assert offer.uri.startswith("openid-credential-offer://?credential_offer=")
    assert offer.tx_code is not None and len(offer.tx_code) == 6 and offer.tx_code.isdigit()
    token = _token(offers, offer)
    wallet = PrivateKey.generate(KeyType.P256)
    issued = _request(issuer, offers, token, _proof(wallet, nonce_response(offers)["c_nonce"]))
    credential = issued["credentials"][0]["credential"]
    result = verify_sd_jwt(credential, issuer_key=issuer.ed25519_signer.key.public_key)
    assert result.verified, result.problems
    assert result.credential is not None
    assert result.credential["sub"] == did_key_from_public_key(wallet.public_key)
    assert result.credential["cnf"]["jwk"] == wallet.public_key.to_jwk()
    assert result.credential["ageOver18"] is True and "status" in result.credential
    record = issuer.records.get(result.credential["jti"])
    assert record is not None and record.staff == "clerk-7" and record.status_index is not None
    assert offers.get(offer.id)["state"] == "issued"


def test_database_holds_neither_the_code_nor_the_pin_nor_readable_claims(offers: OfferStore) -> None:
    offer = create_offer(offers, BASE, "kyc", kyc_claims(), staff="clerk")
    with offers.engine.connect() as conn:
        row = conn.execute(sa.select(offers_table).where(offers_table.c.id == offer.id)).mappings().one()
    text = " ".join(str(v) for v in row.values())
    assert _code(offer) not in text and "山田" not in text and "2001-06-02" not in text


def test_wrong_pin_is_refused_counted_and_locks_the_offer(offers: OfferStore) -> None:
    offer = create_offer(offers, BASE, "kyc", kyc_claims(), staff="clerk")
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    for attempt in range(MAX_PIN_ATTEMPTS):
        with pytest.raises(ProtocolError) as caught:
            _token(offers, offer, pin=wrong)
        assert caught.value.code == "kaga:offer-tx-code-wrong" and caught.value.oauth_error == "invalid_grant"
    with pytest.raises(ProtocolError) as caught:
        _token(offers, offer)  # even the right PIN, now
    assert caught.value.code == "kaga:offer-locked"


def test_reused_offer_is_refused_after_issuance(issuer: Any, offers: OfferStore) -> None:
    offer = create_offer(offers, BASE, "kyc", kyc_claims(), staff="clerk")
    token = _token(offers, offer)
    wallet = PrivateKey.generate(KeyType.ED25519)
    _request(issuer, offers, token, _proof(wallet, nonce_response(offers)["c_nonce"]))
    with pytest.raises(ProtocolError) as caught:
        _token(offers, offer)
    assert caught.value.code == "kaga:offer-used"
    with pytest.raises(ProtocolError) as caught:
        _request(issuer, offers, token, _proof(wallet, nonce_response(offers)["c_nonce"]))
    assert caught.value.code == "kaga:offer-used"


def test_expired_offer_is_refused(offers: OfferStore) -> None:
    past = datetime.now(UTC) - timedelta(days=2)
    offer = create_offer(offers, BASE, "kyc", kyc_claims(), staff="clerk", lifetime=timedelta(days=1), now=past)
    with pytest.raises(ProtocolError) as caught:
        _token(offers, offer)
    assert caught.value.code == "kaga:offer-expired"


def test_a_failed_credential_request_spends_nothing(issuer: Any, offers: OfferStore) -> None:
    offer = create_offer(offers, BASE, "kyc", kyc_claims(), staff="clerk")
    token = _token(offers, offer)
    wallet, other = PrivateKey.generate(KeyType.P256), PrivateKey.generate(KeyType.P256)
    nonce = nonce_response(offers)["c_nonce"]
    before = issuer.records.count()
    # a key proof naming another key than the one that signed it
    with pytest.raises(ProtocolError) as caught:
        _request(issuer, offers, token, _proof(wallet, nonce, jwk_of=other))
    assert caught.value.code == "kaga:key-proof-invalid" and caught.value.oauth_error == "invalid_proof"
    with pytest.raises(ProtocolError) as caught:
        _request(issuer, offers, token, _proof(wallet, "not-a-nonce-of-ours"))
    assert caught.value.code == "kaga:key-proof-nonce-invalid"
    with pytest.raises(ProtocolError) as caught:
        _request(issuer, offers, token, _proof(wallet, nonce, aud="https://elsewhere.example"))
    assert caught.value.code == "kaga:key-proof-invalid"
    assert issuer.records.count() == before and offers.get(offer.id)["state"] == "offered"
    # the same nonce, token and offer still work: nothing was consumed
    _request(issuer, offers, token, _proof(wallet, nonce))
    assert issuer.records.count() == before + 1
    # and the c_nonce is now spent
    offer2 = create_offer(offers, BASE, "kyc", kyc_claims(), staff="clerk")
    with pytest.raises(ProtocolError) as caught:
        _request(issuer, offers, _token(offers, offer2), _proof(wallet, nonce))
    assert caught.value.code == "kaga:key-proof-nonce-invalid"


@pytest.mark.parametrize("mutate", ["typ", "old", "future", "private-jwk"])
def test_key_proof_rules(mutate: str) -> None:
    key = PrivateKey.generate(KeyType.P256)
    if mutate == "typ":
        proof = _proof(key, "n", typ="JWT")
    elif mutate == "old":
        proof = _proof(key, "n", iat=time.time() - 3600)
    elif mutate == "future":
        proof = _proof(key, "n", iat=time.time() + 3600)
    else:
        jwk = {**key.public_key.to_jwk(), "d": "AAAA"}
        proof = sign_compact({"alg": "ES256", "typ": PROOF_TYP, "jwk": jwk}, {"aud": BASE, "iat": int(time.time()),
                             "nonce": "n"}, KeySigner(key, "k"))
    with pytest.raises(ProtocolError) as caught:
        verify_key_proof(proof, credential_issuer=BASE)
    assert caught.value.code == "kaga:key-proof-invalid"


def test_offer_claims_are_validated_before_anything_is_stored(offers: OfferStore) -> None:
    with pytest.raises(InputError) as caught:
        create_offer(offers, BASE, "kyc", kyc_claims(myNumber="123456789012"), staff="clerk")
    assert caught.value.code == "kaga:individual-number-refused"
