"""Rotating the city's assertion keys (``kaga-vc city rotate-key``; runbook in docs/key-rotation.md).

A rotation generates a new Ed25519 and a new secp256k1 assertion key (new keystores beside the old
ones, which are kept: credentials they signed stay verifiable from the DID history), publishes both
as ERC-1056 attributes, records them in ``city.json`` (so issuance and status-list signing switch),
and only then revokes the old keys on chain. The order means a rotation cut off midway leaves the
city able to issue: at worst both key generations are published, and running it again finishes.

A credential issued before the rotation verifies against the DID document *at its issuance time*
(DID Resolution ``versionTime``): the old key was valid then. Nothing the old key signs after the
revocation block verifies at its true time.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import CITY_SETUP_FAILED, KagaError
from ..keys import KeyType
from .service import (
    CITY_FILE,
    OWNER_FILE,
    CityConfig,
    _chain_settings,
    _find_method,
    _key,
    _write_json,
    city_dir,
    read_city,
)


def _into_next_second() -> None:
    """Wait until the wall clock's second changes.

    Credentials state their issuance to the second and several blocks may share one: a revocation in
    the very second the old key last signed would make that credential's DID document (resolved at
    that second) already lack the key. After this, the revocation block is stamped a later second.
    """
    now = time.time()
    time.sleep(math.floor(now) + 1 - now + 0.01)


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation changed: the old and new verification method ids and the new config."""

    config: CityConfig
    retired: tuple[str, ...]
    revoked_in_blocks: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"did": self.config.did, "ed25519Method": self.config.ed25519_method,
                "secp256k1Method": self.config.secp256k1_method, "retired": list(self.retired),
                "revokedInBlocks": list(self.revoked_in_blocks), "keysPublishedAt": self.config.keys_published_at}


def rotate_city_key(
    password: str,
    *,
    home: str | os.PathLike[str] | None = None,
    scrypt_n: int | None = None,
) -> Rotation:
    """Replace both assertion keys of the city (see the module docstring for the order of steps)."""
    from ..did import Resolver
    from ..keys import ethereum_address
    from ..keys.keystore import load_key
    from ..registry import close_registry, ethr_method, key_attribute, open_registry

    config = read_city(home)
    directory = city_dir(home)
    owner = load_key(directory / OWNER_FILE, password)
    old_ed = load_key(directory / config.ed25519_file, password)
    old_k1 = load_key(directory / config.secp256k1_file, password)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    ed_file, k1_file = f"assertion-ed25519-{stamp}.json", f"assertion-secp256k1-{stamp}.json"
    new_ed = _key(directory / ed_file, KeyType.ED25519, password, "city assertion (Ed25519)", scrypt_n)
    new_k1 = _key(directory / k1_file, KeyType.SECP256K1, password, "city assertion (ES256K)", scrypt_n)
    settings = _chain_settings(config, None, None, None, Path(home) if home is not None else directory.parent)
    reg = open_registry(settings)
    try:
        address = ethereum_address(owner.public_key)
        resolver = Resolver({"ethr": ethr_method(reg)})
        for key in (new_ed, new_k1):
            name, value = key_attribute(key.public_key, "veriKey")
            reg.set_attribute(address, name, value, signer=owner)
        resolved = resolver.resolve(config.did)
        ed_id = _find_method(resolved.did_document, new_ed.public_key)
        k1_id = _find_method(resolved.did_document, new_k1.public_key)
        if ed_id is None or k1_id is None:  # pragma: no cover - the registry just listed them
            raise KagaError(CITY_SETUP_FAILED, "the new assertion keys are not in the resolved DID document")
        new = replace(config, ed25519_method=ed_id, secp256k1_method=k1_id, ed25519_file=ed_file,
                      secp256k1_file=k1_file,
                      keys_published_at=str(resolved.did_document_metadata.get("updated", "")))
        _write_json(directory / CITY_FILE, new.to_json())  # issuance switches before the old keys go
        _into_next_second()
        blocks = []
        for key in (old_ed, old_k1):
            name, value = key_attribute(key.public_key, "veriKey")
            blocks.append(reg.revoke_attribute(address, name, value, signer=owner).block_number)
    finally:
        close_registry(reg)
    return Rotation(new, (config.ed25519_method, config.secp256k1_method), tuple(blocks))

