"""Issue 11, one recursion: verify_response verifies each embedded credential exactly once, through the
library's presentation pipeline, and applies each credential's status exactly once.

Real presentations of real city credentials (embedded chain, real status lists in the bundle). The
bundle is wrapped so that every DID resolution (one per signature checked: the proof verifiers
resolve the signer's DID once per signature) and every status list lookup is counted. The city's DID
signs the credentials and the status lists; each list is verified once per response (the pipeline
remembers a verified list), so the city is resolved ``credentials + distinct lists`` times, the
holder once (its presentation proof), and each credential's status entries are looked up once.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.credentials import create_presentation
from kaga_vc.did import ResolutionOptions, ResolutionResult, Resolver
from kaga_vc.holder import create_wallet
from kaga_vc.proofs.jose import envelope, present_sd_jwt, sign_vp_jwt
from kaga_vc.verifier import (
    CredentialQuery,
    NonceStore,
    Policy,
    PresentationResponse,
    TrustBundle,
    create_request,
    encode_response,
    read_bundle,
    verify_response,
)

from .conftest import FAST, PASSWORD, World

AGE = [CredentialQuery("KycCredential", ("ageOver18",))]


class CountingResolver(Resolver):
    """A resolver that counts the resolutions of each DID (and delegates them)."""

    def __init__(self, inner: Resolver, counts: Counter[str]) -> None:
        super().__init__(inner._methods)
        self._inner, self._counts = inner, counts

    def resolve(self, did: Any, options: ResolutionOptions | None = None) -> ResolutionResult:
        self._counts[str(did)] += 1
        return self._inner.resolve(did, options)


RESOLUTIONS: Counter[str] = Counter()  # DID -> resolutions (one per signature checked)
FETCHES: Counter[str] = Counter()  # status list URL -> look-ups


class CountingBundle(TrustBundle):
    """The same signed bundle; its resolvers count resolutions, its status source counts look-ups."""

    __slots__ = ()

    def resolver(self, version_times: Mapping[str, datetime] | None = None) -> Resolver:
        return CountingResolver(TrustBundle.resolver(self, version_times), RESOLUTIONS)

    def fetch(self, url: str) -> Any:
        FETCHES[url] += 1
        return TrustBundle.fetch(self, url)


def _counting(token: str) -> CountingBundle:
    bundle = read_bundle(token)
    RESOLUTIONS.clear()
    FETCHES.clear()
    return CountingBundle(*(getattr(bundle, f.name) for f in fields(TrustBundle)))


def _payload(token: str) -> Any:
    part = token.split("~", 1)[0].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _status_urls(credential: Any) -> list[str]:
    """The status list URLs a credential's entries point to (one look-up each)."""
    data = credential if isinstance(credential, dict) else _payload(credential)
    entries = data.get("credentialStatus") or data.get("status") or []  # SD-JWT VC: the 'status' claim
    entries = entries if isinstance(entries, list) else [entries]
    return [e["statusListCredential"] for e in entries]


@pytest.fixture(scope="module")
def wallet(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_wallet(tmp_path_factory.mktemp("once") / "w.json", PASSWORD, scrypt_n=FAST)


def _di(world: World, wallet: Any, req: Any) -> tuple[Any, list[Any]]:
    issued = [world.issue("data-integrity", subject=wallet.did).document for _ in range(2)]
    return create_presentation(issued, signer=wallet.signer, challenge=req.nonce, domain=req.verifier), issued


def _vp_jwt(world: World, wallet: Any, req: Any) -> tuple[Any, list[Any]]:
    issued = [str(world.issue("vc-jwt", subject=wallet.did).document) for _ in range(2)]
    vp = sign_vp_jwt({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                      "holder": wallet.did, "verifiableCredential": [envelope(t) for t in issued]},
                     wallet.signer, audience=req.verifier, nonce=req.nonce)
    return vp, issued


def _sd_jwt_kb(world: World, wallet: Any, req: Any) -> tuple[Any, list[Any]]:
    issued = str(world.issue("sd-jwt", subject=wallet.did).document)
    return present_sd_jwt(issued, disclose=["ageOver18"], holder_signer=wallet.signer, audience=req.verifier,
                          nonce=req.nonce), [issued]


MAKERS: dict[str, Callable[[World, Any, Any], tuple[Any, list[Any]]]] = {
    "data-integrity": _di, "vp+jwt": _vp_jwt, "sd-jwt+kb": _sd_jwt_kb,
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_each_embedded_credential_is_verified_once(world: World, wallet: Any, tmp_path: Path, name: str) -> None:
    req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
    vp, issued = MAKERS[name](world, wallet, req)
    bundle = _counting(world.bundle().token)
    with NonceStore(tmp_path / "nonces.sqlite3") as store:
        result = verify_response(encode_response(PresentationResponse(req.id, (vp,))), request=req.token,
                                 bundle=bundle, nonce_store=store, policy=Policy(trusted_cities=(world.config.did,)))
    assert result.verified, result.codes
    assert len(result.details["credentials"]) == len(issued)
    urls = [url for credential in issued for url in _status_urls(credential)]
    assert urls, "the city's credentials carry status entries"
    city, holder = world.config.did, wallet.did
    resolutions = RESOLUTIONS
    # the city signed each credential (one check each) and each status list (verified once per response);
    # and its latest document is read once per response and signing key (is the key still listed? issue 12)
    assert resolutions[city] == len(issued) + len(set(urls)) + 1, dict(resolutions)
    if name != "sd-jwt+kb":  # the holder's presentation proof (an SD-JWT+KB is bound by its cnf key, no DID)
        assert resolutions[holder] == 1, dict(resolutions)
    # status applied once per credential: each entry's list looked up once
    assert FETCHES == Counter(urls), dict(FETCHES)


def test_a_vp_jwt_credential_s_status_list_is_not_held_to_the_envelope_s_format(world: World, wallet: Any) -> None:
    """A vp+jwt carries only vc+jwt credentials, but their status lists are Data Integrity credentials:
    the envelope's restriction applies to the credential, not to the lists its status points to."""
    from kaga_vc import verify_presentation

    req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
    vp, _ = _vp_jwt(world, wallet, req)
    bundle = read_bundle(world.bundle().token)
    result = verify_presentation(vp, resolver=bundle.resolver(), status_source=bundle, challenge=req.nonce,
                                 domain=req.verifier)
    assert result.verified, result.codes
    assert "kaga:status-not-checked" not in [w.code for w in result.warnings]
