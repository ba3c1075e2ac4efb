"""A bundle is trusted only if it rests on the key the city's DID string commits to.

For a did:ethr city that is its identity address, which certifies the dedicated bundle key
(kaga_vc.verifier.bundle_key). The histories inside a bundle cannot be authenticated offline, so a
signature checked against a document built from them would accept a forger who appended a "key
added" event and signed with that key. These tests forge bundles that way (and every other way a
certificate could be faked) and expect every one to be refused, on a real city on the embedded chain.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kaga_vc.did import Resolver
from kaga_vc.errors import (
    BUNDLE_INVALID,
    BUNDLE_KEY_NOT_CERTIFIED,
    BUNDLE_SIGNATURE_INVALID,
    InputError,
    ProofError,
)
from kaga_vc.keys import KeySigner, KeyType, PrivateKey, ethereum_address
from kaga_vc.proofs.jose import parse_compact, sign_compact
from kaga_vc.registry import ethr_method
from kaga_vc.verifier import build_bundle, read_bundle
from kaga_vc.verifier.bundle import BUNDLE_TYP
from kaga_vc.verifier.bundle_key import BundleKeySigner, certify_bundle_key, published_bundle_keys

from .conftest import World

ANOTHER_ISSUER = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


def _forge(token: str, signer: Any, *, alg: str, kid: str, extra_issuer: str | None = ANOTHER_ISSUER,
           **changes: Any) -> str:
    payload = dict(parse_compact(token).payload)
    if extra_issuer is not None:
        payload["issuers"] = [*payload["issuers"], {"did": extra_issuer, "types": ["KycCredential"]}]
    for name, value in changes.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return sign_compact({"alg": alg, "typ": BUNDLE_TYP, "kid": kid}, payload, signer)


def _refused(world: World, token: str) -> str:
    with pytest.raises(ProofError) as info:
        read_bundle(token, trusted_city=world.config.did)
    return info.value.code


def test_genuine_bundle_is_signed_by_the_certified_bundle_key(world: World) -> None:
    bundle = world.bundle()
    assert parse_compact(bundle.token).header["kid"] == f"{world.config.did}#bundle-key-1"
    read = read_bundle(bundle.token, trusted_city=world.config.did)
    assert read.city == world.config.did and read.key_generation == 1
    assert read.key_certificate is not None
    certificate = parse_compact(read.key_certificate.token)
    assert certificate.header["kid"] == f"{world.config.did}#controller"  # the owner (identity) key certified it
    # published on the city's did:ethr as a KagaBundleKey service, and not as a key of the city:
    # it cannot sign credentials in the city's name
    document = Resolver({"ethr": ethr_method(world.registry)}).resolve(world.config.did).did_document
    key = read.key_certificate.public_key.to_multikey()
    assert [e["publicKeyMultibase"] for e in published_bundle_keys(document)] == [key]
    assert all(vm.get("publicKeyMultibase") != key for vm in document["verificationMethod"])
    assert read.summary()["bundleKey"]["keyId"] == f"{world.config.did}#bundle-key-1"


def test_the_owner_key_itself_no_longer_signs_routine_bundles(world: World) -> None:
    owner = KeySigner(world.owner, f"{world.config.did}#controller")
    token = _forge(world.bundle().token, owner, alg="ES256K", kid=owner.key_id, extra_issuer=None)
    assert _refused(world, token) == BUNDLE_KEY_NOT_CERTIFIED
    with pytest.raises(InputError) as info:
        build_bundle(signer=owner, issuers=list(world.bundle().issuers.values()), histories=[])
    assert info.value.code == BUNDLE_INVALID


def test_assertion_key_listed_in_the_history_cannot_sign_bundles(world: World) -> None:
    # The city's own Ed25519 assertion key is in its DID document; it still may not sign a bundle:
    # "in the document" is only what the bundle's own histories say, and the owner certified another key.
    token = _forge(world.bundle().token, world.issuer.ed25519_signer, alg="EdDSA", kid=world.config.ed25519_method)
    assert _refused(world, token) == BUNDLE_KEY_NOT_CERTIFIED
    token = _forge(world.bundle().token, world.issuer.ed25519_signer, alg="EdDSA",
                   kid=f"{world.config.did}#bundle-key-1")  # under the genuine certificate's kid
    assert _refused(world, token) == BUNDLE_SIGNATURE_INVALID


@pytest.mark.parametrize("fragment", ["#controller", "#delegate-3", "#bundle-key-1", "#bundle-key-2"])
def test_forger_key_is_refused_whatever_the_kid(world: World, fragment: str) -> None:
    forger = PrivateKey.generate(KeyType.ED25519)
    kid = world.config.did + fragment
    token = _forge(world.bundle().token, KeySigner(forger, kid), alg="EdDSA", kid=kid)
    assert _refused(world, token) in (BUNDLE_KEY_NOT_CERTIFIED, BUNDLE_SIGNATURE_INVALID)


def test_a_key_the_owner_never_certified_is_refused(world: World) -> None:
    """A certificate signed by any other key than the city's identity key certifies nothing."""
    forger_owner = PrivateKey.generate(KeyType.SECP256K1)
    forger_key = PrivateKey.generate(KeyType.ED25519)
    # 1. a "certificate" for the city's DID, signed by the forger's secp256k1 key under the city's #controller
    fake = certify_bundle_key(KeySigner(forger_owner, f"{world.config.did}#controller"), forger_key.public_key,
                              generation=7)
    signer = BundleKeySigner(forger_key, fake)
    token = _forge(world.bundle().token, signer, alg="EdDSA", kid=signer.key_id, bundleKey=fake.token)
    assert _refused(world, token) == BUNDLE_KEY_NOT_CERTIFIED
    # 2. a genuine certificate, but of another city (the forger's own did:ethr) for the forger's key
    other_city = f"did:ethr:0x539:{ethereum_address(forger_owner.public_key)}"
    theirs = certify_bundle_key(KeySigner(forger_owner, f"{other_city}#controller"), forger_key.public_key,
                                generation=1)
    token = _forge(world.bundle().token, BundleKeySigner(forger_key, theirs), alg="EdDSA",
                   kid=f"{world.config.did}#bundle-key-1", bundleKey=theirs.token)
    assert _refused(world, token) == BUNDLE_KEY_NOT_CERTIFIED
    # 3. no certificate at all, the forger's key "added" to the city's history in the bundle
    token = _forge(world.bundle().token, KeySigner(forger_key, f"{world.config.did}#bundle-key-1"), alg="EdDSA",
                   kid=f"{world.config.did}#bundle-key-1", bundleKey=None)
    assert _refused(world, token) == BUNDLE_KEY_NOT_CERTIFIED


def test_a_bundle_outside_its_key_certificate_is_refused(world: World) -> None:
    signer = world.bundle_signer
    after = signer.certificate.valid_until + timedelta(days=1)
    with pytest.raises(InputError) as info:
        build_bundle(signer=signer, issuers=list(world.bundle().issuers.values()), histories=[], now=after)
    assert info.value.code == BUNDLE_INVALID
    # the genuine key, re-dated past its certificate: refused offline
    token = _forge(world.bundle().token, signer, alg="EdDSA", kid=signer.key_id, extra_issuer=None,
                   createdAt=after.isoformat().replace("+00:00", "Z"))
    assert _refused(world, token) == BUNDLE_KEY_NOT_CERTIFIED
    before = signer.certificate.valid_from - timedelta(days=1)
    token = _forge(world.bundle().token, signer, alg="EdDSA", kid=signer.key_id, extra_issuer=None,
                   createdAt=before.isoformat().replace("+00:00", "Z"))
    assert _refused(world, token) == BUNDLE_KEY_NOT_CERTIFIED


def test_build_bundle_refuses_a_non_bundle_key_signer(world: World) -> None:
    with pytest.raises(InputError) as info:
        build_bundle(signer=world.issuer.ed25519_signer, issuers=list(world.bundle().issuers.values()), histories=[])
    assert info.value.code == BUNDLE_INVALID
