"""Ethereum views of secp256k1 keys: the EIP-55 address, recovery, and V3 keystore JSON."""

from __future__ import annotations

import json
from typing import Any

import coincurve
from eth_hash.auto import keccak

from ..errors import INVALID_KEY, KEYSTORE_CORRUPTED, KEYSTORE_WRONG_PASSWORD, InputError, KeystoreError
from ._private import PrivateKey
from ._public import PublicKey
from ._types import KeyType


def to_checksum_address(address: bytes | str) -> str:
    """EIP-55 mixed-case checksum form of a 20-byte address."""
    if isinstance(address, str):
        text = address[2:] if address[:2].lower() == "0x" else address
        try:
            address = bytes.fromhex(text)
        except ValueError:
            raise InputError(INVALID_KEY, "not a hex Ethereum address") from None
    if len(address) != 20:
        raise InputError(INVALID_KEY, "an Ethereum address is 20 bytes")
    hex_addr = address.hex()
    digest = keccak(hex_addr.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_addr))


def ethereum_address(public_key: PublicKey) -> str:
    """The EIP-55 checksummed address of a secp256k1 public key (keccak of the 64-byte point)."""
    if public_key.key_type is not KeyType.SECP256K1:
        raise InputError(INVALID_KEY, "only secp256k1 keys have an Ethereum address")
    return to_checksum_address(keccak(public_key.uncompressed()[1:])[-20:])


def recover_public_key(signature: bytes, digest: bytes) -> PublicKey:
    """Recover the secp256k1 key from ``r || s || v`` (v 0/1 or 27/28) over a 32-byte digest."""
    if len(signature) != 65 or len(digest) != 32:
        raise InputError(INVALID_KEY, "recoverable signature must be 65 bytes over a 32-byte digest")
    v = signature[64]
    if v >= 27:
        v -= 27
    if v not in (0, 1):
        raise InputError(INVALID_KEY, "recovery id must be 0/1 or 27/28")
    try:
        raw = coincurve.PublicKey.from_signature_and_message(signature[:64] + bytes([v]), digest, hasher=None)
    except Exception as exc:
        raise InputError(INVALID_KEY, "signature does not recover to a key") from exc
    return PublicKey.from_raw(KeyType.SECP256K1, raw.format(compressed=True))


def export_v3_keystore(key: PrivateKey, password: str) -> dict[str, Any]:
    """Encrypt a secp256k1 key as an Ethereum V3 keystore (scrypt), as geth and MetaMask read it."""
    from eth_account import Account

    if key.key_type is not KeyType.SECP256K1:
        raise InputError(INVALID_KEY, "a V3 keystore holds a secp256k1 key")
    return dict(Account.encrypt(key.to_bytes(), password, kdf="scrypt"))


def import_v3_keystore(keystore: dict[str, Any] | str, password: str) -> PrivateKey:
    """Decrypt an Ethereum V3 keystore; a wrong password or a damaged file raises KeystoreError."""
    from eth_account import Account

    try:
        data = json.loads(keystore) if isinstance(keystore, str) else keystore
        if not isinstance(data, dict) or "crypto" not in {k.lower() for k in data}:
            raise KeystoreError(KEYSTORE_CORRUPTED, "not an Ethereum V3 keystore")
        secret = Account.decrypt(data, password)
    except KeystoreError:
        raise
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise KeystoreError(KEYSTORE_WRONG_PASSWORD, "wrong password for the V3 keystore") from None
        raise KeystoreError(KEYSTORE_CORRUPTED, "the V3 keystore is damaged or unsupported") from None
    except Exception:  # noqa: BLE001 - eth-account raises many unrelated types on bad files
        raise KeystoreError(KEYSTORE_CORRUPTED, "the V3 keystore is damaged or unsupported") from None
    return PrivateKey(KeyType.SECP256K1, bytes(secret))
