"""Issue 11: ``kaga_vc.verify_presentation`` and ``kaga_vc.verifier.verify_response`` reach one verdict.

Each fixture is a real presentation of a real city credential (embedded chain) in one format, valid or
tampered; the library (with the bundle's resolver, this request's nonce and audience) and the counter
(the same bundle, the same request) must agree on accept versus refuse. The counter adds policy on top,
so the request asks only for what every valid fixture discloses.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kaga_vc import verify_presentation
from kaga_vc.credentials import create_presentation
from kaga_vc.holder import create_wallet
from kaga_vc.proofs.jose import envelope, present_sd_jwt, sign_vp_jwt
from kaga_vc.verifier import (
    CredentialQuery,
    NonceStore,
    Policy,
    PresentationResponse,
    create_request,
    encode_response,
    read_bundle,
    verify_response,
)

from .conftest import FAST, PASSWORD, World

AGE = [CredentialQuery("KycCredential", ("ageOver18",))]


def _flip_last(token: str) -> str:
    """Change the last base64url character of a compact JWS (its signature)."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


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
    if not expected:  # refused for the same reason, not merely both refused
        assert set(library.codes) & set(counter.codes), (name, library.codes, counter.codes)
