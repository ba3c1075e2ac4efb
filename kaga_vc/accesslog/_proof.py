"""Inclusion proofs of access-log entries and their check against an anchored root (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import (
    ANCHOR_MISMATCH,
    ANCHOR_NOT_FOUND,
    INCLUSION_PROOF_INVALID,
    MALFORMED_VALUE_ERROR,
    AccessLogError,
    InputError,
)
from ._entry import RecordedEntry, canonical
from .merkle import leaf_hash, root_from_path

JSONObject = dict[str, Any]


class Anchorer(Protocol):
    """Where batch roots are anchored (``kaga_vc.registry.anchor.ChainAnchor`` on Ethereum)."""

    @property
    def chain_id(self) -> int: ...

    @property
    def contract(self) -> str: ...

    @property
    def anchorer(self) -> str: ...

    def anchor(self, log_id: bytes, root: bytes, first_seq: int, size: int) -> Any:
        """Anchor ``root``; returns a receipt with ``transaction_hash``, ``block_number``, ``gas_used``."""
        ...

    def lookup(self, anchorer: str, log_id: bytes, root: bytes, *, contract: str | None = None) -> Any | None:
        """The on-chain record (``block_number``, ``timestamp``, ``first_seq``, ``size``) or None.

        ``contract`` names the anchor contract to ask (default: the anchorer's own)."""
        ...


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """The audit path of one entry in its anchored batch, and where the batch's root is on chain."""

    log_id: str
    seq: int
    first_seq: int
    tree_size: int
    path: tuple[str, ...]
    root: str
    chain_id: int
    contract: str
    anchorer: str
    transaction_hash: str
    block_number: int

    @property
    def index(self) -> int:
        return self.seq - self.first_seq

    def to_json(self) -> JSONObject:
        return {"logId": self.log_id, "seq": self.seq, "firstSeq": self.first_seq, "treeSize": self.tree_size,
                "path": list(self.path), "root": self.root, "chainId": self.chain_id, "contract": self.contract,
                "anchorer": self.anchorer, "transactionHash": self.transaction_hash, "blockNumber": self.block_number}

    @classmethod
    def from_json(cls, data: Any) -> InclusionProof:
        try:
            return cls(str(data["logId"]), int(data["seq"]), int(data["firstSeq"]), int(data["treeSize"]),
                       tuple(str(p) for p in data["path"]), str(data["root"]), int(data["chainId"]),
                       str(data["contract"]), str(data["anchorer"]), str(data["transactionHash"]),
                       int(data["blockNumber"]))
        except (KeyError, TypeError, ValueError):
            raise InputError(MALFORMED_VALUE_ERROR, "not an inclusion proof") from None


def _record_of(entry: RecordedEntry | JSONObject) -> JSONObject:
    return entry.record if isinstance(entry, RecordedEntry) else entry


def verify_inclusion(entry: RecordedEntry | JSONObject, proof: InclusionProof, root: bytes | str) -> bool:
    """Whether ``entry`` (a record) sits at its place in the batch whose Merkle root is ``root``.

    Pure: the entry's canonical bytes, the audit path and the root are all it needs (RFC 9162
    §2.1.3.2). The entry's own ``log`` and ``seq`` must be the proof's.
    """
    record = _record_of(entry)
    body = record.get("entry") if isinstance(record, dict) else None
    if not isinstance(body, dict) or body.get("seq") != proof.seq or body.get("log") != proof.log_id:
        return False
    try:
        path = [bytes.fromhex(p) for p in proof.path]
        expected = bytes.fromhex(root) if isinstance(root, str) else root
    except ValueError:
        return False
    if any(len(p) != 32 for p in path):
        return False
    computed = root_from_path(leaf_hash(canonical(record)), proof.index, proof.tree_size, path)
    return computed is not None and computed == expected


def check_inclusion(entry: RecordedEntry | JSONObject, proof: InclusionProof, anchorer: Anchorer | None = None) -> Any:
    """Verify ``proof`` for ``entry`` and, given an anchorer, that its root is on chain as the proof says.

    Returns the on-chain record (or None without an anchorer). Raises :class:`AccessLogError`
    ``kaga:inclusion-proof-invalid``, ``kaga:anchor-not-found`` or ``kaga:anchor-mismatch``.
    """
    if not verify_inclusion(entry, proof, proof.root):
        raise AccessLogError(INCLUSION_PROOF_INVALID, f"entry {proof.seq} is not in the batch with root {proof.root}")
    if anchorer is None:
        return None
    on_chain = None
    if proof.chain_id == anchorer.chain_id:
        on_chain = anchorer.lookup(proof.anchorer, bytes.fromhex(proof.log_id), bytes.fromhex(proof.root),
                                   contract=proof.contract)
    if on_chain is None:
        raise AccessLogError(ANCHOR_NOT_FOUND, f"root {proof.root} is not anchored by {proof.anchorer} on chain "
                             f"{anchorer.chain_id}")
    if (on_chain.first_seq, on_chain.size) != (proof.first_seq, proof.tree_size):
        raise AccessLogError(ANCHOR_MISMATCH, "the chain anchors this root for other entries than the proof says")
    return on_chain
