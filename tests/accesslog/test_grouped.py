"""Grouped appends (``record_many``) store exactly what ``record`` stores one entry at a time, on SQLite and on a
real PostgreSQL: the same rows, byte for byte, the same head and the same RFC 9162 tree; and the one-pass
encoding of a record (:func:`seal_record`) is the RFC 8785 reference's bytes."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import rfc8785
from sqlalchemy import text

from kaga_vc.accesslog import AccessLog, verify_inclusion
from kaga_vc.accesslog._entry import canonical_flat, seal_record, sign_body
from kaga_vc.accesslog._identity import log_signer
from kaga_vc.accesslog.merkle import MerkleTree, leaf_hash
from kaga_vc.errors import NONCE_REPLAYED, InputError, ProofError

from .conftest import LOG_KEY, Party, entry, make_party

MOMENT = datetime(2026, 5, 1, 9, 30, 15, tzinfo=UTC)


def _entries(ryokan: Party, alice: Party, bob: Party) -> list[Any]:
    """A mix: sealed to two subjects, no subject, non-ASCII text, a refusal, truncated fields, a set time."""
    return [
        entry(ryokan, alice),
        entry(ryokan, None, result="refused", reason="kaga:holder-not-proven", truncated=["subject"]),
        entry(ryokan, bob, location="山中温泉 受付", purpose="宿泊 チェックイン", claims=["ageOver18"]),
        entry(ryokan, alice, time=datetime(2026, 4, 30, 23, 59, 59, tzinfo=UTC), verifier_name="Ryokan Kagaya"),
        entry(ryokan, bob, claims=[], credential_types=["A", "B", "C"], service="front desk"),
        entry(ryokan, None, verifier_name="\u00e9t\u00e9 \U0001f3ef", reason=None),
    ]


def _deterministic(monkeypatch: pytest.MonkeyPatch, log_id: str) -> None:
    """The two logs get the same id and the same stream of sealing randomness (ephemeral keys, IVs), however
    the log draws from it (one token at a time or a group's at once)."""
    import kaga_vc.accesslog._log as log_module
    import kaga_vc.accesslog._subject as subject_module

    blocks = (hashlib.sha256(str(i).encode()).digest() for i in itertools.count())
    buffer = bytearray()

    def stream(n: int) -> bytes:
        while len(buffer) < n:
            buffer.extend(next(blocks))
        out = bytes(buffer[:n])
        del buffer[:n]
        return out

    monkeypatch.setattr(log_module, "secrets", SimpleNamespace(token_hex=lambda n=32: log_id))
    monkeypatch.setattr(subject_module, "urandom", stream)


def _stored(log: AccessLog) -> tuple[list[tuple[Any, ...]], tuple[Any, ...]]:
    with log.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT seq, hash, subject_index, record FROM entries ORDER BY seq"))]
        head = tuple(conn.execute(text("SELECT seq, hash FROM log_head")).one())
    return rows, head


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_record_many_stores_what_record_stores_byte_for_byte(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        ryokan: Party, alice: Party, bob: Party) -> None:
    def url(name: str) -> str:
        if backend == "sqlite":
            return str(tmp_path / f"{name}.db")
        if name == "one":
            return str(request.getfixturevalue("postgres_database"))
        from tests._postgres import fresh_database

        return fresh_database(request.getfixturevalue("postgres_server"), name)

    log_id = "ab" * 32
    stored = []
    for name in ("one", "many"):
        _deterministic(monkeypatch, log_id)
        with AccessLog.open(url(name), log_key=LOG_KEY, signer=ryokan.signer) as log:
            batch = _entries(ryokan, alice, bob)
            if name == "one":
                recorded = [log.record(e, now=MOMENT) for e in batch[:2]] + [log.record(e, now=MOMENT) for e in batch[2:]]
            else:
                recorded = log.record_many(batch[:2], now=MOMENT) + log.record_many(batch[2:], now=MOMENT)
            assert log.log_id == log_id and log.verify().ok
            rows, head = _stored(log)
            leaves = [leaf_hash(r[3].encode()) for r in rows]
            stored.append((rows, head, MerkleTree(leaves).root, [(r.seq, r.hash, r.record) for r in recorded]))
    one, many = stored
    assert one == many
    rows, head, _root, _recorded = one
    assert len(rows) == 6 and head == (6, rows[-1][1])
    assert sum(r[3].count("subjectData\":\"ey") for r in rows) == 4  # four sealed entries, two without a subject
    assert "山中温泉" in rows[2][3]  # UTF-8 as RFC 8785 writes it, not \\u escapes


def test_stored_records_are_the_rfc8785_reference_bytes(sqlite_log: AccessLog, ryokan: Party, alice: Party,
                                                        bob: Party, anchorer: Any) -> None:
    recorded = sqlite_log.record_many(_entries(ryokan, alice, bob))
    rows, _head = _stored(sqlite_log)
    previous = "0" * 64
    for (seq, digest, _index, stored), out in zip(rows, recorded, strict=True):
        record = json.loads(stored)
        reference = rfc8785.dumps(record)
        assert stored.encode() == reference and digest == hashlib.sha256(reference).hexdigest() == out.hash
        assert record == out.record and record["entry"]["seq"] == seq and record["entry"]["previous"] == previous
        assert sign_body(record["entry"], log_signer(LOG_KEY)) == record  # the one-pass signature is the same
        previous = digest
    sqlite_log.anchor(anchorer)
    proof = sqlite_log.proof(3)
    assert verify_inclusion(next(sqlite_log.entries(3, 4)), proof, proof.root)


def test_seal_record_falls_back_to_rfc8785_outside_the_flat_case() -> None:
    signer = log_signer(LOG_KEY)
    bodies: list[dict[str, Any]] = [
        {"a": 1.5, "b": "x"},  # a float: RFC 8785's number form
        {"é": "non-ASCII key", "z": 1},  # key order by UTF-16 code units
        {"edge": 2**53 - 1, "low": -(2**53) + 1},  # the ends of the IEEE-754 safe range
        {"nested": {"b": 1, "a": [1, {"y": None, "x": True}]}},
        {"list": [1, "two", None]},
        {"flat": ["a", "b"], "n": -5, "t": True, "none": None, "s": "\u0007\u2028\""},
    ]
    for body in bodies:
        record, stored, digest = seal_record(body, signer)
        assert stored.encode() == rfc8785.dumps(record) and digest == hashlib.sha256(rfc8785.dumps(record)).hexdigest()
        assert canonical_flat(body) == rfc8785.dumps(body)
        assert record == sign_body(body, signer)
    with pytest.raises(InputError):  # outside the safe range RFC 8785 has no form for it: refused, not guessed
        seal_record({"big": 2**60}, signer)


def test_a_replayed_nonce_in_a_group_writes_nothing_of_it(sqlite_log: AccessLog, ryokan: Party, alice: Party) -> None:
    digest = "ab" * 32
    sqlite_log.record(entry(ryokan, alice, nonce_digest=digest))
    before = _stored(sqlite_log)
    with pytest.raises(ProofError) as caught:
        sqlite_log.record_many([entry(ryokan, alice), entry(ryokan, None, nonce_digest=digest)])
    assert caught.value.code == NONCE_REPLAYED and _stored(sqlite_log) == before
    with pytest.raises(ProofError):  # twice inside one group
        sqlite_log.record_many([entry(ryokan, alice, nonce_digest="cd" * 32), entry(ryokan, alice, nonce_digest="cd" * 32)])
    assert _stored(sqlite_log) == before and sqlite_log.verify().ok


def test_a_signer_of_another_verifier_refuses_the_whole_group(sqlite_log: AccessLog, ryokan: Party,
                                                              alice: Party) -> None:
    other = make_party()
    with pytest.raises(InputError):
        sqlite_log.record_many([entry(ryokan, alice), entry(other, alice)], signer=ryokan.signer)
    assert len(sqlite_log) == 0


def test_a_large_group_sealed_on_worker_threads_is_what_one_by_one_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ryokan: Party, alice: Party, bob: Party) -> None:
    from kaga_vc.accesslog import _sealing
    from kaga_vc.accesslog._subject import decrypt_subject_data

    count = _sealing.MIN_GROUP + _sealing.CHUNK + 7  # several chunks handed to the threads, a short last one
    batch = [entry(ryokan, (alice, bob, None)[i % 3], claims=[f"claim{i}"]) for i in range(count)]
    stored = []
    for name in ("one", "many"):
        _deterministic(monkeypatch, "cd" * 32)
        with AccessLog.open(str(tmp_path / f"{name}.db"), log_key=LOG_KEY, signer=ryokan.signer) as log:
            if name == "one":
                for e in batch:
                    log.record(e, now=MOMENT)
            else:
                log.record_many(batch, now=MOMENT)
            stored.append(_stored(log))
    assert stored[0] == stored[1]
    rows = stored[1][0]
    for i in (0, 1, 195, 196):  # the tokens open with the subject's key, in their entry's order
        token = json.loads(rows[i][3])["entry"]["subjectData"]
        opened = decrypt_subject_data(token, (alice, bob)[i % 3].key)
        assert opened == {"subject": (alice, bob)[i % 3].did, "claims": [f"claim{i}"]}
