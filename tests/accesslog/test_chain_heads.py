"""The chain, not the log's own tables, is the authority (issue 12): each way an operator with database write
access hides or rewrites anchored history is found by ``verify`` reading the tree heads from the chain (a
real EVM, the embedded chain), and named with its own code."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.accesslog import AccessLog, answer_challenge, canonical, read_history
from kaga_vc.accesslog._entry import build_body, record_hash, sign_body
from kaga_vc.accesslog._identity import log_signer
from kaga_vc.errors import (
    ANCHOR_RECORD_MISSING,
    LOG_IDENTITY_MISMATCH,
    LOG_REWRITTEN,
    LOG_SIGNER_MISMATCH,
    LOG_TRUNCATED,
    LOG_VERIFIER_MISMATCH,
    AccessLogError,
)

from .conftest import LOG_KEY, Party, entry


def _log(path: Path, ryokan: Party, alice: Party, n: int) -> AccessLog:
    log = AccessLog.open(str(path), log_key=LOG_KEY, signer=ryokan.signer)
    for _ in range(n):
        log.record(entry(ryokan, alice))
    return log


def _sql(path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for sql, args in statements:
            conn.execute(sql, args)
    conn.close()


def _codes(log: AccessLog, anchorer: Any) -> list[tuple[str, int | None, str]]:
    return [(f.kind, f.seq, f.code) for f in log.verify(anchorer=anchorer).findings]


def test_deleting_an_anchored_batch_its_anchor_row_and_rewriting_the_head(tmp_path: Path, ryokan: Party,
                                                                          alice: Party, anchorer: Any) -> None:
    db = tmp_path / "log.db"
    with _log(db, ryokan, alice, 6) as log:
        log.anchor(anchorer)
        for _ in range(4):
            log.record(entry(ryokan, alice))
        log.anchor(anchorer)
        sixth = next(log.entries(5, 6)).hash
    # the second batch, its row in the anchors table, the meta rows naming the account, and the head: all rewritten
    _sql(db, ("DELETE FROM entries WHERE seq >= 6", ()), ("DELETE FROM tree_heads WHERE tree_size = 10", ()),
         ("DELETE FROM log_meta WHERE name LIKE 'anchor_%'", ()), ("UPDATE log_head SET seq = 6, hash = ?", (sixth,)))
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        assert log.verify().ok  # the log's own tables agree with each other: only the chain tells
        assert _codes(log, anchorer) == [("truncated", 6, LOG_TRUNCATED), ("anchor", 9, ANCHOR_RECORD_MISSING)]


def test_deleting_only_an_anchor_row(tmp_path: Path, ryokan: Party, alice: Party, anchorer: Any) -> None:
    db = tmp_path / "log.db"
    with _log(db, ryokan, alice, 3) as log:
        log.anchor(anchorer)
    _sql(db, ("DELETE FROM tree_heads", ()))
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        assert _codes(log, anchorer) == [("anchor", 2, ANCHOR_RECORD_MISSING)]


def _rewrite_from(db: Path, start: int) -> None:
    """Change entry ``start``, re-sign it with the log's key, and re-chain every entry after it: a history
    that is whole by itself (signatures, links, head), as the log key's holder can make it."""
    signer = log_signer(LOG_KEY)
    conn = sqlite3.connect(db)
    with conn:
        rows = dict(conn.execute("SELECT seq, record FROM entries WHERE seq >= ?", (start - 1,)).fetchall())
        previous = record_hash(json.loads(rows[start - 1]))
        for seq in sorted(s for s in rows if s >= start):
            body = json.loads(rows[seq])["entry"]
            body["previous"] = previous
            if seq == start:
                body["purpose"] = "marketing"
            record = sign_body(body, signer)
            previous = record_hash(record)
            conn.execute("UPDATE entries SET record = ?, hash = ? WHERE seq = ?",
                         (canonical(record).decode(), previous, seq))
        conn.execute("UPDATE log_head SET hash = ?", (previous,))
    conn.close()


def test_editing_resigning_and_anchoring_again(tmp_path: Path, ryokan: Party, alice: Party, anchorer: Any) -> None:
    db = tmp_path / "log.db"
    with _log(db, ryokan, alice, 6) as log:
        first = log.anchor(anchorer)
    _rewrite_from(db, 2)
    _sql(db, ("DELETE FROM tree_heads", ()))  # and forget the head that anchored the original
    with AccessLog.open(str(db), log_key=LOG_KEY, signer=ryokan.signer) as log:
        assert log.verify().ok  # whole by itself
        log.record(entry(ryokan, alice))
        again = log.anchor(anchorer)  # the contract takes it: the tree grew, the identity is the same
        assert again.index == first.index + 1 and again.tree_size == 7
        findings = log.verify(anchorer=anchorer).findings
    assert {(f.kind, f.seq, f.code) for f in findings} == {
        ("rewritten", 5, LOG_REWRITTEN),  # the first 6 entries are not those head 0 anchored
        ("rewritten", 6, LOG_REWRITTEN),  # head 1 does not extend head 0 (RFC 9162 consistency)
        ("anchor", 5, ANCHOR_RECORD_MISSING),
    }
    assert any("does not extend tree head 0" in f.detail for f in findings)


def test_an_entry_signed_by_another_key_is_not_genuine_anywhere(tmp_path: Path, ryokan: Party, alice: Party,
                                                                anchorer: Any) -> None:
    """Database write access and a did:key of one's own: appended, chained and in the head, it is still refused —
    by verify, by anchoring, and in the resident's own history."""
    db = tmp_path / "log.db"
    with _log(db, ryokan, alice, 2) as log:
        log.anchor(anchorer)
        last = next(log.entries(1, 2))
        index = last.body["subjectIndex"]
        body = build_body(entry(ryokan, alice, purpose="sold to a broker"), log_id=log.log_id, seq=2,
                          previous=last.hash, now=datetime.now(UTC), subject_index=index,
                          subject_data=last.body["subjectData"], verification_method=ryokan.signer.key_id)
    forged = sign_body(body, ryokan.signer)
    _sql(db, ("INSERT INTO entries (seq, hash, subject_index, record) VALUES (2, ?, ?, ?)",
              (record_hash(forged), index, canonical(forged).decode())),
         ("UPDATE log_head SET seq = 3, hash = ?", (record_hash(forged),)))
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        assert _codes(log, anchorer) == [("forged", 2, LOG_SIGNER_MISMATCH)]
        with pytest.raises(AccessLogError) as info:
            log.anchor(anchorer)
        assert info.value.code == LOG_SIGNER_MISMATCH
        did, entries = log.subject_history(answer_challenge(log.create_challenge(), did=alice.did,
                                                            signer=alice.signer))
        items = read_history(did, entries, alice.key, anchorer=anchorer, identity=log.identity())
    assert [(i.seq, i.proven, i.problem) for i in items] == [(0, True, None), (1, True, None),
                                                             (2, False, LOG_SIGNER_MISMATCH)]


def test_another_identity_than_the_chain_committed(tmp_path: Path, ryokan: Party, alice: Party, bob: Party,
                                                   anchorer: Any) -> None:
    db = tmp_path / "log.db"
    with _log(db, ryokan, alice, 2) as log:
        log.anchor(anchorer)
    _sql(db, ("UPDATE log_meta SET value = ? WHERE name = 'verifier'", (bob.did,)))
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        # the chain committed ryokan's log; and the entries, ryokan's, are not those of the stated verifier
        assert _codes(log, anchorer) == [("identity", None, LOG_IDENTITY_MISMATCH),
                                         ("verifier", 0, LOG_VERIFIER_MISMATCH), ("verifier", 1, LOG_VERIFIER_MISMATCH)]


def test_a_log_made_before_it_had_its_own_key(tmp_path: Path, ryokan: Party, alice: Party, anchorer: Any) -> None:
    """Existing data stays readable: entries signed by the verifier's key before the upgrade are checked as before
    (its DID), the log key signs from the next entry on, and that boundary is part of the identity on chain."""
    db = tmp_path / "log.db"
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        log_id = log.log_id
    previous = "0" * 64
    statements: list[tuple[str, tuple[Any, ...]]] = []
    for seq in range(2):  # as an earlier version wrote them: signed by the verifier
        body = build_body(entry(ryokan, None), log_id=log_id, seq=seq, previous=previous, now=datetime.now(UTC),
                          subject_index=None, subject_data=None, verification_method=ryokan.signer.key_id)
        record = sign_body(body, ryokan.signer)
        previous = record_hash(record)
        statements.append(("INSERT INTO entries (seq, hash, record) VALUES (?, ?, ?)",
                           (seq, previous, canonical(record).decode())))
    _sql(db, *statements, ("UPDATE log_head SET seq = 2, hash = ?", (previous,)),
         ("DELETE FROM log_meta WHERE name IN ('log_key', 'since', 'verifier')", ()))
    with AccessLog.open(str(db), log_key=LOG_KEY, signer=ryokan.signer) as log:
        log.record(entry(ryokan, alice))
        identity = log.identity()
        assert identity is not None and identity.since == 2 and identity.verifier == ryokan.did
        assert log.verify().ok
        log.anchor(anchorer)
        assert log.verify(anchorer=anchorer).ok and log.verify(anchorer=anchorer).anchored == 3
    digest = hashlib.sha256(canonical(identity.to_json())).hexdigest()
    assert anchorer.read_log(anchorer.anchorer, bytes.fromhex(log_id)).identity == digest


def test_deleting_the_log_key_rows_does_not_turn_its_entries_into_unchecked_ones(tmp_path: Path, ryokan: Party,
                                                                                alice: Party) -> None:
    """Without the rows naming the log key, the log would look like one made before it had its own key, whose
    entries are checked against their verifier's DID: the key is found again from the first entry it signed."""
    db = tmp_path / "log.db"
    with _log(db, ryokan, alice, 3) as log:
        before = log.identity()
    _sql(db, ("DELETE FROM log_meta WHERE name IN ('log_key', 'since')", ()))
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        assert log.identity() == before and before is not None and before.since == 0
