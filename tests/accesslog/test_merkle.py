"""The Merkle tree is RFC 6962/9162's: same roots and audit paths as an independent implementation."""

from __future__ import annotations

import pymerkle
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaga_vc.accesslog.merkle import EMPTY_ROOT, MerkleTree, leaf_hash, merkle_root, node_hash, root_from_path


def _reference(leaves: list[bytes]) -> pymerkle.InmemoryTree:
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for leaf in leaves:
        tree.append_entry(leaf)
    return tree


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 100])
def test_roots_and_paths_match_pymerkle(size: int) -> None:
    leaves = [f"entry {i}".encode() for i in range(size)]
    ours, ref = MerkleTree.from_leaves(leaves), _reference(leaves)
    assert ours.root == ref.get_root()
    for index in range(size):
        path = ours.audit_path(index)
        proof = ref.prove_inclusion(index + 1, size)
        # the same audit path (pymerkle lists the leaf hash first), accepted by pymerkle's verifier too
        assert [bytes.fromhex(h) for h in proof.serialize()["path"][1:]] == path
        pymerkle.verify_inclusion(leaf_hash(leaves[index]), ours.root, proof)
        assert root_from_path(leaf_hash(leaves[index]), index, size, path) == ours.root


def test_domain_separation() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert merkle_root([b"a", b"b"]) == node_hash(a, b)
    # an interior node presented as a leaf does not give the same root (second-preimage resistance)
    assert merkle_root([a + b]) != merkle_root([b"a", b"b"])
    assert MerkleTree([]).root == EMPTY_ROOT


@given(st.lists(st.binary(max_size=16), min_size=1, max_size=40), st.data())
def test_any_change_breaks_the_proof(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree.from_leaves(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    path = tree.audit_path(index)
    assert root_from_path(leaf_hash(leaves[index]), index, len(leaves), path) == tree.root
    assert root_from_path(leaf_hash(leaves[index] + b"x"), index, len(leaves), path) != tree.root
    if len(leaves) > 1:
        other = data.draw(st.integers(0, len(leaves) - 1).filter(lambda i: i != index))
        if leaves[other] != leaves[index]:
            assert root_from_path(leaf_hash(leaves[index]), other, len(leaves), path) != tree.root
    if path:
        bad = [bytes(32)] + path[1:]
        assert root_from_path(leaf_hash(leaves[index]), index, len(leaves), bad) != tree.root
        assert root_from_path(leaf_hash(leaves[index]), index, len(leaves), path + [bytes(32)]) is None
    assert root_from_path(leaf_hash(leaves[index]), len(leaves), len(leaves), path) is None
