"""Encrypted keystore: round trip, wrong password, tampering, file mode, no secret in errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from kaga_vc.errors import KEYSTORE_CORRUPTED, KEYSTORE_EXISTS, KEYSTORE_WRONG_PASSWORD, KeystoreError
from kaga_vc.keys import KeyType, PrivateKey, export_v3_keystore, import_v3_keystore
from kaga_vc.keys.keystore import DEFAULT_SCRYPT_N, keystore_public_key, load_key, save_key

FAST_N = 2**12  # tests use a cheaper KDF; one test below checks the default is strong


@pytest.fixture
def key() -> PrivateKey:
    return PrivateKey.generate(KeyType.ED25519)


def test_round_trip_with_default_work_factor(tmp_path: Path, key: PrivateKey) -> None:
    path = save_key(tmp_path / "k.json", key, "pw")
    assert json.loads(path.read_text())["kdf"]["n"] == DEFAULT_SCRYPT_N >= 2**17
    assert load_key(path, "pw") == key
    assert keystore_public_key(path) == key.public_key


@pytest.mark.parametrize("key_type", [k for k in KeyType], ids=lambda k: k.value)
def test_round_trip_every_key_type(tmp_path: Path, key_type: KeyType) -> None:
    key = PrivateKey.generate(key_type)
    path = save_key(tmp_path / "k.json", key, "pässwörd 加賀", scrypt_n=FAST_N)
    assert load_key(path, "pässwörd 加賀") == key


def test_file_mode_is_0600(tmp_path: Path, key: PrivateKey) -> None:
    path = save_key(tmp_path / "sub" / "k.json", key, "pw", scrypt_n=FAST_N)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_wrong_password(tmp_path: Path, key: PrivateKey) -> None:
    path = save_key(tmp_path / "k.json", key, "s3cret-right", scrypt_n=FAST_N)
    with pytest.raises(KeystoreError) as info:
        load_key(path, "s3cret-typo")
    assert info.value.code == KEYSTORE_WRONG_PASSWORD
    assert "s3cret" not in str(info.value) and "s3cret" not in repr(info.value)


def test_refuses_to_overwrite(tmp_path: Path, key: PrivateKey) -> None:
    path = save_key(tmp_path / "k.json", key, "pw", scrypt_n=FAST_N)
    before = path.read_bytes()
    with pytest.raises(KeystoreError) as info:
        save_key(path, PrivateKey.generate(KeyType.ED25519), "pw", scrypt_n=FAST_N)
    assert info.value.code == KEYSTORE_EXISTS
    assert path.read_bytes() == before


def _tamper(data: dict, field: str) -> None:
    if field == "ciphertext":
        ct = data["cipher"]["ciphertext"]
        data["cipher"]["ciphertext"] = ("B" if ct[0] == "A" else "A") + ct[1:]
    elif field == "keyType":
        data["keyType"] = "secp256k1"
    elif field == "publicKeyMultibase":
        data["publicKeyMultibase"] = PrivateKey.generate(KeyType.ED25519).public_key.to_multikey()
    elif field == "label":
        data["label"] = "edited"
    elif field == "weak-kdf":
        data["kdf"]["n"] = 2
    elif field == "missing-nonce":
        del data["cipher"]["nonce"]
    elif field == "salt":
        data["kdf"]["salt"] = "!!!"


@pytest.mark.parametrize(
    "field", ["ciphertext", "keyType", "publicKeyMultibase", "label", "weak-kdf", "missing-nonce", "salt"]
)
def test_tampered_file_is_refused(tmp_path: Path, key: PrivateKey, field: str) -> None:
    path = save_key(tmp_path / "k.json", key, "pw", scrypt_n=FAST_N)
    data = json.loads(path.read_text())
    _tamper(data, field)
    path.write_text(json.dumps(data))
    with pytest.raises(KeystoreError) as info:
        load_key(path, "pw")
    assert info.value.code in (KEYSTORE_CORRUPTED, KEYSTORE_WRONG_PASSWORD)


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b"\xff\xfe", b'{"kagaVcKeystore": 99}', b"{" * 70000])
def test_garbage_files_are_typed_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "k.json"
    path.write_bytes(content)
    with pytest.raises(KeystoreError) as info:
        load_key(path, "pw")
    assert info.value.code == KEYSTORE_CORRUPTED


def test_missing_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError):
        load_key(tmp_path / "absent.json", "pw")


def test_no_key_material_in_file_or_errors(tmp_path: Path) -> None:
    key = PrivateKey.generate(KeyType.SECP256K1)
    path = save_key(tmp_path / "k.json", key, "pw", scrypt_n=FAST_N)
    text = path.read_text()
    assert key.to_bytes().hex() not in text and key.to_jwk()["d"] not in text


def test_ethereum_v3_keystore_round_trip_and_wrong_password() -> None:
    key = PrivateKey.generate(KeyType.SECP256K1)
    v3 = export_v3_keystore(key, "pw")
    assert v3["version"] == 3 and v3["crypto"]["kdf"] == "scrypt"
    assert import_v3_keystore(v3, "pw") == key
    assert import_v3_keystore(json.dumps(v3), "pw") == key
    with pytest.raises(KeystoreError) as info:
        import_v3_keystore(v3, "nope")
    assert info.value.code == KEYSTORE_WRONG_PASSWORD
    with pytest.raises(KeystoreError):
        import_v3_keystore({"version": 3}, "pw")
