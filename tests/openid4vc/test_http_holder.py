"""kaga_vc.holder over HTTP against two real ``kaga-vc serve`` processes: OpenID4VCI in, OpenID4VP out.

Receive an SD-JWT VC by pre-authorized code with the PIN, present it through DCQL disclosing only the
asked claim; the verifier's verdict and its access-log entry; and each refusal with its own code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kaga_vc.errors import ProtocolError
from kaga_vc.holder import create_wallet
from kaga_vc.holder.openid4vc import present_openid4vp, receive_offer
from kaga_vc.proofs.jose.sd_jwt import present_sd_jwt

from ._world import FAST, World, make_world

PASSWORD = "wallet password"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("oid4vc"))


@pytest.fixture(scope="module")
def wallet(world: World, tmp_path_factory: pytest.TempPathFactory) -> Any:
    wallet = create_wallet(tmp_path_factory.mktemp("wallet") / "wallet.json", PASSWORD, scrypt_n=FAST)
    offer = world.offer("kyc")
    stored = receive_offer(wallet, offer.uri, tx_code=offer.tx_code, session=world.session())
    assert stored.format == "dc+sd-jwt" and "ageOver18" in stored.claims
    residency = world.offer("residency")
    receive_offer(wallet, residency.uri, tx_code=residency.tx_code, session=world.session())
    world.write_bundle()
    return wallet


def _refused(call: Any) -> str:
    with pytest.raises(ProtocolError) as caught:
        call()
    return caught.value.code


def test_issuer_metadata_over_http(world: World) -> None:
    meta = world.session().get(world.issuer.base_url + "/.well-known/openid-credential-issuer").json()
    assert meta["credential_issuer"] == world.issuer.base_url
    assert "KycCredential-sd-jwt" in meta["credential_configurations_supported"]


def test_present_by_openid4vp_disclosing_only_the_asked_claim(world: World, wallet: Any) -> None:
    made = world.shop_request("age")
    query = parse_qs(urlsplit(made["uri"]).query)
    assert made["uri"].startswith("openid4vp://") and query["client_id"][0].startswith("decentralized_identifier:did:key:")
    before = len(world.access_log())
    answer = present_openid4vp(wallet, made["uri"], session=world.session())
    assert answer.status == 200, answer.body
    assert list(answer.disclosed.values()) == [["ageOver18"]]
    assert answer.verifier_name is None  # a server started without --shop-name sends no client_name
    verdict = world.result(made["handle"])
    assert verdict["accepted"] is True and verdict["protocol"] == "openid4vp"
    assert [(c["name"], c["value"]) for c in verdict["claims"]] == [("ageOver18", True)]
    entries = world.access_log()
    assert len(entries) == before + 1
    record = entries[-1].to_json()["record"]["entry"]
    assert record["result"] == "accepted" and record["purpose"] == "年齢確認 / age check"
    assert record["verifier"] == query["client_id"][0].removeprefix("decentralized_identifier:")
    text = json.dumps(record, ensure_ascii=False)
    assert "1990-04-01" not in text and "花子" not in text


def test_residency_check(world: World, wallet: Any) -> None:
    made = world.shop_request("residency")
    assert present_openid4vp(wallet, made["uri"], session=world.session()).status == 200
    assert world.result(made["handle"])["claims"][0]["value"] is True


def test_replayed_vp_token_is_refused(world: World, wallet: Any) -> None:
    made = world.shop_request("age")
    sent: dict[str, Any] = {}

    def keep(token: dict[str, Any]) -> dict[str, Any]:
        sent.update(token)
        return token

    assert present_openid4vp(wallet, made["uri"], session=world.session(), vp_token_hook=keep).status == 200
    state = made["handle"]
    again = world.session().post(world.verifier.base_url + "/openid4vp/response",
                                 data={"vp_token": json.dumps(sent), "state": state})
    assert again.status_code == 400 and again.json()["kaga_code"] == "kaga:nonce-replayed"


def _post_presentation(world: World, wallet: Any, made: dict[str, Any], *, nonce: str | None = None,
                       audience: str | None = None) -> Any:
    """A hand-made answer: the right credential, with the nonce / audience given."""
    from kaga_vc.did import KeyMethod, Resolver
    from kaga_vc.holder.openid4vc import _verify_request_object

    client_id = parse_qs(urlsplit(made["uri"]).query)["client_id"][0]
    request_uri = parse_qs(urlsplit(made["uri"]).query)["request_uri"][0]
    payload = _verify_request_object(world.session().get(request_uri).text, client_id, Resolver({"key": KeyMethod()}))
    stored = next(c for c in wallet.credentials() if "KycCredential" in c.types)
    presentation = present_sd_jwt(str(stored.data), disclose=["ageOver18"], holder_signer=wallet.signer,
                                  audience=audience or client_id, nonce=nonce or payload["nonce"])
    return world.session().post(world.verifier.base_url + "/openid4vp/response",
                                data={"vp_token": json.dumps({"q0": [presentation]}), "state": payload["state"]})


def test_wrong_nonce_is_refused(world: World, wallet: Any) -> None:
    made = world.shop_request("age")
    answer = _post_presentation(world, wallet, made, nonce="A" * 22)
    assert answer.status_code == 400 and answer.json()["kaga_code"] == "INVALID_CHALLENGE_ERROR"
    assert world.result(made["handle"])["accepted"] is False


def test_presentation_for_another_audience_is_refused(world: World, wallet: Any) -> None:
    made = world.shop_request("age")
    answer = _post_presentation(world, wallet, made, audience="decentralized_identifier:did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH")
    assert answer.status_code == 400 and answer.json()["kaga_code"] == "INVALID_DOMAIN_ERROR"


def test_unknown_state_is_refused(world: World) -> None:
    answer = world.session().post(world.verifier.base_url + "/openid4vp/response",
                                  data={"vp_token": "{}", "state": "0" * 32})
    assert answer.status_code == 404 and answer.json()["kaga_code"] == "kaga:openid4vp-request-unknown"


def test_issuance_refusals_each_with_its_code(world: World, wallet: Any, tmp_path: Path) -> None:
    session = world.session()
    offer = world.offer("kyc")
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    assert _refused(lambda: receive_offer(wallet, offer.uri, tx_code=wrong, session=session)) == "kaga:offer-tx-code-wrong"
    receive_offer(wallet, offer.uri, tx_code=offer.tx_code, session=session)
    assert _refused(lambda: receive_offer(wallet, offer.uri, tx_code=offer.tx_code, session=session)) == "kaga:offer-used"
    from datetime import UTC, datetime, timedelta

    old = world.offer("kyc", lifetime=timedelta(days=1), now=datetime.now(UTC) - timedelta(days=2))
    assert _refused(lambda: receive_offer(wallet, old.uri, tx_code=old.tx_code, session=session)) == "kaga:offer-expired"


def test_key_proof_for_another_key_is_refused_over_http(world: World) -> None:
    from kaga_vc.keys import KeySigner, KeyType, PrivateKey
    from kaga_vc.proofs.jose import sign_compact

    session, base = world.session(), world.issuer.base_url
    offer = world.offer("kyc")
    code = offer.document["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
    token = session.post(base + "/openid4vci/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": code,
        "tx_code": offer.tx_code}).json()["access_token"]
    nonce = session.post(base + "/openid4vci/nonce").json()["c_nonce"]
    signing, named = PrivateKey.generate(KeyType.P256), PrivateKey.generate(KeyType.P256)
    proof = sign_compact({"alg": "ES256", "typ": "openid4vci-proof+jwt", "jwk": named.public_key.to_jwk()},
                         {"aud": base, "iat": int(time.time()), "nonce": nonce}, KeySigner(signing, "k"))
    answer = session.post(base + "/openid4vci/credential", headers={"Authorization": f"Bearer {token}"},
                          json={"credential_configuration_id": "KycCredential-sd-jwt", "proofs": {"jwt": [proof]}})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_proof" and answer.json()["kaga_code"] == "kaga:key-proof-invalid"
    assert answer.headers["cache-control"] == "no-store"
