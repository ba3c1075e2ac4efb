"""Fixtures of the status / issuance-records tests: a did:key issuer, stores on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kaga_vc import issue_credential
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.did.key import did_key_from_public_key
from kaga_vc.issuer.records import IssuanceStore
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.status import StatusLists

BASE_URL = "https://city.kaga.example/status"


class Issuer:
    """A did:key issuer with a signer and a Data Integrity ``sign`` for status list credentials."""

    def __init__(self, key_type: KeyType = KeyType.ED25519) -> None:
        self.key = PrivateKey.generate(key_type)
        self.did = did_key_from_public_key(self.key.public_key)
        self.signer = KeySigner(self.key, f"{self.did}#{self.did.split(':')[-1]}")

    def sign(self, credential: dict[str, Any]) -> dict[str, Any]:
        return issue_credential(credential, signer=self.signer)


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="session")
def resolver() -> Resolver:
    return Resolver({"key": KeyMethod()})


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IssuanceStore]:
    """An empty issuance store on each backend (a fresh PostgreSQL database per test)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")
    opened = IssuanceStore.open(url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def lists(store: IssuanceStore) -> StatusLists:
    return StatusLists(store, BASE_URL)
