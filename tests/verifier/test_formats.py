"""Issue 11: one ``Format`` enum, detected from structure and ``typ``; formats outside the accepted set refused."""

from __future__ import annotations

from typing import Any

import pytest

from kaga_vc import VerifyParameters, verify_credential, verify_presentation
from kaga_vc.credentials import Format, detect_format
from kaga_vc.credentials.formats import detect
from kaga_vc.errors import FORMAT_NOT_ACCEPTED, KagaError
from kaga_vc.proofs.jose import (
    envelope,
    issue_sd_jwt,
    present_sd_jwt,
    sd_jwt_vc_claims,
    sign_compact,
    sign_jwt_vc11,
    sign_jwt_vp11,
    sign_vc_jwt,
    sign_vp_jwt,
)
from kaga_vc.proofs.jose.jwt_vc11 import credential_to_jwt_payload
from tests._jose_support import ED, HOLDER, NOW, credential_v2, credential_v11, did_of, resolver

AUD, NONCE = "did:web:ryokan.example", "bm9uY2U"
VC = sign_vc_jwt(credential_v2(did_of(ED)), ED)
VC11 = sign_jwt_vc11(credential_v11(did_of(ED)), ED)
ISSUED = issue_sd_jwt(sd_jwt_vc_claims(credential_v2(did_of(ED), subject=did_of(HOLDER)), now=NOW), signer=ED,
                      disclosable=["ageOver18"], holder_key=HOLDER.key.public_key)
SHOWN = present_sd_jwt(ISSUED, holder_signer=HOLDER, audience=AUD, nonce=NONCE, now=NOW)


def _vp(credentials: list[Any]) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
            "holder": did_of(HOLDER), "verifiableCredential": credentials}


VP = sign_vp_jwt(_vp([envelope(VC)]), HOLDER, audience=AUD, nonce=NONCE)
VP11 = sign_jwt_vp11({**_vp([VC11]), "@context": ["https://www.w3.org/2018/credentials/v1"]}, HOLDER,
                     audience=AUD, nonce=NONCE)


def _no_typ(credential: dict[str, Any]) -> str:
    """A VC 1.1 JWT whose header has no ``typ`` (allowed by VC-DATA-MODEL 1.1)."""
    header = {"alg": "EdDSA", "kid": ED.key_id}
    return sign_compact(header, credential_to_jwt_payload(credential), ED)


@pytest.mark.parametrize(("data", "expected"), [
    ({"@context": [], "type": ["VerifiableCredential"]}, Format.DI_CREDENTIAL),
    ('{"type": ["VerifiablePresentation"], "note": "a ~ in a claim"}', Format.DI_PRESENTATION),
    (VC, Format.VC_JWT),
    (VP, Format.VP_JWT),
    (VC11, Format.VC11_JWT),
    (VP11, Format.VP11_JWT),
    (ISSUED, Format.SD_JWT_VC),
    (SHOWN, Format.SD_JWT_KB),
    (_no_typ(credential_v11(did_of(ED))), Format.VC11_JWT),
])
def test_detect(data: Any, expected: Format) -> None:
    assert detect(data) is expected
    assert detect_format(data) == expected.family
    assert expected.is_presentation == (expected in (Format.DI_PRESENTATION, Format.VP_JWT, Format.VP11_JWT,
                                                     Format.SD_JWT_KB))


def test_typ_is_compared_as_rfc_7515_says() -> None:
    header = {"alg": "EdDSA", "kid": ED.key_id, "typ": "application/VC+JWT"}
    token = sign_compact(header, credential_v2(did_of(ED)), ED)
    assert detect(token) is Format.VC_JWT


@pytest.mark.parametrize("text", [
    "a~b.c.d~",               # the first part is not a compact JWS
    VC + "~",                 # a vc+jwt with a stray separator: an SD-JWT with no issuer JWT typ ...
    ISSUED.replace("~", "~~", 1),  # an empty Disclosure
    ISSUED + "garbage",       # neither '~' nor a KB-JWT at the end
    "not.a.jwt.at.all",
    "caf\u00e9.eyJ9.sig",
])
def test_malformed_structure_is_a_parsing_error(text: str) -> None:
    if text == VC + "~":
        # structurally an SD-JWT; its verifier refuses the typ (never verified as a vc+jwt)
        assert detect(text) is Format.SD_JWT_VC
        assert "kaga:invalid-typ" in verify_credential(text, resolver=resolver(), now=NOW).codes
        return
    with pytest.raises(KagaError) as raised:
        detect(text)
    assert raised.value.code == "PARSING_ERROR"
    assert verify_credential(text, resolver=resolver(), now=NOW).codes == ["PARSING_ERROR"]


def test_a_format_outside_the_accepted_set_is_refused() -> None:
    only_sd = frozenset({Format.SD_JWT_VC, Format.SD_JWT_KB})
    refused = verify_credential(VC, resolver=resolver(), now=NOW, formats=only_sd)
    assert refused.codes == [FORMAT_NOT_ACCEPTED] and not refused.could_not_check
    assert refused.problems[0].context["format"] == "vc+jwt"
    assert verify_credential(ISSUED, resolver=resolver(), now=NOW, formats=only_sd).verified
    shown = verify_presentation(SHOWN, resolver=resolver(), now=NOW, formats=only_sd, challenge=NONCE, domain=AUD)
    assert shown.verified, shown.codes


def test_a_jwt_without_typ_is_vc11_only_when_that_format_is_accepted() -> None:
    token = _no_typ(credential_v11(did_of(ED)))
    assert verify_credential(token, resolver=resolver(), now=NOW).verified
    strict = VerifyParameters(resolver=resolver(), now=NOW, formats=frozenset(set(Format) - {Format.VC11_JWT}))
    refused = verify_credential(token, strict)
    assert refused.codes == [FORMAT_NOT_ACCEPTED]
    assert verify_credential(VC11, strict).codes == [FORMAT_NOT_ACCEPTED]
    assert verify_credential(VC, strict).verified


def test_embedded_credentials_obey_the_accepted_formats() -> None:
    vp_ok = verify_presentation(VP, resolver=resolver(), now=NOW, challenge=NONCE, domain=AUD,
                                formats=frozenset({Format.VP_JWT, Format.VC_JWT}))
    assert vp_ok.verified, vp_ok.codes
    refused = verify_presentation(VP, resolver=resolver(), now=NOW, challenge=NONCE, domain=AUD,
                                  formats=frozenset({Format.VP_JWT}))
    assert refused.codes == [FORMAT_NOT_ACCEPTED]
    assert refused.problems[0].context["credential"] == 0


def test_a_misspelled_format_is_an_error() -> None:
    with pytest.raises(ValueError):
        VerifyParameters(resolver=resolver(), formats=frozenset({"vc-jwt"}))  # type: ignore[arg-type]
    params = VerifyParameters(resolver=resolver(), formats=frozenset({"vc+jwt"}))  # type: ignore[arg-type]
    assert params.formats == frozenset({Format.VC_JWT})


def test_presentation_and_credential_entry_points_are_not_confused() -> None:
    as_credential = verify_credential(VP, resolver=resolver(), now=NOW)
    assert as_credential.codes == ["MALFORMED_VALUE_ERROR"] and "presentation" in as_credential.problems[0].detail
    as_presentation = verify_presentation(VC, resolver=resolver(), now=NOW, challenge=NONCE)
    assert as_presentation.codes == ["MALFORMED_VALUE_ERROR"]
    # an SD-JWT VC without key binding is not a presentation: the KB-JWT is missing
    assert "kaga:kb-jwt-missing" in verify_presentation(ISSUED, resolver=resolver(), now=NOW).codes


# -- kaga-vc verify: --format, and credential versus presentation from the format -----------------
def _kaga(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from kaga_vc.cli._app import app

    done = CliRunner().invoke(app, list(args))
    return done.exit_code, done.output


def _now() -> str:
    return NOW.isoformat()


def test_cli_a_vp_jwt_without_challenge_is_verified_as_a_presentation(tmp_path: Any, no_network: None) -> None:
    file = tmp_path / "vp.jwt"
    file.write_text(VP)
    code, out = _kaga("verify", str(file), "--now", _now(), "--json")
    assert code == 0, out
    result = __import__("json").loads(out)
    assert result["verified"] is True and result["format"] == "vp+jwt"
    assert len(result["details"]["credentials"]) == 1
    code, out = _kaga("verify", str(file), "--now", _now(), "--challenge", NONCE, "--domain", AUD, "--json")
    assert code == 0, out
    code, out = _kaga("verify", str(file), "--now", _now(), "--challenge", "other", "--json")
    assert code == 1 and "INVALID_CHALLENGE_ERROR" in out


def test_cli_a_challenge_asked_of_a_credential_is_refused(tmp_path: Any, no_network: None) -> None:
    file = tmp_path / "vc.jwt"
    file.write_text(VC)
    assert _kaga("verify", str(file), "--now", _now())[0] == 0
    code, out = _kaga("verify", str(file), "--now", _now(), "--challenge", NONCE, "--json")
    assert code == 1 and "MALFORMED_VALUE_ERROR" in out


def test_cli_format_option(tmp_path: Any, no_network: None) -> None:
    file = tmp_path / "vc.jwt"
    file.write_text(VC)
    assert _kaga("verify", str(file), "--now", _now(), "--format", "vc+jwt", "--format", "dc+sd-jwt")[0] == 0
    code, out = _kaga("verify", str(file), "--now", _now(), "--format", "dc+sd-jwt", "--json")
    assert code == 1
    assert [p["code"] for p in __import__("json").loads(out)["problems"]] == [FORMAT_NOT_ACCEPTED]
    code, out = _kaga("verify", str(file), "--format", "vc-jwt")
    assert code == 2 and "unknown format" in out
    code, out = _kaga("verify", "--help")
    assert code == 0 and "--format" in out
