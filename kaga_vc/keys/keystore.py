"""Encrypted keystore files: one private key per file, scrypt + AES-256-GCM.

Format (JSON)::

    {"kagaVcKeystore": 1, "keyType": "Ed25519", "publicKeyMultibase": "z6Mk…", "label": "…",
     "kdf": {"name": "scrypt", "n": 131072, "r": 8, "p": 1, "salt": "<b64url>"},
     "cipher": {"name": "A256GCM", "nonce": "<b64url>", "ciphertext": "<b64url>"}}

Everything but the ciphertext is bound as AES-GCM associated data, so a file whose key type,
public key or KDF parameters were edited fails like a wrong password would not: with
``kaga:keystore-corrupted``. Files are written atomically with mode 0600. Neither the password
nor the key ever appears in an exception message.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .._encoding import b64url_decode, b64url_encode
from .._files import write_atomically
from ..errors import (
    KEYSTORE_CORRUPTED,
    KEYSTORE_EXISTS,
    KEYSTORE_KDF_OUT_OF_RANGE,
    KEYSTORE_UNREADABLE,
    KEYSTORE_WRONG_PASSWORD,
    InputError,
    KagaError,
    KeystoreError,
)
from ._private import PrivateKey
from ._public import PublicKey
from ._types import KeyType

FORMAT_VERSION = 1
DEFAULT_SCRYPT_N = 2**17  # OWASP's scrypt minimum is 2**17 with r=8, p=1
MIN_SCRYPT_N = 2**10  # below this a file is refused as tampered (a downgrade attack)
#: above this a file is refused before deriving: n = 2^20 with r = 8 already takes 1 GiB of memory, and a
#: planted n = 2^31 would end in MemoryError (or the OOM killer) instead of a clear error
MAX_SCRYPT_N = 2**20
_MAX_FILE = 64 * 1024


def encrypt_key(key: PrivateKey, password: str, *, label: str = "", scrypt_n: int = DEFAULT_SCRYPT_N) -> dict[str, Any]:
    """Return the keystore JSON object for ``key`` encrypted under ``password``."""
    if not isinstance(password, str) or not password:
        raise InputError(KEYSTORE_WRONG_PASSWORD, "a keystore needs a non-empty password")
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header: dict[str, Any] = {
        "kagaVcKeystore": FORMAT_VERSION,
        "keyType": key.key_type.value,
        "publicKeyMultibase": key.public_key.to_multikey(),
        "label": label,
        "kdf": {"name": "scrypt", "n": scrypt_n, "r": 8, "p": 1, "salt": b64url_encode(salt)},
        "cipher": {"name": "A256GCM", "nonce": b64url_encode(nonce)},
    }
    cek = _derive(password, header["kdf"])
    ciphertext = AESGCM(cek).encrypt(nonce, key.to_bytes(), _aad(header))
    header["cipher"]["ciphertext"] = b64url_encode(ciphertext)
    return header


def decrypt_key(data: dict[str, Any], password: str) -> PrivateKey:
    """Decrypt a keystore JSON object; raise :class:`KeystoreError` on a wrong password or damage."""
    try:
        if data.get("kagaVcKeystore") != FORMAT_VERSION:
            raise KeystoreError(KEYSTORE_CORRUPTED, "not a kaga_vc keystore (or an unknown version)")
        key_type = KeyType(data["keyType"])
        kdf, cipher = data["kdf"], data["cipher"]
        if kdf.get("name") != "scrypt" or cipher.get("name") != "A256GCM":
            raise KeystoreError(KEYSTORE_CORRUPTED, "unsupported keystore algorithms")
        check_scrypt_params(kdf)
        header = {k: v for k, v in data.items()}
        header["cipher"] = {k: v for k, v in cipher.items() if k != "ciphertext"}
        nonce, ciphertext = b64url_decode(cipher["nonce"]), b64url_decode(cipher["ciphertext"])
        cek = _derive(password, kdf)
    except KagaError as exc:
        if isinstance(exc, KeystoreError):
            raise
        raise KeystoreError(KEYSTORE_CORRUPTED, "keystore fields are malformed") from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise KeystoreError(KEYSTORE_CORRUPTED, "keystore fields are missing or malformed") from None
    try:
        secret = AESGCM(cek).decrypt(nonce, ciphertext, _aad(header))
    except InvalidTag:
        # GCM cannot tell a wrong password from an edited file; the AAD check above catches edits
        # of the header only indirectly, so report the common cause and say what else it can be.
        raise KeystoreError(
            KEYSTORE_WRONG_PASSWORD, "wrong password, or the keystore file was modified"
        ) from None
    except ValueError:
        raise KeystoreError(KEYSTORE_CORRUPTED, "keystore ciphertext is malformed") from None
    try:
        key = PrivateKey(key_type, secret)
    except KagaError:
        raise KeystoreError(KEYSTORE_CORRUPTED, "keystore holds an invalid key") from None
    if data.get("publicKeyMultibase") != key.public_key.to_multikey():
        raise KeystoreError(KEYSTORE_CORRUPTED, "keystore public key does not match its private key")
    return key


def save_key(
    path: str | os.PathLike[str],
    key: PrivateKey,
    password: str,
    *,
    label: str = "",
    overwrite: bool = False,
    scrypt_n: int = DEFAULT_SCRYPT_N,
) -> Path:
    """Write ``key`` encrypted to ``path`` (mode 0600, atomic); refuse to replace a file unless asked."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise KeystoreError(KEYSTORE_EXISTS, f"{target} exists; refusing to overwrite a keystore")
    body = json.dumps(encrypt_key(key, password, label=label, scrypt_n=scrypt_n), indent=2) + "\n"
    return write_private_file(target, body, prefix=".keystore-")


def write_private_file(target: Path, text: str, *, prefix: str = ".private-") -> Path:
    """Write ``text`` to ``target`` atomically and durably with mode 0600 (``prefix`` is kept for callers)."""
    return write_atomically(target, text, mode=0o600)


def read_keystore(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a keystore file's JSON without decrypting it (for its public key and label)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_FILE + 1)
    except OSError as exc:
        raise KeystoreError(KEYSTORE_UNREADABLE, f"cannot read keystore {path}: {exc.strerror}") from None
    if len(raw) > _MAX_FILE:
        raise KeystoreError(KEYSTORE_CORRUPTED, "keystore file is too large")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise KeystoreError(KEYSTORE_CORRUPTED, f"keystore {path} is not JSON") from None
    if not isinstance(data, dict):
        raise KeystoreError(KEYSTORE_CORRUPTED, f"keystore {path} is not a JSON object")
    return data


def load_key(path: str | os.PathLike[str], password: str) -> PrivateKey:
    """Read and decrypt a keystore file."""
    return decrypt_key(read_keystore(path), password)


def keystore_public_key(path: str | os.PathLike[str]) -> PublicKey:
    """The public key a keystore file declares, without the password."""
    data = read_keystore(path)
    try:
        return PublicKey.from_multikey(data["publicKeyMultibase"])
    except (KeyError, KagaError):
        raise KeystoreError(KEYSTORE_CORRUPTED, f"keystore {path} has no valid public key") from None


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def check_scrypt_params(kdf: Any) -> None:
    """Refuse scrypt parameters outside ``MIN_SCRYPT_N``..``MAX_SCRYPT_N`` (a power of two), r = 8, p = 1.

    Checked before any derivation, so a file asking for 2^31 (memory) is a typed error, not MemoryError.
    """
    n = kdf.get("n") if isinstance(kdf, dict) else None
    if not isinstance(n, int) or isinstance(n, bool) or n < MIN_SCRYPT_N or kdf.get("r") != 8 or kdf.get("p") != 1:
        # weaker than we ever write: a downgraded (tampered) file
        raise KeystoreError(KEYSTORE_CORRUPTED, "keystore KDF parameters are out of range")
    if n > MAX_SCRYPT_N or n & (n - 1):
        raise KeystoreError(KEYSTORE_KDF_OUT_OF_RANGE,
                            f"keystore scrypt n must be a power of two from 2^10 to 2^20, not {str(n)[:20]}")


def _derive(password: str, kdf: dict[str, Any]) -> bytes:
    check_scrypt_params(kdf)
    salt = b64url_decode(kdf["salt"])
    if len(salt) < 16:
        raise KeystoreError(KEYSTORE_CORRUPTED, "keystore salt is too short")
    try:
        return Scrypt(salt=salt, length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"]).derive(password.encode("utf-8"))
    except MemoryError:
        raise KeystoreError(KEYSTORE_KDF_OUT_OF_RANGE, "not enough memory for the keystore's scrypt parameters") from None


# -- sealed data (the holder wallet reuses the keystore's scheme for its credentials) -------------


def new_kdf_params(scrypt_n: int = DEFAULT_SCRYPT_N) -> dict[str, Any]:
    """Fresh scrypt parameters (random salt) in the keystore's ``kdf`` format."""
    return {"name": "scrypt", "n": scrypt_n, "r": 8, "p": 1, "salt": b64url_encode(secrets.token_bytes(16))}


def derive_data_key(password: str, kdf: dict[str, Any]) -> bytes:
    """The AES-256 key the keystore's scrypt derives from ``password`` and ``kdf``."""
    if not isinstance(password, str) or not password:
        raise InputError(KEYSTORE_WRONG_PASSWORD, "a non-empty password is needed")
    try:
        if kdf.get("name") != "scrypt":
            raise KeystoreError(KEYSTORE_KDF_OUT_OF_RANGE, "unsupported KDF")
        check_scrypt_params(kdf)
        return _derive(password, kdf)
    except KeystoreError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, InputError):
        raise KeystoreError(KEYSTORE_CORRUPTED, "KDF parameters are malformed") from None


def seal_data(cek: bytes, plaintext: bytes, header: dict[str, Any]) -> dict[str, Any]:
    """Encrypt ``plaintext`` with AES-256-GCM, ``header`` (with its ``kdf``) bound as associated data."""
    nonce = secrets.token_bytes(12)
    sealed = {**header, "cipher": {"name": "A256GCM", "nonce": b64url_encode(nonce)}}
    sealed["cipher"]["ciphertext"] = b64url_encode(AESGCM(cek).encrypt(nonce, plaintext, _aad(sealed)))
    return sealed


def open_sealed(cek: bytes, sealed: dict[str, Any]) -> bytes:
    """Decrypt what :func:`seal_data` produced; KeystoreError if the password or the file is wrong."""
    try:
        cipher = sealed["cipher"]
        if cipher.get("name") != "A256GCM":
            raise KeystoreError(KEYSTORE_CORRUPTED, "unsupported cipher")
        header = {**sealed, "cipher": {k: v for k, v in cipher.items() if k != "ciphertext"}}
        nonce, ciphertext = b64url_decode(cipher["nonce"]), b64url_decode(cipher["ciphertext"])
    except (KeyError, TypeError, AttributeError, InputError):
        raise KeystoreError(KEYSTORE_CORRUPTED, "sealed data is malformed") from None
    try:
        return AESGCM(cek).decrypt(nonce, ciphertext, _aad(header))
    except InvalidTag:
        raise KeystoreError(KEYSTORE_WRONG_PASSWORD, "wrong password, or the file was modified") from None
    except ValueError:
        raise KeystoreError(KEYSTORE_CORRUPTED, "sealed ciphertext is malformed") from None
