"""``verify`` finds every edited, deleted, reordered or inserted row of the store, and says which."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.accesslog import AccessLog, canonical
from kaga_vc.accesslog._entry import sign_body
from kaga_vc.accesslog._identity import log_signer

from .conftest import LOG_KEY, Party, entry, make_party

N = 10


@pytest.fixture
def db(tmp_path: Path, ryokan: Party, alice: Party, bob: Party) -> Path:
    path = tmp_path / "log.db"
    with AccessLog.open(str(path), log_key=LOG_KEY, signer=ryokan.signer) as log:
        for i in range(N):
            log.record(entry(ryokan, alice if i % 2 else bob, purpose=f"purpose-{i}"))
        assert log.verify().ok
    return path


def _rows(conn: sqlite3.Connection) -> dict[int, tuple[str, str, str | None]]:
    return {s: (h, r, i) for s, h, r, i in conn.execute("SELECT seq, hash, record, subject_index FROM entries")}


def _tamper(path: Path, change: Callable[[sqlite3.Connection], None]) -> None:
    conn = sqlite3.connect(path)
    with conn:
        change(conn)
    conn.close()


def _findings(path: Path, ryokan: Party) -> list[tuple[str, int | None]]:
    with AccessLog.open(str(path), log_key=LOG_KEY) as log:
        report = log.verify()
    assert not report.ok
    return [(f.kind, f.seq) for f in report.findings]


def _set_record(conn: sqlite3.Connection, seq: int, record: dict[str, Any], *, rehash: bool = True) -> None:
    text = canonical(record).decode()
    digest = hashlib.sha256(text.encode()).hexdigest()
    if rehash:
        conn.execute("UPDATE entries SET record = ?, hash = ? WHERE seq = ?", (text, digest, seq))
    else:
        conn.execute("UPDATE entries SET record = ? WHERE seq = ?", (text, seq))


def _shift_up(conn: sqlite3.Connection, start: int) -> None:
    for seq in sorted((s for (s,) in conn.execute("SELECT seq FROM entries WHERE seq >= ?", (start,))), reverse=True):
        conn.execute("UPDATE entries SET seq = seq + 1 WHERE seq = ?", (seq,))


@pytest.mark.parametrize("rehash", [False, True], ids=["hash-left", "hash-recomputed"])
def test_edited_field(db: Path, ryokan: Party, rehash: bool) -> None:
    def change(conn: sqlite3.Connection) -> None:
        record = json.loads(_rows(conn)[4][1])
        record["entry"]["purpose"] = "marketing"
        _set_record(conn, 4, record, rehash=rehash)

    _tamper(db, change)
    assert _findings(db, ryokan) == [("edited", 4)]


def test_edited_and_resigned_by_the_key_holder(db: Path, ryokan: Party) -> None:
    def change(conn: sqlite3.Connection) -> None:
        record = json.loads(_rows(conn)[4][1])
        record["entry"]["result"] = "refused"
        record["entry"]["reason"] = "kaga:made-up"
        _set_record(conn, 4, sign_body(record["entry"], log_signer(LOG_KEY)))

    _tamper(db, change)
    assert _findings(db, ryokan) == [("edited", 4)]  # the next entry commits to the original


def test_an_entry_signed_by_another_did_key_is_refused(db: Path, ryokan: Party) -> None:
    """Database write access and a did:key of one's own (even the verifier's): not the log's key."""
    def change(conn: sqlite3.Connection) -> None:
        record = json.loads(_rows(conn)[N - 1][1])
        body = dict(record["entry"], verificationMethod=ryokan.signer.key_id)
        _set_record(conn, N - 1, sign_body(body, ryokan.signer))
        conn.execute("UPDATE log_head SET hash = (SELECT hash FROM entries WHERE seq = ?)", (N - 1,))

    _tamper(db, change)
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        report = log.verify()
    assert [(f.kind, f.seq, f.code) for f in report.findings] == [("forged", N - 1, "kaga:log-signer-mismatch")]


def test_edited_subject_index(db: Path, ryokan: Party) -> None:
    def change(conn: sqlite3.Connection) -> None:
        record = json.loads(_rows(conn)[3][1])
        record["entry"]["subjectIndex"] = "A" * 43
        _set_record(conn, 3, record)

    _tamper(db, change)
    assert _findings(db, ryokan) == [("edited", 3)]


def test_unreadable_record(db: Path, ryokan: Party) -> None:
    _tamper(db, lambda conn: conn.execute("UPDATE entries SET record = '{not json' WHERE seq = 6"))
    assert _findings(db, ryokan) == [("edited", 6)]


def test_deleted_middle(db: Path, ryokan: Party) -> None:
    _tamper(db, lambda conn: conn.execute("DELETE FROM entries WHERE seq = 4"))
    assert _findings(db, ryokan) == [("deleted", 4)]


def test_deleted_and_renumbered(db: Path, ryokan: Party) -> None:
    def change(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM entries WHERE seq IN (4, 5)")
        for seq in range(6, N):
            conn.execute("UPDATE entries SET seq = ? WHERE seq = ?", (seq - 2, seq))

    _tamper(db, change)
    assert _findings(db, ryokan) == [("deleted", 4)]


def test_deleted_last_entry(db: Path, ryokan: Party) -> None:
    _tamper(db, lambda conn: conn.execute("DELETE FROM entries WHERE seq = ?", (N - 1,)))
    assert _findings(db, ryokan) == [("deleted", N - 1)]


def test_reordered(db: Path, ryokan: Party) -> None:
    def change(conn: sqlite3.Connection) -> None:
        rows = _rows(conn)
        for a, b in ((3, 6), (6, 3)):
            conn.execute("UPDATE entries SET hash = ?, record = ?, subject_index = ? WHERE seq = ?",
                         (rows[b][0], rows[b][1], rows[b][2], a))

    _tamper(db, change)
    found = _findings(db, ryokan)
    assert found and {kind for kind, _ in found} == {"reordered"}
    assert {seq for _, seq in found} == {3, 6}


def test_inserted_copy_of_a_genuine_entry(db: Path, ryokan: Party) -> None:
    def change(conn: sqlite3.Connection) -> None:
        rows = _rows(conn)
        _shift_up(conn, 5)
        conn.execute("INSERT INTO entries (seq, hash, record, subject_index) VALUES (5, ?, ?, ?)", rows[2])

    _tamper(db, change)
    assert _findings(db, ryokan) == [("inserted", 2)]


def test_inserted_forged_entry(db: Path, ryokan: Party, alice: Party) -> None:
    forger = make_party()

    def change(conn: sqlite3.Connection) -> None:
        record = json.loads(_rows(conn)[5][1])
        body = dict(record["entry"], purpose="forged", verificationMethod=record["entry"]["verificationMethod"])
        forged = sign_body(body, forger.signer)
        forged["proof"]["verificationMethod"] = body["verificationMethod"]  # claims the ryokan's key
        _shift_up(conn, 5)
        text = canonical(forged).decode()
        conn.execute("INSERT INTO entries (seq, hash, record) VALUES (5, ?, ?)",
                     (hashlib.sha256(text.encode()).hexdigest(), text))

    _tamper(db, change)
    assert _findings(db, ryokan) == [("inserted", 5)]


def test_appended_forged_entry(db: Path, ryokan: Party) -> None:
    def change(conn: sqlite3.Connection) -> None:
        record = json.loads(_rows(conn)[N - 1][1])
        record["entry"]["seq"] = N
        _set_record(conn, N - 1, record)
        conn.execute("UPDATE entries SET seq = ? WHERE seq = ?", (N, N - 1))
        conn.execute("INSERT INTO entries (seq, hash, record) SELECT ?, hash, record FROM entries WHERE seq = ?",
                     (N - 1, 0))

    _tamper(db, change)
    kinds = _findings(db, ryokan)
    assert ("inserted", N) in kinds


def test_anchored_batch_edit_also_breaks_its_root(db: Path, ryokan: Party, anchorer: Any) -> None:
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        log.anchor(anchorer)
        assert log.verify(anchorer=anchorer).ok

    def change(conn: sqlite3.Connection) -> None:
        record = json.loads(_rows(conn)[7][1])
        record["entry"]["location"] = "elsewhere"
        _set_record(conn, 7, sign_body(record["entry"], log_signer(LOG_KEY)))

    _tamper(db, change)
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        report = log.verify(anchorer=anchorer)
    assert [(f.kind, f.seq, f.code) for f in report.findings] == [
        ("edited", 7, "kaga:log-tampered"), ("anchor", 9, "kaga:anchor-mismatch"),  # the local head's root
        ("rewritten", 9, "kaga:log-rewritten")]  # the chain's head: the first 10 entries are not those anchored


def test_deleted_anchored_tail_is_found_from_the_batch(db: Path, ryokan: Party, anchorer: Any) -> None:
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        log.anchor(anchorer)

    def change(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM entries WHERE seq >= 8")
        last = _rows(conn)[7][0]
        conn.execute("UPDATE log_head SET seq = 8, hash = ?", (last,))  # the head rewritten too

    _tamper(db, change)
    assert _findings(db, ryokan) == [("deleted", 8)]
