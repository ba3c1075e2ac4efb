"""Merkle trees of RFC 6962 / RFC 9162 §2.1 (SHA-256, domain-separated leaves and nodes); pure.

- leaf hash ``SHA-256(0x00 || leaf)``, interior node ``SHA-256(0x01 || left || right)``
  (RFC 9162 §2.1.1): a leaf can never be passed off as a node (second-preimage resistance);
- the tree over ``n`` leaves splits at the largest power of two below ``n``; building it level by
  level and carrying an odd last node up unchanged gives exactly that tree;
- inclusion proofs are the audit paths of RFC 9162 §2.1.3.1, verified by the algorithm of
  §2.1.3.2, which needs only the leaf, its index, the tree size, the path and the root;
- consistency proofs (§2.1.4.1, verified by §2.1.4.2) show that a tree of m leaves is a prefix of a
  later tree of n leaves from the two roots alone: an auditor holding only two signed tree heads
  learns whether the log between them was appended to and never rewritten.

https://www.rfc-editor.org/rfc/rfc9162#section-2.1
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162 §2.1.1: MTH({}) = HASH()


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 || leaf)``."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


class MerkleTree:
    """Every level of the tree over some leaf hashes: its root and the audit path of any leaf."""

    __slots__ = ("levels",)

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        level = list(leaf_hashes)
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])  # the lone right node moves up unchanged
            self.levels.append(nxt)
            level = nxt

    @classmethod
    def from_leaves(cls, leaves: Sequence[bytes]) -> MerkleTree:
        return cls([leaf_hash(leaf) for leaf in leaves])

    @property
    def size(self) -> int:
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        return self.levels[-1][0] if self.size else EMPTY_ROOT

    def audit_path(self, index: int) -> list[bytes]:
        """The sibling hashes from leaf ``index`` up to the root (RFC 9162 §2.1.3.1 PATH(m, D[n]))."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is not in a tree of {self.size}")
        path = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index //= 2
        return path


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root hash MTH(D[n]) of the leaves (raw leaf data, not leaf hashes)."""
    return MerkleTree.from_leaves(leaves).root


def root_from_path(leaf_hash_value: bytes, index: int, tree_size: int, path: Sequence[bytes]) -> bytes | None:
    """The root an audit path leads to (RFC 9162 §2.1.3.2), or None if the path cannot fit the tree."""
    if not 0 <= index < tree_size:
        return None
    fn, sn = index, tree_size - 1
    r = leaf_hash_value
    for p in path:
        if sn == 0:
            return None  # step 5.1: a path longer than the tree is high
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


# --- consistency proofs (RFC 9162 §2.1.4) ----------------------------------------------------------------


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2): where MTH splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(hashes: Sequence[bytes]) -> bytes:
    return MerkleTree(hashes).root


def consistency_proof(leaf_hashes: Sequence[bytes], first: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1: the tree of the first ``first`` leaves is a prefix of this one.

    ``leaf_hashes`` are the n leaf hashes of the newer tree; ``0 <= first <= n``. Empty for ``first`` 0 or n
    (every tree extends the empty one; a tree extends itself).
    """
    n = len(leaf_hashes)
    if not 0 <= first <= n:
        raise ValueError(f"a tree of {n} leaves has no prefix of {first}")
    if first in (0, n):
        return []
    return _subproof(first, leaf_hashes, True)


def _subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [_subtree_root(leaves)]
    k = _largest_power_below(n)
    if m <= k:
        return _subproof(m, leaves[:k], whole) + [_subtree_root(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [_subtree_root(leaves[:k])]


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> bool:
    """Whether ``path`` proves that the tree (``first``, ``first_root``) is a prefix of (``second``, ``second_root``).

    RFC 9162 §2.1.4.2 for 0 < first < second; a tree is consistent with itself only with an empty proof
    and the same root, and every tree extends the empty one (empty proof); a smaller second tree never.
    """
    if first < 0 or second < first or any(len(p) != 32 for p in path):
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if not path:  # step 1
        return False
    nodes = list(path)
    if first & (first - 1) == 0:  # step 2: first is a power of two, its root is a node of the second tree
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]  # step 5
    for c in nodes[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0  # step 7
