"""The city's issuer on its embedded chain: every type in every format verifies; records hold no claims."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kaga_vc import verify_credential
from kaga_vc.did import Resolver
from kaga_vc.errors import InputError
from kaga_vc.issuer import CityIssuer, init_city
from kaga_vc.issuer.service import read_city, run_csv_batch
from kaga_vc.proofs.jose.sd_jwt import present_sd_jwt

from .conftest import CLAIMS, NOW, PASSWORD, resident_did, resident_signer

FORMATS = ["data-integrity", "vc-jwt", "jwt-vc11", "sd-jwt"]
KINDS = ["kyc", "residency", "virtual-resident"]


def test_city_init_is_idempotent_and_publishes_keys_and_service(city_home: Path, city_document: dict[str, Any]) -> None:
    config = read_city(city_home)
    again, created = init_city(PASSWORD, home=city_home, scrypt_n=2**10)
    assert created is False and again == config
    assert config.did.startswith("did:ethr:0x539:0x")
    methods = {m["id"]: m for m in city_document["verificationMethod"]}
    assert methods[config.ed25519_method]["type"] == "Ed25519VerificationKey2020"
    assert methods[config.secp256k1_method]["type"] == "EcdsaSecp256k1VerificationKey2019"
    assert {config.ed25519_method, config.secp256k1_method} <= set(city_document["assertionMethod"])
    assert [s["serviceEndpoint"] for s in city_document["service"]
            if s["type"] == "LinkedDomains"] == ["https://city.kaga.ishikawa.jp"]
    # the bundle-signing key: a KagaBundleKey service (no signing authority over credentials), generation 1
    bundle_keys = [s["serviceEndpoint"] for s in city_document["service"] if s["type"] == "KagaBundleKey"]
    assert [k["generation"] for k in bundle_keys] == [1] and config.bundle_key_file == "bundle-key-1.json"
    city_json = (city_home / "city" / "city.json").read_text()
    assert "secret" not in city_json.lower() and "private" not in city_json.lower()


def test_an_interrupted_city_init_resumes_with_the_keys_it_wrote(tmp_path: Path) -> None:
    first, _ = init_city(PASSWORD, home=tmp_path, scrypt_n=2**10)
    (tmp_path / "city" / "city.json").unlink()  # as if the process died before writing it
    again, created = init_city(PASSWORD, home=tmp_path, scrypt_n=2**10)
    assert created is True
    assert again.did == first.did and again.ed25519_method == first.ed25519_method  # nothing published twice


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_type_in_every_format_verifies(issuer: CityIssuer, resolver: Resolver, kind: str, fmt: str,
                                             no_network: None) -> None:
    issued = issuer.issue(kind, resident_did(), CLAIMS[kind](), format=fmt, staff="clerk-7", now=NOW)
    result = verify_credential(issued.document, resolver=resolver, now=NOW)
    assert result.verified, result.problems
    assert result.issuer == issuer.did
    assert [w.code for w in result.warnings] == ["kaga:status-not-checked"]
    purposes = sorted(entry["statusPurpose"] for entry in issued.status)
    assert purposes == ["revocation", "suspension"]
    assert int(issued.status[0]["statusListIndex"]) == issued.status_index
    record = issuer.records.get(issued.id)  # type: ignore[union-attr]
    assert record is not None and record.staff == "clerk-7" and record.subject_did == resident_did()
    assert record.type == {"kyc": "KycCredential", "residency": "ResidencyCredential",
                           "virtual-resident": "VirtualResidentCredential"}[kind]


def test_a_tampered_credential_fails(issuer: CityIssuer, resolver: Resolver) -> None:
    issued = issuer.issue("residency", resident_did(), CLAIMS["residency"](), format="data-integrity", now=NOW)
    document = json.loads(json.dumps(issued.document))
    document["credentialSubject"]["birthDate"] = "1970-01-01"
    assert not verify_credential(document, resolver=resolver, now=NOW).verified


def test_sd_jwt_discloses_only_what_the_holder_chooses(issuer: CityIssuer, resolver: Resolver) -> None:
    issued = issuer.issue("residency", resident_did(), CLAIMS["residency"](), now=NOW)
    assert issued.format == "dc+sd-jwt"
    token = str(issued.document)
    payload = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))
    for personal in ("fullName", "fullNameKana", "birthDate", "address", "residentSince", "ageOver18", "residentOfKaga"):
        assert personal not in payload  # all selectively disclosable
    assert payload["assuranceLevel"] == "substantial" and "cnf" in payload and payload["status"]
    from datetime import UTC, datetime

    shown = present_sd_jwt(token, disclose=["ageOver18", "residentOfKaga"], holder_signer=resident_signer(),
                           audience="did:web:ryokan.example", nonce="n-1", now=datetime.now(UTC))
    from kaga_vc import verify_presentation

    result = verify_presentation(shown, resolver=resolver, domain="did:web:ryokan.example", challenge="n-1")
    assert result.verified, result.problems
    assert sorted(result.details["disclosed"]) == ["ageOver18", "residentOfKaga"]
    assert "birthDate" not in result.credential and result.credential["ageOver18"] is True


def test_refused_claims_allocate_and_record_nothing(issuer: CityIssuer) -> None:
    before = issuer.records.count()  # type: ignore[union-attr]
    with pytest.raises(InputError):
        issuer.issue("kyc", resident_did(), CLAIMS["kyc"](fullNameKana="yamada"), now=NOW)
    assert issuer.records.count() == before  # type: ignore[union-attr]


MY_NUMBER = "123456789018"


def test_my_number_cannot_get_through_library_batch_records_or_logs(
    issuer: CityIssuer, city_home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InputError) as caught:
        issuer.issue("kyc", resident_did(), CLAIMS["kyc"](evidence=[{"method": "myNumberCardPublicKey",
                                                                       "verifiedAt": MY_NUMBER}]), now=NOW)
    assert caught.value.code == "kaga:individual-number-refused" and MY_NUMBER not in str(caught.value.to_dict())
    header = "type,subject,fullName,fullNameKana,birthDate,gender,address,residentSince,evidence,assuranceLevel\n"
    rows = [
        f"kyc,{resident_did(3)},山田 {MY_NUMBER},ヤマダ タロウ,1980-01-01,,,,email,\n",
        f"residency,{resident_did(4)},加賀 花子,カガ ハナコ,1990-02-03,,石川県 加賀市 作見町 {MY_NUMBER},2015-04-01,residenceCard,\n",
        f"kyc,{resident_did(5)},山田 太郎,ヤマダ タロウ,1980-01-01,,,,email;{MY_NUMBER},\n",
        f"kyc,{resident_did(6)},山田 太郎,ヤマダ タロウ,1980-01-01,,,,email,\n",
    ]
    csv_path = tmp_path / "batch.csv"
    csv_path.write_text(header + "".join(rows), encoding="utf-8")
    out = tmp_path / "out"
    summary = run_csv_batch(issuer, csv_path, out, progress=False)
    assert (summary["issued"], summary["rejected"]) == (1, 3)
    assert summary["rejectedCodes"] == {"kaga:individual-number-refused": 3}
    for path in [*out.rglob("*"), *city_home.rglob("*")]:
        if path.is_file():
            assert MY_NUMBER.encode() not in path.read_bytes(), path
    db = sqlite3.connect(city_home / "issuance.sqlite3")
    dump = "\n".join(db.iterdump())
    db.close()
    assert MY_NUMBER not in dump
    assert MY_NUMBER not in caplog.text


def test_records_hold_no_personal_claims(issuer: CityIssuer, city_home: Path) -> None:
    issuer.issue("residency", resident_did(8), CLAIMS["residency"](fullName="記録 確認"), now=NOW)
    db = sqlite3.connect(city_home / "issuance.sqlite3")
    dump = "\n".join(db.iterdump())
    db.close()
    for value in ("記録 確認", "カガ ハナコ", "1990-02-03", "大聖寺南町"):
        assert value not in dump


def test_a_failure_after_allocation_leaves_no_claimed_index_and_no_record(
    issuer: CityIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the index claim and the record are one transaction: signing that fails undoes the claim too
    store: Any = issuer.records
    claimed = {info.list_id: len(store.allocated_indices(info.list_id)) for info in store.status_lists()}
    before = store.count()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the signing key is unavailable")

    monkeypatch.setattr(issuer, "_secure", broken)
    with pytest.raises(RuntimeError):
        issuer.issue("residency", resident_did(11), CLAIMS["residency"](), now=NOW)
    monkeypatch.undo()
    assert store.count() == before
    assert {info.list_id: len(store.allocated_indices(info.list_id)) for info in store.status_lists()} == claimed
    assert {info.list_id: info.allocated for info in store.status_lists()} == {
        info.list_id: len(store.allocated_indices(info.list_id)) for info in store.status_lists()}
    # and the issuer goes on (what it cached about the current list was rolled back with it)
    issued = issuer.issue("residency", resident_did(11), CLAIMS["residency"](), now=NOW)
    record = store.get(issued.id)
    assert (record.status_list_id, record.status_index) == (issued.status_list_id, issued.status_index)
    assert issued.status_index in store.allocated_indices(issued.status_list_id)
