"""Issue 13, "files and inputs": each failure found by hand, as a regression test against the real parts."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from kaga_vc.accesslog import AccessLog
from kaga_vc.credentials.kaga import validate_claims
from kaga_vc.errors import KEYSTORE_KDF_OUT_OF_RANGE, InputError, KeystoreError
from kaga_vc.issuer.records import IssuanceStore
from kaga_vc.keys import KeyType, PrivateKey
from kaga_vc.keys._ethereum import export_v3_keystore, import_v3_keystore
from kaga_vc.keys.keystore import load_key, save_key

FAST_N = 2**10


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_scrypt_n_2_pow_31_is_a_typed_error_not_memory_error(tmp_path: Path) -> None:
    path = save_key(tmp_path / "k.json", PrivateKey.generate(KeyType.ED25519), "pw", scrypt_n=FAST_N)
    data = json.loads(path.read_text())
    for n in (2**31, 2**21, 3 * 2**10):
        data["kdf"]["n"] = n
        path.write_text(json.dumps(data))
        started = time.monotonic()
        with pytest.raises(KeystoreError) as info:
            load_key(path, "pw")
        assert info.value.code == KEYSTORE_KDF_OUT_OF_RANGE
        assert time.monotonic() - started < 2


@pytest.mark.parametrize("kdf, params", [
    ("pbkdf2", {"c": 2**31 - 1, "dklen": 32, "prf": "hmac-sha256"}),
    ("pbkdf2", {"c": 262144, "dklen": 32, "prf": "hmac-sha512"}),
    ("scrypt", {"n": 2**31, "r": 8, "p": 1, "dklen": 32}),
    ("scrypt", {"n": 2**18, "r": 8, "p": 64, "dklen": 32}),
    ("scrypt", {"n": 2**18, "r": 8, "p": 1, "dklen": 2**30}),
    ("argon2", {"dklen": 32}),
])
def test_v3_kdf_parameters_are_bounded_before_deriving(kdf: str, params: dict[str, object]) -> None:
    v3 = export_v3_keystore(PrivateKey.generate(KeyType.SECP256K1), "pw")  # real eth-account output
    v3["crypto"]["kdf"] = kdf
    v3["crypto"]["kdfparams"] = {**params, "salt": "00" * 32}
    started = time.monotonic()
    with pytest.raises(KeystoreError) as info:
        import_v3_keystore(v3, "pw")
    assert info.value.code == KEYSTORE_KDF_OUT_OF_RANGE
    assert time.monotonic() - started < 2  # c = 2^31 - 1 used to hang


def test_v3_pbkdf2_within_bounds_still_imports() -> None:
    from eth_account import Account

    key = PrivateKey.generate(KeyType.SECP256K1)
    v3 = dict(Account.encrypt(key.to_bytes(), "pw", kdf="pbkdf2", iterations=1000))
    assert import_v3_keystore(v3, "pw") == key


@pytest.mark.parametrize("text", [
    "一二三四五六七八九〇一二",            # kanji numerals
    "一二三四 五六七八 九〇一二",
    "壱弐参四五六七八九零一二",            # formal numerals and 零
    "1,234,567,890,12",                  # grouped with commas
    "1 2 3 4 5 6 7 8 9 0 1 2",
    "1234/5678/9012", "(1234)5678.9012", "1234\u200b5678\u200b9012", "１２３４，５６７８，９０１２",
    "①②③④⑤⑥⑦⑧⑨⑩12",
])
def test_my_number_guard_reads_kanji_numerals_and_any_separator(text: str) -> None:
    claims = {"fullName": f"山田 {text}", "fullNameKana": "ヤマダ タロウ", "birthDate": "1980-01-01",
              "evidence": [{"method": "myNumberCardPublicKey"}]}
    with pytest.raises(InputError) as info:
        validate_claims("kyc", claims)
    assert info.value.code == "kaga:individual-number-refused"
    assert text not in str(info.value)


@pytest.mark.parametrize("text", ["石川県 加賀市 大聖寺南町 ニ41", "1990-04-01", "一丁目二番三号", "三四郎", "2015-04-01T09:00:00Z"])
def test_my_number_guard_leaves_ordinary_text_alone(text: str) -> None:
    from kaga_vc.credentials.kaga import contains_individual_number

    assert not contains_individual_number(text)


def test_issuance_records_and_access_log_databases_are_0600(tmp_path: Path) -> None:
    store = IssuanceStore.open(None, home=tmp_path)
    store.close() if hasattr(store, "close") else None
    assert _mode(tmp_path / "issuance.sqlite3") == 0o600
    log = AccessLog.open(str(tmp_path / "accesslog.db"), log_key=b"k" * 32)
    with log.engine.connect() as conn:  # touch it so SQLite writes its WAL files too
        conn.exec_driver_sql("PRAGMA user_version")
    log.close()
    for name in ("accesslog.db", "accesslog.db-wal", "accesslog.db-shm"):
        if (tmp_path / name).exists():
            assert _mode(tmp_path / name) == 0o600, name


def test_status_list_credentials_expire_by_default(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from kaga_vc.status import StatusLists

    store = IssuanceStore.open(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    lists = StatusLists(store, "https://city.kaga.ishikawa.jp/status")
    lists.allocate_entries()
    info = store.status_lists()[0]
    now = datetime(2026, 12, 1, tzinfo=UTC)
    credential = lists.unsigned_list_credential(info.list_id, "revocation", issuer="did:key:z6Mk", now=now)
    assert credential["validFrom"] == "2026-12-01T00:00:00.000Z"  # milliseconds order two publications in a second
    assert datetime.fromisoformat(credential["validUntil"]) == now + timedelta(days=7)
