"""Fixtures of the access-log tests: verifier and resident keys (did:key), logs on SQLite and PostgreSQL,
the anchor contract on an embedded chain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.accesslog import AccessEntry, AccessLog
from kaga_vc.did import did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey

LOG_KEY = bytes(range(32))


@dataclass(frozen=True)
class Party:
    key: PrivateKey
    did: str
    signer: KeySigner


def make_party(key_type: KeyType = KeyType.ED25519) -> Party:
    key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    return Party(key, did, KeySigner(key, f"{did}#{did.split(':')[-1]}"))


@pytest.fixture
def ryokan() -> Party:
    return make_party()


@pytest.fixture
def clinic() -> Party:
    return make_party(KeyType.P256)


@pytest.fixture
def alice() -> Party:
    return make_party()


@pytest.fixture
def bob() -> Party:
    return make_party()


def entry(verifier: Party, subject: Party | None, **kw: Any) -> AccessEntry:
    values: dict[str, Any] = {
        "verifier": verifier.did, "subject": subject.did if subject else None, "purpose": "lodging-check-in",
        "result": "accepted", "credential_types": ["KagaResidentCredential"], "claims": ["ageOver18", "residentOf"],
        "location": "Yamanaka Onsen front desk", "verifier_category": "lodging",
    }
    values.update(kw)
    return AccessEntry(**values)


@pytest.fixture
def sqlite_log(tmp_path: Path, ryokan: Party) -> Iterator[AccessLog]:
    log = AccessLog.open(str(tmp_path / "log.db"), log_key=LOG_KEY, signer=ryokan.signer)
    yield log
    log.close()


@pytest.fixture(scope="module")
def anchorer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from kaga_vc.registry.anchor import open_anchor
    from kaga_vc.registry.chains import ChainSettings

    anchor = open_anchor(ChainSettings(home=tmp_path_factory.mktemp("chain-home")))
    yield anchor
    anchor.close()
