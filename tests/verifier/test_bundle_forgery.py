"""A bundle is trusted only if the key the city's DID string commits to signed it.

The histories inside a bundle cannot be authenticated offline, so a signature checked against a
document built from them would accept a forger who appended a "key added" event and signed with
that key. These tests forge bundles that way and expect every one to be refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from kaga_vc.errors import BUNDLE_INVALID, BUNDLE_SIGNATURE_INVALID, InputError, ProofError
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.proofs.jose._jws import parse_compact, sign_compact
from kaga_vc.verifier import build_bundle, read_bundle
from kaga_vc.verifier.bundle import BUNDLE_TYP

from .conftest import World


def _forge(token: str, signer: Any, *, alg: str, kid: str, extra_issuer: str | None = None) -> str:
    payload = dict(parse_compact(token).payload)
    if extra_issuer is not None:
        payload["issuers"] = [*payload["issuers"], {"did": extra_issuer, "types": ["KycCredential"]}]
    return sign_compact({"alg": alg, "typ": BUNDLE_TYP, "kid": kid}, payload, signer)


def test_genuine_bundle_is_signed_by_the_identity_key(world: World) -> None:
    bundle = world.bundle()
    assert parse_compact(bundle.token).header["kid"] == f"{world.config.did}#controller"
    assert read_bundle(bundle.token, trusted_city=world.config.did).city == world.config.did


def test_assertion_key_listed_in_the_history_cannot_sign_bundles(world: World) -> None:
    # The city's own Ed25519 assertion key is in its DID document; it still may not sign a bundle,
    # since "in the document" is only what the bundle's own histories say.
    token = _forge(world.bundle().token, world.issuer.ed25519_signer, alg="EdDSA",
                   kid=world.config.ed25519_method, extra_issuer="did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
    with pytest.raises(ProofError) as info:
        read_bundle(token, trusted_city=world.config.did)
    assert info.value.code == BUNDLE_SIGNATURE_INVALID


@pytest.mark.parametrize("fragment", ["#controller", "#delegate-3"])
def test_forger_key_is_refused_whatever_the_kid(world: World, fragment: str) -> None:
    forger = PrivateKey.generate(KeyType.SECP256K1)
    kid = world.config.did + fragment
    token = _forge(world.bundle().token, KeySigner(forger, kid), alg="ES256K", kid=kid,
                   extra_issuer="did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
    with pytest.raises(ProofError) as info:
        read_bundle(token, trusted_city=world.config.did)
    assert info.value.code == BUNDLE_SIGNATURE_INVALID


def test_build_bundle_refuses_a_non_identity_signer(world: World) -> None:
    with pytest.raises(InputError) as info:
        build_bundle(signer=world.issuer.ed25519_signer, issuers=list(world.bundle().issuers.values()), histories=[])
    assert info.value.code == BUNDLE_INVALID
