"""Issue 11: ``kaga_vc.verify_presentation`` and ``kaga_vc.verifier.verify_response`` reach one verdict.

Each fixture is a real presentation of a real city credential (embedded chain) in one format, valid or
tampered; the library (with the bundle's resolver, this request's nonce and audience) and the counter
(the same bundle, the same request) must agree on accept versus refuse. The counter adds policy on top,
so the request asks only for what every valid fixture discloses.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kaga_vc import verify_presentation
from kaga_vc.accesslog import AccessEntry
from kaga_vc.credentials import create_presentation
from kaga_vc.holder import create_wallet
from kaga_vc.proofs.jose import envelope, present_sd_jwt, sign_vp_jwt
from kaga_vc.verifier import (
    CredentialQuery,
    NonceStore,
    Policy,
    PresentationResponse,
    PurposePolicy,
    create_request,
    encode_response,
    read_bundle,
    verify_response,
)

from .conftest import FAST, PASSWORD, World

AGE = [CredentialQuery("KycCredential", ("ageOver18",))]


def _flip_last(token: str) -> str:
    """Change a character inside the signature of the last compact JWS in ``token`` (the first one of
    the signature segment: still canonical base64url, so the signature is checked and fails)."""
    at = token.rindex(".") + 1
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1:]


def _di(world: World, wallet: Any, req: Any) -> Any:
    return create_presentation([world.issue("data-integrity", subject=wallet.did).document], signer=wallet.signer,
                               challenge=req.nonce, domain=req.verifier)


def _di_tampered(world: World, wallet: Any, req: Any) -> Any:
    vp = copy.deepcopy(_di(world, wallet, req))
    vp["verifiableCredential"][0]["credentialSubject"]["fullName"] = "someone else"
    return vp


def _di_other_nonce(world: World, wallet: Any, req: Any) -> Any:
    return create_presentation([world.issue("data-integrity", subject=wallet.did).document], signer=wallet.signer,
                               challenge="another-nonce", domain=req.verifier)


def _vp_jwt(world: World, wallet: Any, req: Any, nonce: str | None = None) -> str:
    token = str(world.issue("vc-jwt", subject=wallet.did).document)
    return sign_vp_jwt({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                        "holder": wallet.did, "verifiableCredential": [envelope(token)]},
                       wallet.signer, audience=req.verifier, nonce=nonce or req.nonce)


def _vp_jwt_tampered(world: World, wallet: Any, req: Any) -> str:
    return _flip_last(_vp_jwt(world, wallet, req))


def _vp_jwt_other_nonce(world: World, wallet: Any, req: Any) -> str:
    return _vp_jwt(world, wallet, req, nonce="another-nonce")


def _vp_jwt_with_di(world: World, wallet: Any, req: Any) -> str:
    document = world.issue("data-integrity", subject=wallet.did).document
    return sign_vp_jwt({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                        "holder": wallet.did, "verifiableCredential": [document]},
                       wallet.signer, audience=req.verifier, nonce=req.nonce)


def _sd_jwt_kb(world: World, wallet: Any, req: Any, nonce: str | None = None) -> str:
    return present_sd_jwt(str(world.issue("sd-jwt", subject=wallet.did).document), disclose=["ageOver18"],
                          holder_signer=wallet.signer, audience=req.verifier, nonce=nonce or req.nonce)


def _sd_jwt_kb_tampered(world: World, wallet: Any, req: Any) -> str:
    return _flip_last(_sd_jwt_kb(world, wallet, req))  # the KB-JWT's signature


def _sd_jwt_other_nonce(world: World, wallet: Any, req: Any) -> str:
    return _sd_jwt_kb(world, wallet, req, nonce="another-nonce")


FIXTURES: dict[str, tuple[Callable[[World, Any, Any], Any], bool]] = {
    "data-integrity": (_di, True),
    "data-integrity tampered": (_di_tampered, False),
    "data-integrity other nonce": (_di_other_nonce, False),
    "vp+jwt": (_vp_jwt, True),
    "vp+jwt tampered": (_vp_jwt_tampered, False),
    "vp+jwt other nonce": (_vp_jwt_other_nonce, False),
    "vp+jwt carrying Data Integrity": (_vp_jwt_with_di, False),
    "sd-jwt+kb": (_sd_jwt_kb, True),
    "sd-jwt+kb tampered": (_sd_jwt_kb_tampered, False),
    "sd-jwt+kb other nonce": (_sd_jwt_other_nonce, False),
}


@pytest.fixture(scope="module")
def wallet(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_wallet(tmp_path_factory.mktemp("agree") / "w.json", PASSWORD, scrypt_n=FAST)


@pytest.mark.parametrize("name", list(FIXTURES))
def test_the_library_and_the_counter_agree(world: World, wallet: Any, tmp_path: Path, name: str) -> None:
    make, expected = FIXTURES[name]
    req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
    vp = make(world, wallet, req)
    bundle = world.bundle()  # after issuing: its status lists cover the new credential
    library = verify_presentation(vp, resolver=read_bundle(bundle.token).resolver(), domain=req.verifier,
                                  challenge=req.nonce)
    with NonceStore(tmp_path / "nonces.sqlite3") as store:
        counter = verify_response(encode_response(PresentationResponse(req.id, (vp,))), request=req.token,
                                  bundle=bundle.token, nonce_store=store,
                                  policy=Policy(trusted_cities=(world.config.did,)))
    assert library.verified is expected, (name, library.codes)
    assert counter.verified is expected, (name, counter.codes)
    if not expected:  # refused for the same reasons, not merely both refused: no policy on unverified facts
        assert set(counter.codes) == set(library.codes), (name, library.codes, counter.codes)


@pytest.mark.parametrize("tampering", ["tampered", "other nonce"])
def test_the_same_tampering_is_refused_with_the_same_code_in_every_format(world: World, wallet: Any, tmp_path: Path,
                                                                          tampering: str) -> None:
    """A broken signature is PROOF_VERIFICATION_ERROR, another nonce INVALID_CHALLENGE_ERROR, whatever the format
    (an SD-JWT+KB whose KB-JWT fails added kaga:holder-not-subject and kaga:claim-not-disclosed)."""
    expected = {"tampered": {"PROOF_VERIFICATION_ERROR"}, "other nonce": {"INVALID_CHALLENGE_ERROR"}}[tampering]
    seen = {}
    for fmt in ("data-integrity", "vp+jwt", "sd-jwt+kb"):
        req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
        result = _counter(world, FIXTURES[f"{fmt} {tampering}"][0](world, wallet, req), req, tmp_path / fmt)
        seen[fmt] = set(result.codes)
    assert all(codes == expected for codes in seen.values()), seen


#: the personal values a KYC credential holds (tests/verifier/conftest.py): none may show in a refusal
PERSONAL = ("加賀 花子", "カガ ハナコ", "1990-04-01")


def _counter(world: World, vp: Any, req: Any, tmp_path: Path, policy: Policy | None = None) -> Any:
    tmp_path.mkdir(parents=True, exist_ok=True)
    with NonceStore(tmp_path / "nonces.sqlite3") as store:
        return verify_response(encode_response(PresentationResponse(req.id, (vp,))), request=req.token,
                               bundle=world.bundle().token, nonce_store=store,
                               policy=policy or Policy(trusted_cities=(world.config.did,)))


def _assert_no_claims(result: Any) -> None:
    assert not result.verified
    assert result.details["claims"] == {}
    assert all(c["claims"] == {} for c in result.details["credentials"]), result.details["credentials"]
    shown = json.dumps(result.to_json(), ensure_ascii=False, default=str)
    assert not [value for value in PERSONAL if value in shown]


@pytest.mark.parametrize("name", [name for name, (_, ok) in FIXTURES.items() if not ok])
def test_a_refused_response_discloses_no_claims(world: World, wallet: Any, tmp_path: Path, name: str) -> None:
    """Holder proof failed, another nonce, a format the envelope may not carry: no claim in the result."""
    req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
    result = _counter(world, FIXTURES[name][0](world, wallet, req), req, tmp_path)
    _assert_no_claims(result)
    entry = AccessEntry.from_verification(result)  # the access log still learns which claims were shown
    assert entry.result == "refused"
    if result.details["credentials"]:
        assert entry.claims and set(entry.claims) <= set(result.details["credentials"][0]["claimNames"])


@pytest.mark.parametrize("name", [name for name, (_, ok) in FIXTURES.items() if ok])
def test_a_response_refused_by_policy_discloses_no_claims(world: World, wallet: Any, tmp_path: Path,
                                                         name: str) -> None:
    """A genuine presentation for a purpose this verifier does not accept: refused, and shows nothing."""
    req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
    policy = Policy(purposes={"pharmacy": PurposePolicy(types=("KycCredential",))},
                    trusted_cities=(world.config.did,))
    result = _counter(world, FIXTURES[name][0](world, wallet, req), req, tmp_path, policy)
    assert result.codes == ["kaga:purpose-not-accepted"]
    _assert_no_claims(result)
    assert result.details["credentials"][0]["claimNames"]  # it was shown: its names, never its values
