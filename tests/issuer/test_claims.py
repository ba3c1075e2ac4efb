"""Every field rule of the city's credential types, each with a negative test asserting its code."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from typing import Any

import pytest

from kaga_vc.contexts import default_loader, kaga_contexts
from kaga_vc.credentials.kaga import (
    KAGA_CONTEXT,
    CredentialKind,
    build_credential,
    check_schema,
    contains_individual_number,
    load_schema,
    schema_digest_sri,
    validate_claims,
)
from kaga_vc.errors import DocumentLoadError, InputError

from .conftest import CLAIMS, kyc_claims, residency_claims, resident_did, virtual_claims

TODAY = date(2026, 6, 1)


def refused(kind: str, claims: dict[str, Any], code: str) -> InputError:
    with pytest.raises(InputError) as caught:
        validate_claims(kind, claims, today=TODAY)
    assert caught.value.code == code, caught.value
    return caught.value


# --- the context and the schemas ------------------------------------------------------------------


def test_kaga_context_is_bundled_digest_checked_and_served_offline(no_network: None) -> None:
    bundle = kaga_contexts()
    assert KAGA_CONTEXT in bundle.urls()
    raw = json.dumps(bundle.get(KAGA_CONTEXT))
    assert "@protected" in raw
    document = default_loader()(KAGA_CONTEXT, {})["document"]
    terms = document["@context"]
    assert terms["@protected"] is True
    for term in ("fullName", "fullNameKana", "birthDate", "address", "ageOver18", "ageOver20", "residentOfKaga",
                 "KycCredential", "ResidencyCredential", "VirtualResidentCredential", "IdentityProofing"):
        assert term in terms


def test_a_tampered_kaga_context_is_refused(tmp_path: Any) -> None:
    from kaga_vc.contexts import BundledContexts

    package = tmp_path / "tampered_ctx"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = kaga_contexts()
    index = {KAGA_CONTEXT: {"file": "ctx.jsonld", "sha256": source.digest(KAGA_CONTEXT)}}
    (package / "index.json").write_text(json.dumps(index))
    body = json.dumps(source.get(KAGA_CONTEXT)).replace("fullName", "fullname")
    (package / "ctx.jsonld").write_text(body)
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(DocumentLoadError) as caught:
            BundledContexts("tampered_ctx").get(KAGA_CONTEXT)
        assert caught.value.code == "kaga:context-digest-mismatch"
    finally:
        sys.path.remove(str(tmp_path))


@pytest.mark.parametrize("kind", list(CredentialKind), ids=lambda k: k.value)
def test_schemas_are_2020_12_and_credential_schema_carries_their_digest(kind: CredentialKind) -> None:
    from jsonschema import Draft202012Validator

    schema = load_schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    claims = CLAIMS[kind.value]()
    credential = build_credential(validate_claims(kind, claims, today=TODAY), issuer="did:example:city",
                                  subject_did=resident_did())
    assert credential["credentialSchema"]["id"] == schema["$id"]
    assert credential["credentialSchema"]["type"] == "JsonSchema"
    assert credential["credentialSchema"]["digestSRI"] == schema_digest_sri(kind)
    import base64

    raw = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    assert schema_digest_sri(kind) == "sha384-" + base64.b64encode(hashlib.sha384(raw.encode()).digest()).decode()


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda c: c["credentialSubject"].update(fullNameKana="kana"), "$.credentialSubject.fullNameKana"),
        (lambda c: c["credentialSubject"].update(birthDate="1990-02-30"), "$.credentialSubject.birthDate"),
        (lambda c: c["credentialSubject"].update(extra="x"), "$.credentialSubject"),
        (lambda c: c["credentialSubject"]["address"].update(municipalityCode="17201"),
         "$.credentialSubject.address.municipalityCode"),
        (lambda c: c["credentialSubject"].update(residentOfKaga=False), "$.credentialSubject.residentOfKaga"),
        (lambda c: c["evidence"][0].update(evidenceMethod="fax"), "$.evidence[0].evidenceMethod"),
        (lambda c: c.update({"@context": ["https://www.w3.org/ns/credentials/v2"]}), "$['@context']"),
    ],
)
def test_schema_violations_name_the_path_not_the_value(mutate: Any, path: str) -> None:
    credential = build_credential(validate_claims("residency", residency_claims(), today=TODAY),
                                  issuer="did:example:city", subject_did=resident_did())
    bad = copy.deepcopy(credential)
    mutate(bad)
    with pytest.raises(InputError) as caught:
        check_schema(bad)
    assert caught.value.code == "kaga:schema-violation"
    assert caught.value.context["field"] == path
    assert "1990-02-30" not in caught.value.detail and "kana" not in caught.value.detail.replace("Kana", "")


# --- normalisation and derived claims --------------------------------------------------------------


def test_text_is_nfc_normalised() -> None:
    decomposed = "カ\u3099カ\u3099 ハナコ"  # ガガ written with combining voiced marks
    claims = validate_claims("residency", residency_claims(fullNameKana=decomposed), today=TODAY)
    assert claims.subject["fullNameKana"] == "ガガ ハナコ"


def test_derived_claims() -> None:
    adult = validate_claims("residency", residency_claims(), today=TODAY).subject
    assert (adult["ageOver18"], adult["ageOver20"], adult["residentOfKaga"]) == (True, True, True)
    minor = validate_claims("kyc", kyc_claims(birthDate="2008-06-02"), today=TODAY).subject
    assert (minor["ageOver18"], minor["ageOver20"]) == (False, False)
    assert "residentOfKaga" not in minor
    nineteen = validate_claims("kyc", kyc_claims(birthDate="2007-06-01"), today=TODAY).subject
    assert (nineteen["ageOver18"], nineteen["ageOver20"]) == (True, False)
    assert validate_claims("virtual-resident", virtual_claims(), today=TODAY).subject["residentOfKaga"] is False


def test_age_on_29_february_birthdays() -> None:
    claims = kyc_claims(birthDate="2008-02-29")
    assert validate_claims("kyc", claims, today=date(2026, 2, 28)).subject["ageOver18"] is False
    assert validate_claims("kyc", claims, today=date(2026, 3, 1)).subject["ageOver18"] is True


@pytest.mark.parametrize(
    ("evidence", "level"),
    [(["email"], "low"), (["openid"], "low"), (["driversLicence"], "substantial"), (["residenceCard"], "substantial"),
     (["myNumberCardPublicKey"], "high"), (["email", "residenceCard"], "substantial")],
)
def test_evidence_sets_the_assurance_level(evidence: list[str], level: str) -> None:
    claims = validate_claims("kyc", kyc_claims(evidence=evidence), today=TODAY)
    assert claims.subject["assuranceLevel"] == level
    assert [e["evidenceMethod"] for e in claims.evidence] == evidence


def test_address_fills_in_the_kaga_municipality_code() -> None:
    address = validate_claims("residency", residency_claims(), today=TODAY).subject["address"]
    assert address == {"type": "JapaneseAddress", "prefecture": "石川県", "municipality": "加賀市",
                       "municipalityCode": "17206", "town": "大聖寺南町", "block": "ニ41"}


# --- each rule's code ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "claims", "code"),
    [
        ("kyc", kyc_claims(fullNameKana="Yamada Taro"), "kaga:not-kana"),
        ("kyc", kyc_claims(fullNameKana="山田 タロウ"), "kaga:not-kana"),
        ("kyc", kyc_claims(fullNameKana="ﾔﾏﾀﾞ ﾀﾛｳ"), "kaga:not-kana"),  # half-width kana
        ("kyc", kyc_claims(fullName=""), "kaga:missing-claim"),
        ("kyc", kyc_claims(fullName="山田\u0000太郎"), "kaga:invalid-text"),
        ("kyc", kyc_claims(fullName="山" * 101), "kaga:invalid-text"),
        ("kyc", kyc_claims(birthDate="1990-02-30"), "kaga:invalid-date"),
        ("kyc", kyc_claims(birthDate="19900203"), "kaga:invalid-date"),
        ("kyc", kyc_claims(birthDate="2026-06-02"), "kaga:date-in-future"),
        ("kyc", kyc_claims(birthDate="1850-01-01"), "kaga:implausible-date"),
        ("kyc", kyc_claims(gender="unknown"), "kaga:invalid-gender"),
        ("kyc", kyc_claims(assuranceLevel="extreme"), "kaga:invalid-assurance-level"),
        ("kyc", kyc_claims(evidence=["fax"]), "kaga:unknown-evidence"),
        ("kyc", kyc_claims(evidence=[{"method": "residenceCard", "cardNumber": "AB1234"}]), "kaga:unknown-claim"),
        ("kyc", kyc_claims(evidence=["email"], assuranceLevel="high"), "kaga:assurance-exceeds-evidence"),
        ("kyc", kyc_claims(nickname="taro"), "kaga:unknown-claim"),
        ("kyc", kyc_claims(address="石川県 加賀市"), "kaga:invalid-address"),
        ("kyc", kyc_claims(address="ワシントン州 加賀市 町 1"), "kaga:unknown-prefecture"),
        ("kyc", kyc_claims(address={"prefecture": "東京都", "municipality": "千代田区", "town": "丸の内",
                                    "block": "1-1", "municipalityCode": "17206"}), "kaga:invalid-municipality-code"),
        ("kyc", kyc_claims(address={"prefecture": "石川県", "municipality": "加賀市", "town": "作見町",
                                    "block": "ル25", "municipalityCode": "1720"}), "kaga:invalid-municipality-code"),
        ("residency", residency_claims(address="石川県 金沢市 広坂 1-1-1"), "kaga:not-a-kaga-address"),
        ("residency", residency_claims(residentSince=None), "kaga:missing-claim"),
        ("residency", residency_claims(residentSince="2030-01-01"), "kaga:date-in-future"),
        ("residency", residency_claims(residentSince="1980-01-01"), "kaga:implausible-date"),  # before birth
        ("virtual-resident", virtual_claims(evidence=["myNumberCardPublicKey"], assuranceLevel="high"),
         "kaga:virtual-resident-assurance"),
        ("permit", kyc_claims(), "kaga:unknown-credential-type"),
    ],
)
def test_each_rule_has_its_code(kind: str, claims: dict[str, Any], code: str) -> None:
    error = refused(kind, claims, code)
    for name in ("fullName", "fullNameKana", "birthDate", "residentSince", "address"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            assert value not in error.detail  # details name fields, never personal values


def test_a_virtual_resident_is_issued_at_most_substantial() -> None:
    claims = validate_claims("virtual-resident", virtual_claims(evidence=["myNumberCardPublicKey"]), today=TODAY)
    assert claims.subject["assuranceLevel"] == "substantial"


def test_invalid_subject_did() -> None:
    claims = validate_claims("kyc", kyc_claims(), today=TODAY)
    with pytest.raises(InputError) as caught:
        build_credential(claims, issuer="did:example:city", subject_did="not a did")
    assert caught.value.code == "kaga:invalid-subject"


# --- the individual number (My Number) ----------------------------------------------------------

MY_NUMBERS = ["123456789018", "1234 5678 9018", "1234-5678-9018", "１２３４５６７８９０１８", 123456789018,
              # digits of other scripts, and invisible or unusual separators between them
              "١٢٣٤٥٦٧٨٩٠١٨", "۱۲۳۴۵۶۷۸۹۰۱۸", "1234\u200b5678\u200b9018", "1234\u20605678\u20609018",
              "1234\u00ad5678\u00ad9018", "\ufeff1234\ufeff5678\ufeff9018", "1234.5678.9018", "1234/5678/9018"]


@pytest.mark.parametrize("number", MY_NUMBERS, ids=str)
@pytest.mark.parametrize("field", ["fullName", "fullNameKana", "address", "gender", "evidence", "nickname",
                                   "assuranceLevel"])
def test_an_individual_number_is_refused_in_any_field_and_never_echoed(number: Any, field: str) -> None:
    claims = kyc_claims()
    if field == "address":
        claims["address"] = f"石川県 加賀市 作見町 {number}"
    elif field == "evidence":
        claims["evidence"] = [{"method": "myNumberCardPublicKey", "verifiedAt": number}]
    else:
        claims[field] = number
    error = refused("kyc", claims, "kaga:individual-number-refused")
    text = json.dumps(error.to_dict(), ensure_ascii=False) + str(error) + repr(error)
    digits = str(number)
    assert digits not in text and "123456789018" not in text and "9018" not in text


def test_an_individual_number_as_a_claim_name_is_refused_too() -> None:
    claims = kyc_claims()
    claims["123456789018"] = "x"
    error = refused("kyc", claims, "kaga:individual-number-refused")
    assert "123456789018" not in str(error.to_dict())


@pytest.mark.parametrize("text", ["ニ41", "2-101", "17206", "1990-02-03", "〒922-0000", "12345678901"])
def test_ordinary_numbers_are_not_individual_numbers(text: str) -> None:
    assert not contains_individual_number(text)
