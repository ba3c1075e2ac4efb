"""Anchoring signed tree heads: one transaction per head whatever its size, no personal data on chain, an
append-only sequence per log (the contract refuses a head that does not grow the tree or changes the log's
identity), proofs checked against the chain's heads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.accesslog import AccessLog, InclusionProof, check_inclusion, verify_inclusion
from kaga_vc.errors import (
    ANCHOR_NOT_FOUND,
    INCLUSION_PROOF_INVALID,
    LOG_IDENTITY_MISMATCH,
    LOG_SIGNER_MISMATCH,
    NOTHING_TO_ANCHOR,
    AccessLogError,
)
from kaga_vc.registry._errors import TRANSACTION_REVERTED, RegistryError
from kaga_vc.registry.anchor import ANCHORED_TOPIC, load_anchor_artifact

from .conftest import LOG_KEY, Party, entry

ROOT = Path(__file__).resolve().parents[2]


def test_artifact_records_its_source() -> None:
    artifact = load_anchor_artifact()
    source = (ROOT / "contracts" / "KagaAccessAnchor.sol").read_bytes()
    assert artifact.source_sha256 == hashlib.sha256(source).hexdigest()
    assert artifact.compiler_version.startswith("0.8.28+")
    names = {f["name"] for f in artifact.abi if f["type"] == "function"}
    assert names == {"anchor", "logOf", "headAt"}


def test_deployed_code_is_the_shipped_artifact(anchorer: Any) -> None:
    code = anchorer.registry.rpc("eth_getCode", anchorer.contract, "latest")
    assert bytes.fromhex(code[2:]) == load_anchor_artifact().deployed_bytecode


def _block_transactions(anchorer: Any, number: int) -> Any:
    """The transactions of a block of the embedded chain (its JSON-RPC subset does not list them)."""
    return anchorer.registry.transport._chain.get_canonical_block_by_number(number).transactions


def _fill(log: AccessLog, ryokan: Party, subjects: list[Party], n: int) -> None:
    for i in range(n):
        log.record(entry(ryokan, subjects[i % len(subjects)]))


def test_one_transaction_per_head_and_constant_gas(sqlite_log: AccessLog, ryokan: Party, alice: Party, bob: Party,
                                                   anchorer: Any) -> None:
    gas = []
    for size in (1, 10, 300):
        _fill(sqlite_log, ryokan, [alice, bob], size)
        before = int(anchorer.registry.rpc("eth_blockNumber"), 16)
        batch = sqlite_log.anchor(anchorer)
        after = int(anchorer.registry.rpc("eth_blockNumber"), 16)
        assert after == before + 1 == batch.block_number  # one block, one transaction
        assert len(_block_transactions(anchorer, after)) == 1
        assert batch.size == size and batch.tree_size == len(sqlite_log)
        gas.append(batch.gas_used)
    assert [b.index for b in sqlite_log.batches()] == [0, 1, 2]
    # the first head also commits the identity; then the number of new entries does not change the cost
    assert gas[0] > gas[1] and abs(gas[2] - gas[1]) < 200 and gas[0] < 130_000, gas
    with pytest.raises(AccessLogError) as info:
        sqlite_log.anchor(anchorer)
    assert info.value.code == NOTHING_TO_ANCHOR
    assert sqlite_log.verify(anchorer=anchorer).ok


def test_nothing_personal_on_chain(sqlite_log: AccessLog, ryokan: Party, alice: Party, anchorer: Any) -> None:
    _fill(sqlite_log, ryokan, [alice], 3)
    batch = sqlite_log.anchor(anchorer)
    (tx,) = _block_transactions(anchorer, batch.block_number)
    receipt = anchorer.registry.rpc("eth_getTransactionReceipt", batch.transaction_hash)
    on_chain = (tx.data.hex() + json.dumps(receipt["logs"])).lower()
    index = next(sqlite_log.entries()).body["subjectIndex"]
    identity = sqlite_log.identity()
    assert identity is not None
    for secret in (alice.did, alice.did.encode().hex(), ryokan.did.encode().hex(), index.encode().hex(),
                   identity.key.encode().hex(), b"lodging".hex(), b"kagaresidentcredential".hex()):
        assert secret.lower() not in on_chain
    # what is there: the log id, the identity's hash, the tree size and the root
    assert sqlite_log.log_id in on_chain and batch.root in on_chain and identity.digest.hex() in on_chain


def test_the_anchored_event_is_read_back(sqlite_log: AccessLog, ryokan: Party, alice: Party, anchorer: Any) -> None:
    """ANCHORED_TOPIC: the receipt's head (index, size, root) is the contract's event, not what was sent."""
    _fill(sqlite_log, ryokan, [alice], 2)
    first = sqlite_log.anchor(anchorer)
    _fill(sqlite_log, ryokan, [alice], 3)
    second = sqlite_log.anchor(anchorer)
    logs = anchorer.registry.rpc("eth_getTransactionReceipt", second.transaction_hash)["logs"]
    assert [entry["topics"][0] for entry in logs] == [ANCHORED_TOPIC]
    assert int(logs[0]["topics"][3], 16) == second.index == first.index + 1 == 1
    assert (second.tree_size, second.root) == (5, logs[0]["data"][2 + 64:2 + 128])
    on_chain = anchorer.read_log(anchorer.anchorer, bytes.fromhex(sqlite_log.log_id))
    assert [(h.index, h.tree_size, h.root) for h in on_chain.heads] == [(0, 2, first.root), (1, 5, second.root)]


def test_the_contract_keeps_heads_append_only(sqlite_log: AccessLog, ryokan: Party, alice: Party,
                                              anchorer: Any) -> None:
    _fill(sqlite_log, ryokan, [alice], 4)
    head = sqlite_log.anchor(anchorer)
    identity = sqlite_log.identity()
    assert identity is not None
    log_id = bytes.fromhex(sqlite_log.log_id)
    for size, ident, why in ((4, identity.digest, "size_must_grow"), (3, identity.digest, "size_must_grow"),
                             (9, hashlib.sha256(b"another key").digest(), "identity_changed")):
        with pytest.raises(RegistryError) as info:
            anchorer.anchor(log_id, ident, size, hashlib.sha256(b"another history").digest())
        assert info.value.code == TRANSACTION_REVERTED and why in info.value.detail
    on_chain = anchorer.read_log(anchorer.anchorer, log_id)
    assert [(h.tree_size, h.root) for h in on_chain.heads] == [(4, head.root)]
    assert on_chain.identity == identity.digest.hex()


def test_every_entry_has_a_proof_checked_on_chain(sqlite_log: AccessLog, ryokan: Party, alice: Party, bob: Party,
                                                  anchorer: Any) -> None:
    _fill(sqlite_log, ryokan, [alice, bob], 7)
    sqlite_log.anchor(anchorer)
    _fill(sqlite_log, ryokan, [alice, bob], 5)
    latest = sqlite_log.anchor(anchorer)
    for recorded in sqlite_log.entries():
        proof = sqlite_log.proof(recorded.seq)
        assert (proof.tree_size, proof.root, proof.head_index) == (12, latest.root, 1)  # the latest head
        # anyone holding the entry: the JSON alone, round-tripped through a file
        held = json.loads(json.dumps(recorded.record))
        again = InclusionProof.from_json(json.loads(json.dumps(proof.to_json())))
        assert verify_inclusion(held, again, again.root)
        found = check_inclusion(held, again, anchorer)
        assert found.block_number == proof.block_number and found.tree_size == proof.tree_size
    first = next(sqlite_log.entries())
    proof = sqlite_log.proof(0)
    assert not verify_inclusion(first, sqlite_log.proof(1), proof.root)  # another entry's proof
    changed = json.loads(json.dumps(first.record))
    changed["entry"]["purpose"] = "other"
    assert not verify_inclusion(changed, proof, proof.root)
    with pytest.raises(AccessLogError) as info:
        check_inclusion(changed, proof, anchorer)
    assert info.value.code == INCLUSION_PROOF_INVALID


def _fields(proof: InclusionProof) -> dict[str, Any]:
    return {name: getattr(proof, name) for name in InclusionProof.__dataclass_fields__}


def test_a_head_or_identity_that_is_not_on_chain(sqlite_log: AccessLog, ryokan: Party, alice: Party,
                                                 anchorer: Any) -> None:
    import dataclasses

    from kaga_vc.accesslog.merkle import MerkleTree, leaf_hash

    _fill(sqlite_log, ryokan, [alice], 2)
    sqlite_log.anchor(anchorer)
    recorded = next(sqlite_log.entries())
    proof = sqlite_log.proof(0)
    # a proof for a root built by someone else: consistent, but never anchored
    tree = MerkleTree([leaf_hash(recorded.leaf), leaf_hash(b"made up")])
    fake = InclusionProof(**{**_fields(proof), "tree_size": 2, "path": (tree.audit_path(0)[0].hex(),),
                             "root": tree.root.hex()})
    assert verify_inclusion(recorded, fake, fake.root)
    with pytest.raises(AccessLogError) as info:
        check_inclusion(recorded, fake, anchorer)
    assert info.value.code == ANCHOR_NOT_FOUND
    # the real head, but the proof names another verifier for the log: not the identity the chain committed
    other = InclusionProof(**{**_fields(proof), "identity": dataclasses.replace(proof.identity, verifier=alice.did)})
    with pytest.raises(AccessLogError) as info:
        check_inclusion(recorded, other, anchorer)
    assert info.value.code == LOG_IDENTITY_MISMATCH
    # ... or another log key: the entry is not signed by it
    keyed = InclusionProof(**{**_fields(proof), "identity": dataclasses.replace(proof.identity,
                                                                                key=ryokan.signer.key_id)})
    with pytest.raises(AccessLogError) as info:
        check_inclusion(recorded, keyed, anchorer)
    assert info.value.code == LOG_SIGNER_MISMATCH


def test_unanchored_entry_has_no_proof_yet(sqlite_log: AccessLog, ryokan: Party, alice: Party) -> None:
    _fill(sqlite_log, ryokan, [alice], 1)
    with pytest.raises(AccessLogError) as info:
        sqlite_log.proof(0)
    assert info.value.code == ANCHOR_NOT_FOUND


def test_anchoring_again_after_a_crash_records_without_a_second_transaction(
        tmp_path: Path, ryokan: Party, alice: Party, anchorer: Any) -> None:
    with AccessLog.open(str(tmp_path / "a.db"), log_key=LOG_KEY, signer=ryokan.signer) as log:
        _fill(log, ryokan, [alice], 4)
        # the transaction went through, then the process died before the head was recorded
        from kaga_vc.accesslog.merkle import MerkleTree, leaf_hash

        root = MerkleTree([leaf_hash(e.leaf) for e in log.entries()]).root
        identity = log.identity()
        assert identity is not None
        anchorer.anchor(bytes.fromhex(log.log_id), identity.digest, 4, root)
        before = int(anchorer.registry.rpc("eth_blockNumber"), 16)
        batch = log.anchor(anchorer)
        assert int(anchorer.registry.rpc("eth_blockNumber"), 16) == before
        assert batch.root == root.hex() and batch.block_number == before
        assert log.verify(anchorer=anchorer).ok


def test_batch_limit(sqlite_log: AccessLog, ryokan: Party, alice: Party, anchorer: Any) -> None:
    _fill(sqlite_log, ryokan, [alice], 5)
    first = sqlite_log.anchor(anchorer, max_batch=3)
    second = sqlite_log.anchor(anchorer)
    assert (first.first_seq, first.size, second.first_seq, second.size) == (0, 3, 3, 2)
    assert (first.tree_size, second.tree_size) == (3, 5)
    assert sqlite_log.verify(anchorer=anchorer).ok
