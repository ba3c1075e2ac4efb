"""RFC 9162 §2.1.4 consistency proofs: the Certificate Transparency reference vectors, every mutation of a
good proof refused, and (hypothesis) generation and verification agree for any two sizes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaga_vc.accesslog.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    consistency_proof,
    leaf_hash,
    root_from_path,
    verify_consistency,
)

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "merkle" / "ct-reference.json").read_text())
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots"]]
SOME = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _hashes(n: int) -> list[bytes]:
    return [leaf_hash(x) for x in LEAVES[:n]]


def test_reference_roots() -> None:
    for n in range(1, 9):
        assert MerkleTree(_hashes(n)).root == ROOTS[n - 1]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-in-{c['size']}")
def test_reference_inclusion(case: dict[str, object]) -> None:
    index, size, path = int(case["index"]), int(case["size"]), [bytes.fromhex(p) for p in case["path"]]  # type: ignore[call-overload, union-attr]
    assert MerkleTree(_hashes(size)).audit_path(index) == path
    assert root_from_path(leaf_hash(LEAVES[index]), index, size, path) == ROOTS[size - 1]


def _mutations(first: int, second: int, r1: bytes, r2: bytes, path: list[bytes]) -> list[tuple[int, int, bytes, bytes, list[bytes]]]:
    """The probes of the reference suite's corruptConsistencyProof."""
    out = [
        (first - 1, second, r1, r2, path), (first + 1, second, r1, r2, path), (first ^ 2, second, r1, r2, path),
        (first, second * 2, r1, r2, path), (first, second // 2, r1, r2, path),
        (first, second, b"WrongRoot", r2, path), (first, second, r1, b"WrongRoot", path), (first, second, r2, r1, path),
        (first, second, r1, r2, []), (first, second, r1, r2, path + [b""]), (first, second, r1, r2, path + [r1]),
        (first, second, r1, r2, path + [r2]), (first, second, r1, r2, [b""] + path), (first, second, r1, r2, [r1] + path),
        (first, second, r1, r2, [r2] + path), (first, second, r1, r2, [path[0]] + path), (first, second, r1, r2, path[:-1]),
    ]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        out.append((first, second, r1, r2, flipped))
    return out


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['first']}-{c['second']}")
def test_reference_consistency(case: dict[str, object]) -> None:
    first, second = int(case["first"]), int(case["second"])  # type: ignore[call-overload]
    path = [bytes.fromhex(p) for p in case["path"]]  # type: ignore[union-attr]
    assert consistency_proof(_hashes(second), first) == path  # generation gives the reference proof
    r1, r2 = ROOTS[first - 1], ROOTS[second - 1]
    assert verify_consistency(first, second, r1, r2, path)
    if not path:
        return
    for probe in _mutations(first, second, r1, r2, path):
        assert not verify_consistency(*probe), probe[:2]


def test_edge_cases_of_the_reference_suite() -> None:
    r1, r2 = b"don't care 1", b"don't care 2"
    assert not verify_consistency(0, 0, r1, r2, [])
    assert not verify_consistency(1, 1, r1, r2, [])
    assert verify_consistency(0, 0, r1, r1, [])
    assert verify_consistency(0, 1, r1, r2, [])
    assert verify_consistency(1, 1, r2, r2, [])
    assert not verify_consistency(1, 0, r1, r2, [])  # time travel to the past
    assert not verify_consistency(2, 1, r1, r2, [])
    assert not verify_consistency(1, 2, r1, r2, [])  # empty proof
    assert not verify_consistency(0, 0, EMPTY_ROOT, r2, [])
    assert not verify_consistency(1, 1, EMPTY_ROOT, r2, [])
    for first, second in ((0, 0), (0, 1), (1, 1)):  # roots match but the proof is not empty
        assert not verify_consistency(first, second, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(2, 5, ROOTS[1], ROOTS[4], [SOME, SOME])
    with pytest.raises(ValueError):
        consistency_proof(_hashes(3), 4)


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_generation_and_verification_agree(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [leaf_hash(x) for x in leaves]
    second = len(hashes)
    first = data.draw(st.integers(0, second))
    r1, r2 = MerkleTree(hashes[:first]).root, MerkleTree(hashes).root
    path = consistency_proof(hashes, first)
    assert verify_consistency(first, second, r1, r2, path)
    if 0 < first < second:
        # another first tree (one leaf changed) is not a prefix, nor another second tree; a flipped bit breaks it
        i = data.draw(st.integers(0, first - 1))
        changed = list(hashes[:first])
        changed[i] = leaf_hash(leaves[i] + b"!")
        assert not verify_consistency(first, second, MerkleTree(changed).root, r2, path)
        assert not verify_consistency(first, second, r1, MerkleTree(hashes[:-1] + [leaf_hash(b"x")]).root
                                      if leaves[-1] != b"x" else SOME, path)
        j = data.draw(st.integers(0, len(path) - 1))
        bad = list(path)
        bad[j] = bytes([bad[j][0] ^ 1]) + bad[j][1:]
        assert not verify_consistency(first, second, r1, r2, bad)
