"""Ethereum views of secp256k1 keys: the EIP-55 address, recovery, and V3 keystore JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import coincurve

from ..errors import (
    INVALID_KEY,
    KEYSTORE_CORRUPTED,
    KEYSTORE_KDF_OUT_OF_RANGE,
    KEYSTORE_WRONG_PASSWORD,
    InputError,
    KeystoreError,
)
from ._keccak import keccak256
from ._public import PublicKey
from ._types import KeyType

if TYPE_CHECKING:  # imported where a keystore is read: a did:ethr verify needs no private key
    from ._private import PrivateKey


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
    digest = keccak256(hex_addr.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_addr))


def ethereum_address(public_key: PublicKey) -> str:
    """The EIP-55 checksummed address of a secp256k1 public key (keccak of the 64-byte point)."""
    if public_key.key_type is not KeyType.SECP256K1:
        raise InputError(INVALID_KEY, "only secp256k1 keys have an Ethereum address")
    return to_checksum_address(keccak256(public_key.uncompressed()[1:])[-20:])


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

    from ._private import PrivateKey

    try:
        data = json.loads(keystore) if isinstance(keystore, str) else keystore
        if not isinstance(data, dict) or "crypto" not in {k.lower() for k in data}:
            raise KeystoreError(KEYSTORE_CORRUPTED, "not an Ethereum V3 keystore")
        check_v3_kdf(data)
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


#: what a V3 keystore may ask before we derive: geth's "standard" scrypt is n = 2^18, r = 8, p = 1 and
#: its pbkdf2 uses c = 262,144; a planted pbkdf2 c = 2^31 - 1 would run for hours, scrypt 2^31 exhaust memory
MAX_V3_SCRYPT_N = 2**20
MAX_V3_SCRYPT_RP = 16
MAX_V3_PBKDF2_C = 2_000_000


def check_v3_kdf(data: dict[str, Any]) -> None:
    """Refuse a V3 keystore whose KDF parameters would exhaust memory or time (before eth-account runs it)."""
    crypto = next((v for k, v in data.items() if k.lower() == "crypto"), None)
    if not isinstance(crypto, dict):
        raise KeystoreError(KEYSTORE_CORRUPTED, "not an Ethereum V3 keystore")
    kdf, params = crypto.get("kdf"), crypto.get("kdfparams")
    if not isinstance(params, dict):
        raise KeystoreError(KEYSTORE_CORRUPTED, "the V3 keystore has no kdfparams")

    def integer(name: str) -> int:
        value = params.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise KeystoreError(KEYSTORE_CORRUPTED, f"the V3 keystore's kdfparams.{name} is not a positive integer")
        return value

    if integer("dklen") != 32:
        raise KeystoreError(KEYSTORE_KDF_OUT_OF_RANGE, "the V3 keystore's dklen must be 32")
    if kdf == "scrypt":
        n, r, p = integer("n"), integer("r"), integer("p")
        if n > MAX_V3_SCRYPT_N or n & (n - 1) or r * p > MAX_V3_SCRYPT_RP:
            raise KeystoreError(KEYSTORE_KDF_OUT_OF_RANGE, f"the V3 keystore's scrypt parameters exceed n = 2^20, "
                                                          f"r·p = {MAX_V3_SCRYPT_RP}")
    elif kdf == "pbkdf2":
        if params.get("prf") != "hmac-sha256":
            raise KeystoreError(KEYSTORE_KDF_OUT_OF_RANGE, "the V3 keystore's pbkdf2 prf must be hmac-sha256")
        if integer("c") > MAX_V3_PBKDF2_C:
            raise KeystoreError(KEYSTORE_KDF_OUT_OF_RANGE, f"the V3 keystore's pbkdf2 c exceeds {MAX_V3_PBKDF2_C:,}")
    else:
        raise KeystoreError(KEYSTORE_KDF_OUT_OF_RANGE, "the V3 keystore's kdf must be scrypt or pbkdf2")
