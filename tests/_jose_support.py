"""Shared test material for the JOSE tests: fixed keys, DIDs, signers, a resolver, sample credentials."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kaga_vc.did import KeyMethod, Resolver, did_key_from_public_key
from kaga_vc.did.ethr_implicit import ImplicitEthrMethod, did_ethr_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"


def key(key_type: KeyType, seed: int) -> PrivateKey:
    size = 48 if key_type is KeyType.P384 else 32
    return PrivateKey(key_type, bytes([seed]) * (size - 1) + b"\x01")


def did_key_signer(private: PrivateKey) -> KeySigner:
    did = did_key_from_public_key(private.public_key)
    return KeySigner(private, f"{did}#{private.public_key.to_multikey()}")


def did_ethr_signer(private: PrivateKey, network: str | None = "0x4b6") -> KeySigner:
    did = did_ethr_from_public_key(private.public_key, network=network)
    return KeySigner(private, f"{did}#controller")


def did_of(signer: KeySigner) -> str:
    return signer.key_id.split("#", 1)[0]


def resolver() -> Resolver:
    return Resolver({"key": KeyMethod(), "ethr": ImplicitEthrMethod()})


ED = did_key_signer(key(KeyType.ED25519, 7))
P256 = did_key_signer(key(KeyType.P256, 8))
K1_KEY = did_key_signer(key(KeyType.SECP256K1, 9))
ETHR = did_ethr_signer(key(KeyType.SECP256K1, 10))
HOLDER = did_key_signer(key(KeyType.P256, 11))
HOLDER_ED = did_key_signer(key(KeyType.ED25519, 12))
OTHER_ED = did_key_signer(key(KeyType.ED25519, 13))


def credential_v2(issuer: str, subject: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "@context": [V2],
        "id": "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5",
        "type": ["VerifiableCredential", "KagaResidentCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": subject or did_of(HOLDER), "residentOf": "Kaga", "ageOver18": True},
        **extra,
    }


def credential_v11(issuer: str, subject: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "@context": [V1],
        "id": "urn:uuid:1c1a3b5e-3d0c-4a8e-9b55-0c5d6a0f7a11",
        "type": ["VerifiableCredential", "KagaResidentCredential"],
        "issuer": issuer,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "expirationDate": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": subject or did_of(HOLDER), "residentOf": "Kaga", "ageOver18": True},
        **extra,
    }
