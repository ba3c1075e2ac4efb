"""A log is one verifier's (issue 12): its identity names the verifier; an entry of another is refused on
append, and one put into the database behind the library's back is named by ``log verify``, refused by
anchoring, by ``check-entry`` and in the resident's history — on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from kaga_vc.accesslog import (
    AccessLog,
    InclusionProof,
    answer_challenge,
    canonical,
    check_inclusion,
    log_url,
    read_history,
    record_hash,
)
from kaga_vc.accesslog._entry import build_body, sign_body
from kaga_vc.accesslog._identity import log_signer
from kaga_vc.accesslog.merkle import MerkleTree, leaf_hash
from kaga_vc.cli._app import app
from kaga_vc.cli._common import ExitCode
from kaga_vc.errors import LOG_SIGNER_MISMATCH, LOG_VERIFIER_MISMATCH, AccessLogError

from .conftest import LOG_KEY, Party, entry, make_party


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "log.db")
    return str(request.getfixturevalue("postgres_database"))


def _state(log: AccessLog) -> tuple[Any, ...]:
    """Everything a refused append must leave as it was: head, entries, identity, consumed nonces."""
    from kaga_vc.accesslog import _store as st

    with log.engine.connect() as conn:
        nonces = sorted(conn.execute(st.consumed_nonces.select()).all())
    return log.head(), [e.record for e in log.entries()], log.identity(), nonces


def test_a_second_verifier_appending_is_refused_and_nothing_changes(url: str, ryokan: Party, clinic: Party,
                                                                    alice: Party) -> None:
    early = AccessLog.open(url, log_key=LOG_KEY)  # another process, open before the log's first entry
    with AccessLog.open(url, log_key=LOG_KEY, signer=ryokan.signer) as log:
        log.record(entry(ryokan, alice))
        log.record(entry(ryokan, None, nonce_digest="a" * 64))
        identity = log.identity()
        assert identity is not None and identity.verifier == ryokan.did
        before = _state(log)
        for attempt in (lambda: log.record(entry(clinic, alice, nonce_digest="b" * 64), signer=clinic.signer),
                        lambda: log.record(entry(clinic, alice)),  # no signer given: the log's identity decides
                        lambda: log.record_many([entry(ryokan, alice), entry(clinic, alice)])):
            with pytest.raises(AccessLogError) as info:
                attempt()
            assert info.value.code == LOG_VERIFIER_MISMATCH and ryokan.did in info.value.detail
            assert _state(log) == before
        # the other process knew no identity when it opened: the stored one refuses it, inside the transaction
        with early, pytest.raises(AccessLogError) as info:
            early.record(entry(clinic, alice, nonce_digest="b" * 64), signer=clinic.signer)
        assert info.value.code == LOG_VERIFIER_MISMATCH
        assert _state(log) == before
        # the refused entry consumed no nonce: the log's own verifier records that request's entry
        log.record(entry(ryokan, alice, nonce_digest="b" * 64))
        assert log.verify().ok and len(log) == 3


def test_a_first_batch_of_two_verifiers_makes_no_log(url: str, ryokan: Party, clinic: Party, alice: Party) -> None:
    with AccessLog.open(url, log_key=LOG_KEY) as log:
        with pytest.raises(AccessLogError) as info:
            log.record_many([entry(ryokan, alice), entry(clinic, alice)])
        assert info.value.code == LOG_VERIFIER_MISMATCH
        assert len(log) == 0 and log.identity() is None  # the identity was not fixed by the refused batch
        log.record(entry(clinic, alice))
        assert log.identity().verifier == clinic.did  # type: ignore[union-attr]


def _insert(url: str, record: dict[str, Any]) -> None:
    """What an operator with database access does: a row at the end of the log and the head moved to it."""
    engine = create_engine(log_url(url))
    digest = record_hash(record)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO entries (seq, hash, subject_index, record) VALUES (:s, :h, :i, :r)"),
                     {"s": record["entry"]["seq"], "h": digest, "i": record["entry"].get("subjectIndex"),
                      "r": canonical(record).decode()})
        conn.execute(text("UPDATE log_head SET seq = :n, hash = :h"), {"n": record["entry"]["seq"] + 1, "h": digest})
    engine.dispose()


def _other_verifiers_entry(log: AccessLog, other: Party, signer: Any, **kw: Any) -> dict[str, Any]:
    last = list(log.entries())[-1]
    body = build_body(entry(other, None, **kw), log_id=log.log_id, seq=last.seq + 1, previous=last.hash,
                      now=datetime.now(UTC), subject_index=last.body.get("subjectIndex"),
                      subject_data=last.body.get("subjectData"), verification_method=signer.key_id)
    return sign_body(body, signer)


@pytest.mark.parametrize("signed_by", ["log key", "own key"])
def test_a_row_of_another_verifier_inserted_in_the_database_is_named(url: str, ryokan: Party, clinic: Party,
                                                                     alice: Party, anchorer: Any,
                                                                     signed_by: str) -> None:
    """The log key's holder (or anyone with database access and a key of their own) adds an entry of another
    verifier: ``log verify`` names it with kaga:log-verifier-mismatch, and anchoring never commits it."""
    with AccessLog.open(url, log_key=LOG_KEY, signer=ryokan.signer) as log:
        for _ in range(3):
            log.record(entry(ryokan, alice))
        signer = log_signer(LOG_KEY) if signed_by == "log key" else clinic.signer
        forged = _other_verifiers_entry(log, clinic, signer, purpose="consultation")
    _insert(url, forged)
    with AccessLog.open(url, log_key=LOG_KEY) as log:
        found = {(f.kind, f.seq, f.code) for f in log.verify().findings}
        expected = {("verifier", 3, LOG_VERIFIER_MISMATCH)}
        if signed_by == "own key":
            expected.add(("forged", 3, LOG_SIGNER_MISMATCH))
        assert found == expected
        with pytest.raises(AccessLogError) as info:
            log.anchor(anchorer)
        assert info.value.code == (LOG_VERIFIER_MISMATCH if signed_by == "log key" else LOG_SIGNER_MISMATCH)
        assert log.batches() == []


def test_check_entry_and_the_residents_history_name_an_entry_of_another_verifier(tmp_path: Path, ryokan: Party,
                                                                                   clinic: Party, alice: Party,
                                                                                   anchorer: Any) -> None:
    """The key holder adds an entry of another verifier about alice and anchors the tree itself (the contract
    takes any growing tree): a proof leads to the head on chain, and it is still not an entry of this log."""
    db = tmp_path / "log.db"
    with AccessLog.open(str(db), log_key=LOG_KEY, signer=ryokan.signer) as log:
        log.record(entry(ryokan, alice))
        forged = _other_verifiers_entry(log, clinic, log_signer(LOG_KEY), purpose="sold to a broker")
    _insert(str(db), forged)
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        identity = log.identity()
        assert identity is not None
        leaves = [leaf_hash(e.leaf) for e in log.entries()]
        tree = MerkleTree(leaves)
        receipt = anchorer.anchor(bytes.fromhex(log.log_id), identity.digest, 2, tree.root)
        proof = InclusionProof(log.log_id, 1, 2, tuple(p.hex() for p in tree.audit_path(1)), tree.root.hex(),
                               int(receipt.index), anchorer.chain_id, anchorer.contract, anchorer.anchorer,
                               receipt.transaction_hash, int(receipt.block_number), identity)
        with pytest.raises(AccessLogError) as info:
            check_inclusion(forged, proof, anchorer)  # the head is on chain, the identity is the chain's
        assert info.value.code == LOG_VERIFIER_MISMATCH
        with pytest.raises(AccessLogError) as info:
            check_inclusion(forged, proof)  # without a chain too
        assert info.value.code == LOG_VERIFIER_MISMATCH
        did, entries = log.subject_history(answer_challenge(log.create_challenge(), did=alice.did,
                                                            signer=alice.signer))
    items = read_history(did, entries, alice.key, identity=identity)
    assert [(i.verifier, i.problem, i.proven) for i in items] == [(ryokan.did, None, False),
                                                                 (clinic.did, LOG_VERIFIER_MISMATCH, False)]


def test_log_verify_names_it_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ryokan: Party,
                                                 alice: Party) -> None:
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path))
    db = tmp_path / "accesslog.db"
    with AccessLog.open(str(db), log_key=LOG_KEY, signer=ryokan.signer) as log:
        log.record(entry(ryokan, alice))
        forged = _other_verifiers_entry(log, make_party(), log_signer(LOG_KEY))
    _insert(str(db), forged)
    result = CliRunner().invoke(app, ["log", "verify", "--log", str(db), "--no-chain", "--json"])
    assert result.exit_code == ExitCode.INVALID, result.output
    findings = json.loads(result.stdout)["findings"]
    assert [(f["kind"], f["seq"], f["code"]) for f in findings] == [("verifier", 1, LOG_VERIFIER_MISMATCH)]
    human = CliRunner().invoke(app, ["log", "verify", "--log", str(db), "--no-chain"])
    assert human.exit_code == ExitCode.INVALID and LOG_VERIFIER_MISMATCH in human.output



def test_kaga_vc_verify_for_another_verifier_stops_before_verifying(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    password_env: str, ryokan: Party,
                                                                    clinic: Party, alice: Party) -> None:
    """``kaga-vc verify --request`` with another verifier's key on the ryokan's log: refused with the code
    before anything is verified (no nonce consumed), and the log is as it was."""
    from kaga_vc.keys.keystore import save_key

    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path))
    db, key_file = tmp_path / "ryokan.db", tmp_path / "ryokan.key"
    key_file.write_text(LOG_KEY.hex())
    key_file.chmod(0o600)
    monkeypatch.setenv("KAGA_VC_ACCESSLOG_KEY", str(key_file))
    with AccessLog.open(str(db), log_key=LOG_KEY, signer=ryokan.signer) as log:
        log.record(entry(ryokan, alice))
        before = [e.record for e in log.entries()]
    save_key(tmp_path / "clinic.json", clinic.key, password_env, scrypt_n=2**10)
    for name in ("response.txt", "request.jwt", "bundle.jwt"):
        (tmp_path / name).write_text("not read: the log refuses first\n")
    result = CliRunner().invoke(app, ["verify", str(tmp_path / "response.txt"), "--request",
                                      str(tmp_path / "request.jwt"), "--bundle", str(tmp_path / "bundle.jwt"),
                                      "--verifier-key", str(tmp_path / "clinic.json"), "--log", str(db), "--json"])
    assert result.exit_code != 0 and LOG_VERIFIER_MISMATCH in result.output, result.output
    with AccessLog.open(str(db), log_key=LOG_KEY) as log:
        assert [e.record for e in log.entries()] == before
