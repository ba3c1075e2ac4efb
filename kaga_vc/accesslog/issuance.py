"""Issuance anchors: the answer to backdating with a key that is no longer valid (docs/key-rotation.md).

A credential states its own issuance time, and verifiers resolve the issuer's DID at that time; so a
revoked key, an expired delegate or the last owner of a deactivated DID could sign a *new* credential
dated inside the key's old validity window. The chain's clock is the one thing such a signer cannot
set: the city anchors each issuance batch (the RFC 9162 Merkle root of the issued credentials'
digests, :mod:`kaga_vc.accesslog.merkle`) with the anchor contract, which stores the block's
timestamp: each batch is a log of its own (its id a hash of the issuer's DID and the root) holding one
tree head, the batch's size and root. A credential whose key the issuer's *current* DID document no longer accepts is accepted
only with an :class:`InclusionProof` into an anchor whose block time is not before the credential's
stated issuance and at which the DID document still accepted the key; otherwise
``kaga:key-no-longer-valid``.

Who sent the anchor does not matter: an anchor made after the revocation is refused for its time,
and before the revocation the key's holder could sign anyway. The proof travels alongside the
credential (a JSON file, ``verify --anchor-proof``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import KEY_NO_LONGER_VALID, MALFORMED_VALUE_ERROR, InputError
from ..results import Problem, VerificationResult
from .merkle import MerkleTree, leaf_hash, root_from_path

PROOF_FORMAT = 1


def issuance_identity(issuer_did: str) -> bytes:
    """The identity the anchor contract commits for an issuer's batches (distinct from any access log's)."""
    return hashlib.sha256(b"kaga-vc issuance " + issuer_did.encode("utf-8")).digest()


def issuance_log_id(issuer_did: str, root: bytes) -> bytes:
    """The anchor contract's log id of one issuance batch: one head per batch, so a batch is never refused
    for not growing another batch's tree."""
    return hashlib.sha256(issuance_identity(issuer_did) + root).digest()


def credential_digest(credential: str | dict[str, Any]) -> bytes:
    """SHA-256 of what the issuer signed: a JWT as it is, an SD-JWT's issuer-signed JWT (a holder
    presents some disclosures, never a different JWT), a JSON credential in sorted compact form."""
    if isinstance(credential, dict):
        data = json.dumps(credential, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    else:
        data = credential.strip().split("~", 1)[0].encode("ascii")
    return hashlib.sha256(data).digest()


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """One credential's place in one anchored issuance batch (RFC 9162 audit path)."""

    chain_id: int
    contract: str
    anchorer: str
    log_id: bytes
    root: bytes
    index: int
    size: int
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {"kagaIssuanceAnchor": PROOF_FORMAT, "chainId": self.chain_id, "contract": self.contract,
                "anchorer": self.anchorer, "logId": self.log_id.hex(), "root": self.root.hex(),
                "index": self.index, "size": self.size, "path": [p.hex() for p in self.path]}

    @classmethod
    def from_json(cls, data: Any) -> InclusionProof:
        try:
            if data["kagaIssuanceAnchor"] != PROOF_FORMAT:
                raise ValueError
            return cls(int(data["chainId"]), str(data["contract"]), str(data["anchorer"]),
                       bytes.fromhex(data["logId"]), bytes.fromhex(data["root"]), int(data["index"]),
                       int(data["size"]), tuple(bytes.fromhex(p) for p in data["path"]))
        except (KeyError, TypeError, ValueError):
            raise InputError(MALFORMED_VALUE_ERROR, "not a kaga-vc issuance anchor proof") from None


def anchor_issued(credentials: Sequence[str | dict[str, Any]], issuer_did: str, anchor: Any,
                  ) -> list[InclusionProof]:
    """Anchor one batch with ``anchor`` (a :class:`kaga_vc.registry.anchor.ChainAnchor`); a proof per credential."""
    if not credentials:
        raise InputError(MALFORMED_VALUE_ERROR, "an issuance batch needs at least one credential")
    tree = MerkleTree.from_leaves([credential_digest(c) for c in credentials])
    log_id = issuance_log_id(issuer_did, tree.root)
    receipt = anchor.anchor(log_id, issuance_identity(issuer_did), tree.size, tree.root)
    return [InclusionProof(receipt.chain_id, receipt.contract, receipt.anchorer, log_id, tree.root, i, tree.size,
                           tuple(tree.audit_path(i))) for i in range(tree.size)]


def anchored_at(credential: str | dict[str, Any], proof: InclusionProof, lookup: Callable[..., Any]) -> datetime | None:
    """The chain time of the anchor that includes ``credential``, or None (not included, not anchored).

    ``lookup(anchorer, log_id, contract=…)`` is :meth:`ChainAnchor.read_log` (the chain's record of the log).
    """
    root = root_from_path(leaf_hash(credential_digest(credential)), proof.index, proof.size, proof.path)
    if root is None or root != proof.root:
        return None
    record = lookup(proof.anchorer, proof.log_id, contract=proof.contract)
    head = next((h for h in record.heads if h.tree_size == proof.size and h.root == proof.root.hex()), None)
    if head is None:
        return None
    return datetime.fromtimestamp(head.timestamp, UTC)


def check_key_still_valid(
    credential: str | dict[str, Any],
    result: VerificationResult,
    *,
    verify_at: Callable[[datetime | None], VerificationResult],
    proof: InclusionProof | None = None,
    lookup: Callable[..., Any] | None = None,
) -> VerificationResult:
    """Refuse a verified credential whose key is no longer valid unless an anchor vouches for its time.

    ``verify_at(t)`` verifies the credential with its issuer's DID resolved at ``t`` (None: now).
    ``result`` is the verification at the credential's stated issuance time.
    """
    if not result.verified or verify_at(None).verified:
        return result  # refused anyway, or the key is valid today: nothing to prove
    when = anchored_at(credential, proof, lookup) if proof is not None and lookup is not None else None
    stated = result.valid_from
    if when is not None and (stated is None or stated <= when) and verify_at(when).verified:
        return dataclasses.replace(result, checks=(*result.checks, "issuanceAnchor"),
                                   details={**result.details, "anchoredAt": when.isoformat()})
    detail = ("signed with a key the issuer's DID no longer accepts, and "
              + ("no issuance anchor includes it" if when is None else
                 f"its anchor ({when.isoformat()}) is not from while the key was valid"))
    return dataclasses.replace(result, verified=False,
                               problems=(*result.problems, Problem(KEY_NO_LONGER_VALID, detail)))
