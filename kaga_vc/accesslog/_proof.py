"""Inclusion proofs of access-log entries and their check against a tree head on chain (RFC 9162 §2.1.3).

A proof places one entry (leaf ``seq``) in the tree of the log's first ``tree_size`` entries whose root is
a signed tree head the chain holds for the log, and carries the log's identity (:class:`LogIdentity`) so
that whoever holds the entry and the proof — a resident, an auditor — checks, trusting nobody but the
chain: the entry is signed by the log's key, the key is the one the chain committed for the log, and the
head is on chain under the log operator's account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import (
    ANCHOR_NOT_FOUND,
    INCLUSION_PROOF_INVALID,
    LOG_IDENTITY_MISMATCH,
    LOG_VERIFIER_MISMATCH,
    MALFORMED_VALUE_ERROR,
    AccessLogError,
    InputError,
)
from ._entry import RecordedEntry, canonical
from ._identity import LogIdentity
from .merkle import leaf_hash, root_from_path

JSONObject = dict[str, Any]


class Anchorer(Protocol):
    """Where tree heads are anchored (``kaga_vc.registry.anchor.ChainAnchor`` on Ethereum)."""

    @property
    def chain_id(self) -> int: ...

    @property
    def contract(self) -> str: ...

    @property
    def anchorer(self) -> str: ...

    def anchor(self, log_id: bytes, identity: bytes, tree_size: int, root: bytes) -> Any:
        """Append the head; a receipt with ``index``, ``transaction_hash``, ``block_number``, ``gas_used``."""
        ...

    def read_log(self, anchorer: str, log_id: bytes, *, contract: str | None = None) -> Any:
        """What the chain holds for ``anchorer``'s log: ``identity`` (hex) and ``heads`` (``index``,
        ``tree_size``, ``root`` hex, ``block_number``, ``timestamp``), from contract state.

        ``contract`` names the anchor contract to ask (default: the anchorer's own)."""
        ...


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """The audit path of one entry in the tree of a tree head, where that head is on chain, and the log's identity."""

    log_id: str
    seq: int
    tree_size: int
    path: tuple[str, ...]
    root: str
    head_index: int
    chain_id: int
    contract: str
    anchorer: str
    transaction_hash: str
    block_number: int
    identity: LogIdentity

    @property
    def index(self) -> int:
        return self.seq

    def to_json(self) -> JSONObject:
        return {"logId": self.log_id, "seq": self.seq, "treeSize": self.tree_size, "path": list(self.path),
                "root": self.root, "headIndex": self.head_index, "chainId": self.chain_id, "contract": self.contract,
                "anchorer": self.anchorer, "transactionHash": self.transaction_hash, "blockNumber": self.block_number,
                "identity": self.identity.to_json()}

    @classmethod
    def from_json(cls, data: Any) -> InclusionProof:
        try:
            return cls(str(data["logId"]), int(data["seq"]), int(data["treeSize"]),
                       tuple(str(p) for p in data["path"]), str(data["root"]), int(data["headIndex"]),
                       int(data["chainId"]), str(data["contract"]), str(data["anchorer"]),
                       str(data["transactionHash"]), int(data["blockNumber"]), LogIdentity.from_json(data["identity"]))
        except (KeyError, TypeError, ValueError):
            raise InputError(MALFORMED_VALUE_ERROR, "not an inclusion proof") from None


def _record_of(entry: RecordedEntry | JSONObject) -> JSONObject:
    return entry.record if isinstance(entry, RecordedEntry) else entry


def verify_inclusion(entry: RecordedEntry | JSONObject, proof: InclusionProof, root: bytes | str) -> bool:
    """Whether ``entry`` (a record) is leaf ``seq`` of the tree of ``tree_size`` entries whose root is ``root``.

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
    """Verify ``proof`` for ``entry``: the audit path, the log key's signature, and (given an anchorer, i.e. a
    chain to read) that the chain committed the proof's identity for the log and holds its tree head.

    Returns the on-chain head (``block_number``, ``timestamp``, ``tree_size``), or None without an anchorer.
    Raises :class:`AccessLogError` ``kaga:inclusion-proof-invalid``, ``kaga:log-signer-mismatch`` (the entry
    is not signed by the log's key), ``kaga:log-verifier-mismatch`` (it names another verifier than the
    log's identity), ``kaga:log-identity-mismatch`` (the chain committed another identity),
    ``kaga:anchor-not-found`` (no such head on chain).
    """
    if proof.identity.log_id != proof.log_id or not verify_inclusion(entry, proof, proof.root):
        raise AccessLogError(INCLUSION_PROOF_INVALID, f"entry {proof.seq} is not in the tree with root {proof.root}")
    problem = proof.identity.signature_problem(_record_of(entry))
    if problem is not None:
        raise AccessLogError(problem, f"entry {proof.seq} is not signed by the log's key {proof.identity.key}")
    if anchorer is None:
        _same_verifier(entry, proof)
        return None
    if proof.chain_id != anchorer.chain_id:
        raise AccessLogError(ANCHOR_NOT_FOUND, f"the proof's head is on chain {proof.chain_id}, this is chain "
                             f"{anchorer.chain_id}")
    on_chain = anchorer.read_log(proof.anchorer, bytes.fromhex(proof.log_id), contract=proof.contract)
    if not on_chain.heads:
        raise AccessLogError(ANCHOR_NOT_FOUND, f"{proof.anchorer} anchored nothing for log {proof.log_id} on chain "
                             f"{anchorer.chain_id}")
    if on_chain.identity != proof.identity.digest.hex():
        raise AccessLogError(LOG_IDENTITY_MISMATCH, "the chain committed another identity for this log than the "
                             "proof's (another key or verifier)")
    _same_verifier(entry, proof)  # after the chain's identity: a proof that lies about it is named as such
    for head in on_chain.heads:
        if head.tree_size == proof.tree_size and head.root == proof.root:
            return head
    raise AccessLogError(ANCHOR_NOT_FOUND, f"no tree head ({proof.tree_size}, {proof.root}) of this log on chain "
                         f"{anchorer.chain_id}")


def _same_verifier(entry: RecordedEntry | JSONObject, proof: InclusionProof) -> None:
    if proof.identity.verifier_problem(_record_of(entry)) is not None:
        raise AccessLogError(LOG_VERIFIER_MISMATCH, f"entry {proof.seq} names another verifier than the log's, "
                             f"{proof.identity.verifier}")
