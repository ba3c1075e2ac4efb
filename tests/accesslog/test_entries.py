"""Entries: signed by the log's own key over JCS, chained, durable; no subject DID or claim value stored in clear."""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rfc8785

from kaga_vc.accesslog import AccessEntry, AccessLog, canonical, record_hash
from kaga_vc.accesslog._entry import GENESIS
from kaga_vc.accesslog._log import default_resolver
from kaga_vc.errors import (
    LOG_KEY_MISMATCH,
    LOG_TAMPERED,
    MALFORMED_VALUE_ERROR,
    SUBJECT_KEY_UNUSABLE,
    AccessLogError,
    InputError,
)

from .conftest import LOG_KEY, Party, entry, make_party


def test_record_chains_signs_and_stores(sqlite_log: AccessLog, ryokan: Party, alice: Party, tmp_path: Path) -> None:
    first = sqlite_log.record(entry(ryokan, alice))
    second = sqlite_log.record(entry(ryokan, alice, result="refused", reason="kaga:credential-revoked"))
    assert (first.seq, second.seq) == (0, 1)
    assert first.body["previous"] == GENESIS and second.body["previous"] == first.hash
    assert first.hash == record_hash(first.record)
    assert canonical(first.record) == rfc8785.dumps(first.record)
    identity = sqlite_log.identity()
    assert identity is not None and identity.verifier == ryokan.did and identity.since == 0
    assert second.body["verificationMethod"] == identity.key != ryokan.signer.key_id  # the log's key, not the shop's
    assert identity.signature_problem(second.record) is None
    assert sqlite_log.head() == (2, second.hash)
    assert [e.hash for e in sqlite_log.entries()] == [first.hash, second.hash]
    assert second.body["reason"] == "kaga:credential-revoked" and second.body["result"] == "refused"


def test_plain_subject_did_and_claim_names_are_not_stored(sqlite_log: AccessLog, ryokan: Party, alice: Party,
                                                          tmp_path: Path) -> None:
    sqlite_log.record(entry(ryokan, alice, claims=["ageOver18", "familyName"]))
    sqlite_log.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("log.db*"))
    assert alice.did.encode() not in raw
    assert alice.did.split(":")[-1].encode() not in raw
    assert b"familyName" not in raw and b"ageOver18" not in raw
    assert b"KagaResidentCredential" in raw  # credential types stay readable for the open-data export


def test_a_changed_byte_breaks_the_signature(sqlite_log: AccessLog, ryokan: Party, alice: Party) -> None:
    recorded = sqlite_log.record(entry(ryokan, alice))
    changed = json.loads(json.dumps(recorded.record))
    changed["entry"]["purpose"] = "marketing"
    identity = sqlite_log.identity()
    assert identity is not None and identity.signature_problem(changed) == LOG_TAMPERED


def test_signer_must_be_the_verifier(sqlite_log: AccessLog, ryokan: Party, clinic: Party, alice: Party) -> None:
    with pytest.raises(InputError) as info:
        sqlite_log.record(entry(ryokan, alice), signer=clinic.signer)
    assert info.value.code == MALFORMED_VALUE_ERROR
    assert len(sqlite_log) == 0


@pytest.mark.parametrize("bad", [
    {"result": "maybe"}, {"result": "refused", "reason": None}, {"purpose": ""}, {"claims": ["x" * 600]},
    {"time": datetime(2026, 1, 1)},  # naive
])
def test_malformed_entries_are_refused(ryokan: Party, alice: Party, bad: dict[str, object]) -> None:
    with pytest.raises(InputError):
        entry(ryokan, alice, **bad)


def test_subject_without_key_agreement_is_indexed_and_claims_dropped(sqlite_log: AccessLog, ryokan: Party,
                                                                     tmp_path: Path) -> None:
    from kaga_vc.accesslog._subject import encryption_key
    from kaga_vc.keys import KeyType

    subject = make_party(KeyType.SECP256K1)  # did:key secp256k1: no key agreement key
    with pytest.raises(AccessLogError) as info:
        encryption_key(subject.did, default_resolver())
    assert info.value.code == SUBJECT_KEY_UNUSABLE
    recorded = sqlite_log.record(entry(ryokan, subject, claims=["secretClaimName"]))
    assert recorded.body["subjectIndex"] and recorded.body["subjectData"] is None
    sqlite_log.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("log.db*"))
    assert b"secretClaimName" not in raw and subject.did.encode() not in raw


def test_refused_without_known_subject(sqlite_log: AccessLog, ryokan: Party) -> None:
    recorded = sqlite_log.record(entry(ryokan, None, result="refused", reason="PROOF_VERIFICATION_ERROR", claims=[]))
    assert recorded.body["subjectIndex"] is None and recorded.body["subjectData"] is None
    assert sqlite_log.verify().ok


def test_another_log_key_is_refused(tmp_path: Path, ryokan: Party, alice: Party) -> None:
    with AccessLog.open(str(tmp_path / "k.db"), log_key=LOG_KEY, signer=ryokan.signer) as log:
        log.record(entry(ryokan, alice))
    with pytest.raises(AccessLogError) as info:
        AccessLog.open(str(tmp_path / "k.db"), log_key=b"\x01" * 32)
    assert info.value.code == LOG_KEY_MISMATCH


def test_durability_settings(sqlite_log: AccessLog, tmp_path: Path) -> None:
    with sqlite_log.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert sqlite3.connect(tmp_path / "log.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_time_is_recorded_to_the_second(sqlite_log: AccessLog, ryokan: Party, alice: Party) -> None:
    moment = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=UTC)
    assert sqlite_log.record(entry(ryokan, alice, time=moment)).body["time"] == "2026-11-22T09:30:15Z"


def test_from_verification_maps_a_result_and_request(ryokan: Party, alice: Party) -> None:
    from types import SimpleNamespace

    problem = SimpleNamespace(code="kaga:credential-revoked")
    details = {"request": {"verifier": ryokan.did, "purpose": None, "location": "front desk"},
               "credentials": [{"types": ["KycCredential"], "claims": {"ageOver18": True}, "accepted": False}],
               "claims": {}, "holderProven": True}
    result = SimpleNamespace(verified=False, problems=[problem], subject=alice.did, details=details,
                             checked_at=datetime(2026, 1, 1, tzinfo=UTC))
    request = {"purpose": "lodging-check-in"}
    made = AccessEntry.from_verification(result, request, verifier_category="lodging")
    assert made.credential_types == ("KycCredential",) and True not in made.claims
    assert (made.result, made.reason, made.subject, made.purpose) == ("refused", "kaga:credential-revoked", alice.did,
                                                                      "lodging-check-in")
    assert made.claims == ("ageOver18",) and made.verifier == ryokan.did and made.location == "front desk"


def test_accesslog_import_loads_no_ethereum_code() -> None:
    import subprocess

    code = ("import sys, kaga_vc.accesslog; kaga_vc.accesslog.log_url(None); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('web3', 'eth_tester', 'eth', 'eth_abi')"
            " or m.startswith('kaga_vc.registry')]; print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stdout + out.stderr

