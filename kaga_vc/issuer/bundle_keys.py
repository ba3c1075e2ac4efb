"""The city's bundle-signing key: creating, publishing and rotating it (``kaga-vc city bundle-key --rotate``).

Why a dedicated key, and how verifiers check it offline: :mod:`kaga_vc.verifier.bundle_key`. Here:
the order of steps, chosen so that no step can lose a key or leave the city unable to sign bundles:

1. the owner keystore is unlocked (a wrong password stops here, nothing changed);
2. the new key's keystore (``bundle-key-<generation>.json``, mode 0600) is written *before* anything is
   published — a rerun after a crash reuses it, it is never overwritten, and older bundle keystores are
   kept (nothing is deleted);
3. the key is published as a ``KagaBundleKey`` service on the city's did:ethr (skipped if already there);
4. the owner key certifies it and ``city.json`` records keystore and certificate (bundles switch);
5. only then is every other ``KagaBundleKey`` service revoked on chain (the previous key, and any a
   rotation cut off after step 4 left behind).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..keys import KeySigner, KeyType, PrivateKey
from ..verifier.bundle_key import (
    DEFAULT_BUNDLE_KEY_VALIDITY,
    SERVICE_TYPE,
    BundleKeyCertificate,
    certify_bundle_key,
    published_bundle_keys,
    read_certificate,
)
from .service import (
    CITY_FILE,
    OWNER_FILE,
    CityConfig,
    _chain_settings,
    _key,
    _write_json,
    city_dir,
    read_city,
)


def bundle_key_file(generation: int) -> str:
    return f"bundle-key-{generation}.json"


def publish_bundle_key(reg: Any, owner: PrivateKey, did: str, key: PrivateKey, generation: int,
                       valid_for: timedelta = DEFAULT_BUNDLE_KEY_VALIDITY) -> BundleKeyCertificate:
    """Publish ``key`` as the city's ``KagaBundleKey`` service (unless it is already) and certify it."""
    from ..did import Resolver
    from ..keys import ethereum_address
    from ..registry import ethr_method, service_attribute

    certificate = certify_bundle_key(KeySigner(owner, f"{did}#controller"), key.public_key, generation=generation,
                                     valid_for=valid_for)
    document = Resolver({"ethr": ethr_method(reg)}).resolve(did).did_document
    if not any(e.get("publicKeyMultibase") == key.public_key.to_multikey() for e in published_bundle_keys(document)):
        name, value = service_attribute(SERVICE_TYPE, certificate.service_endpoint())
        reg.set_attribute(ethereum_address(owner.public_key), name, value,
                          int(valid_for.total_seconds()), signer=owner)
    return certificate


@dataclass(frozen=True, slots=True)
class BundleKeyRotation:
    """What ``city bundle-key --rotate`` changed."""

    config: CityConfig
    certificate: BundleKeyCertificate
    retired: str | None
    revoked_in_block: int | None

    def to_json(self) -> dict[str, Any]:
        return {"did": self.config.did, "bundleKey": self.certificate.summary(),
                "keystore": self.config.bundle_key_file, "retired": self.retired,
                "revokedInBlock": self.revoked_in_block}


def rotate_bundle_key(
    password: str,
    *,
    home: str | os.PathLike[str] | None = None,
    valid_for: timedelta = DEFAULT_BUNDLE_KEY_VALIDITY,
    scrypt_n: int | None = None,
    registry: Any = None,
) -> BundleKeyRotation:
    """Publish a new bundle key, switch ``city.json`` to it, revoke the previous one (module docstring).

    ``registry``: an already open registry of the city's chain (else the city's own is opened and closed).
    """
    from ..did import Resolver
    from ..keys import ethereum_address
    from ..keys.keystore import load_key
    from ..registry import close_registry, ethr_method, open_registry, service_attribute

    config = read_city(home)
    directory = city_dir(home)
    owner = load_key(directory / OWNER_FILE, password)
    old = read_certificate(config.bundle_key_certificate, config.did) if config.bundle_key_certificate else None
    generation = (old.generation if old is not None else 0) + 1
    key_file = bundle_key_file(generation)
    key = _key(directory / key_file, KeyType.ED25519, password, "city bundle key", scrypt_n)
    settings = _chain_settings(config, None, None, None, Path(home) if home is not None else directory.parent)
    reg = open_registry(settings) if registry is None else registry
    try:
        certificate = publish_bundle_key(reg, owner, config.did, key, generation, valid_for)
        new = replace(config, bundle_key_file=key_file, bundle_key_certificate=certificate.token)
        _write_json(directory / CITY_FILE, new.to_json())  # bundles switch before the old key goes
        block = None
        # every other bundle key still listed goes: the previous one, and any a cut-off rotation left
        document = Resolver({"ethr": ethr_method(reg)}).resolve(config.did).did_document
        for endpoint in published_bundle_keys(document):
            if endpoint.get("publicKeyMultibase") != key.public_key.to_multikey():
                name, value = service_attribute(SERVICE_TYPE, endpoint)
                block = reg.revoke_attribute(ethereum_address(owner.public_key), name, value,
                                             signer=owner).block_number
    finally:
        if registry is None:
            close_registry(reg)
    return BundleKeyRotation(new, certificate, old.key_id if old is not None else None, block)
