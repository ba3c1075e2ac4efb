"""Merkle trees of RFC 6962 / RFC 9162 §2.1 (SHA-256, domain-separated leaves and nodes); pure.

- leaf hash ``SHA-256(0x00 || leaf)``, interior node ``SHA-256(0x01 || left || right)``
  (RFC 9162 §2.1.1): a leaf can never be passed off as a node (second-preimage resistance);
- the tree over ``n`` leaves splits at the largest power of two below ``n``; building it level by
  level and carrying an odd last node up unchanged gives exactly that tree;
- inclusion proofs are the audit paths of RFC 9162 §2.1.3.1, verified by the algorithm of
  §2.1.3.2, which needs only the leaf, its index, the tree size, the path and the root.

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
