"""Fixtures for the credentials / Data Integrity tests (the socket guard ``no_network`` is tests/conftest.py's)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.did import KeyMethod, Resolver, did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def make_signer(key_type: KeyType = KeyType.ED25519, seed: int | None = None) -> KeySigner:
    if seed is not None and key_type is KeyType.ED25519:
        key = PrivateKey.from_bytes(key_type, bytes([seed]) * 32)
    else:
        key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")


@pytest.fixture(scope="session")
def ed_signer() -> KeySigner:
    return make_signer(KeyType.ED25519, seed=7)


@pytest.fixture(scope="session")
def other_signer() -> KeySigner:
    return make_signer(KeyType.ED25519, seed=9)


@pytest.fixture(scope="session")
def p256_signer() -> KeySigner:
    return make_signer(KeyType.P256)


@pytest.fixture(scope="session")
def resolver() -> Resolver:
    return Resolver({"key": KeyMethod()})


def unsigned_credential(**extra: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:0b9b6f36-6a4e-4d5b-9a0e-2f4c8b1d7e01",
        "type": ["VerifiableCredential", "ResidentCredential"],
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2030-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:resident-1", "name": "加賀 花子", "residentOf": "加賀市"},
    }
    credential.update(extra)
    return credential


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
