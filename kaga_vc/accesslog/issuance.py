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

The city's issuance records keep every issued credential's digest from its issuance transaction on
(:class:`kaga_vc.issuer.records.IssuanceStore`), and each anchored batch with its leaves:
:func:`anchor_pending` anchors what was issued and never anchored (``issue`` / ``issue batch`` call it
when they finish, ``city anchor --pending`` after a failure), :func:`proof_from_records` rebuilds any
credential's proof, and ``bundle sync`` lists the anchored digests of retired keys from them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..credentials import credential_digest, signing_method
from ..errors import KEY_NO_LONGER_VALID, MALFORMED_VALUE_ERROR, InputError, KagaError, RegistryError
from ..results import Problem, VerificationResult
from .merkle import MerkleTree, leaf_hash, root_from_path

if TYPE_CHECKING:  # the records (SQLAlchemy) load only where they are used, never on the verify path
    from ..issuer.records import IssuanceAnchor, IssuanceStore

PROOF_FORMAT = 1


def issuance_identity(issuer_did: str) -> bytes:
    """The identity the anchor contract commits for an issuer's batches (distinct from any access log's)."""
    return hashlib.sha256(b"kaga-vc issuance " + issuer_did.encode("utf-8")).digest()


def issuance_log_id(issuer_did: str, root: bytes) -> bytes:
    """The anchor contract's log id of one issuance batch: one head per batch, so a batch is never refused
    for not growing another batch's tree."""
    return hashlib.sha256(issuance_identity(issuer_did) + root).digest()


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


@dataclass(frozen=True, slots=True)
class AnchoredBatch:
    """One anchored issuance batch: the chain's record of it and a proof per credential, in leaf order."""

    anchor: IssuanceAnchor
    proofs: tuple[InclusionProof, ...]

    def to_json(self) -> dict[str, Any]:
        return {"anchored": True, **self.anchor.to_json()}


def _proofs(tree: MerkleTree, log_id: bytes, chain_id: int, contract: str, anchorer: str) -> tuple[InclusionProof, ...]:
    return tuple(InclusionProof(chain_id, contract, anchorer, log_id, tree.root, i, tree.size,
                                tuple(tree.audit_path(i))) for i in range(tree.size))


def anchor_digests(digests: Sequence[bytes], issuer_did: str, anchor: Any,
                   store: IssuanceStore | None = None) -> AnchoredBatch:
    """Anchor one batch of credential digests with ``anchor`` (a :class:`kaga_vc.registry.anchor.ChainAnchor`)
    and, with ``store``, record it and its leaves there.

    The same batch anchored again (a run cut off after its transaction, before its record) is not sent
    twice: the chain already holds that head, which is read back and recorded.
    """
    if not digests:
        raise InputError(MALFORMED_VALUE_ERROR, "an issuance batch needs at least one credential")
    tree = MerkleTree.from_leaves(list(digests))
    log_id = issuance_log_id(issuer_did, tree.root)
    head = None
    transaction = ""
    from ..registry.anchor import is_refused_head

    try:
        receipt = anchor.anchor(log_id, issuance_identity(issuer_did), tree.size, tree.root)
        anchorer, transaction = receipt.anchorer, receipt.transaction_hash
        head = anchor.head_at(anchorer, log_id, receipt.index)
    except RegistryError as error:
        if not is_refused_head(error):
            raise
        anchorer = anchor.anchorer
        heads = anchor.read_log(anchorer, log_id).heads
        head = next((h for h in heads if h.tree_size == tree.size and h.root == tree.root.hex()), None)
        if head is None:
            raise
    if head is None:
        raise InputError(MALFORMED_VALUE_ERROR, "the anchor contract does not show the head just anchored")
    from ..issuer.records import IssuanceAnchor

    record = IssuanceAnchor(tree.root.hex(), log_id.hex(), tree.size, anchor.chain_id, anchor.contract, anchorer,
                            transaction, head.block_number, datetime.fromtimestamp(head.timestamp, UTC))
    if store is not None:
        store.record_anchor(record, [d.hex() for d in digests])
    return AnchoredBatch(record, _proofs(tree, log_id, anchor.chain_id, anchor.contract, anchorer))


def anchor_issued(credentials: Sequence[str | dict[str, Any]], issuer_did: str, anchor: Any,
                  store: IssuanceStore | None = None) -> list[InclusionProof]:
    """Anchor one batch of credentials with ``anchor``; a proof per credential. With ``store`` (the
    issuance records) the batch is recorded, and so is each credential's digest if it was not yet."""
    if not credentials:
        raise InputError(MALFORMED_VALUE_ERROR, "an issuance batch needs at least one credential")
    digests = [credential_digest(c) for c in credentials]
    if store is not None:
        from ..issuer.batch import credential_id_of
        from ..issuer.records import IssuedDigest
        from ..verifier import issuance_of

        store.record_digests([IssuedDigest(d.hex(), _credential_id(c, credential_id_of), signing_method(c),
                                           issuance_of(c)[1]) for d, c in zip(digests, credentials, strict=True)])
    return list(anchor_digests(digests, issuer_did, anchor, store).proofs)


def _credential_id(credential: str | dict[str, Any], from_text: Callable[[str], str | None]) -> str | None:
    if isinstance(credential, dict):
        value = credential.get("id")
        return value if isinstance(value, str) else None
    return from_text(credential)


def anchor_pending(store: IssuanceStore, issuer_did: str, anchor: Any, *, limit: int | None = None,
                   lock_timeout: float = 30.0) -> AnchoredBatch | None:
    """Anchor, as one batch, every credential the records hold as issued and not yet anchored (at most
    ``limit``); None when there is none. Two runs exclude each other (the same digest is never
    anchored twice at once): the second waits up to ``lock_timeout`` seconds, then
    ``kaga:batch-in-progress``."""
    from ..issuer.records import ANCHOR_LOCK

    with store.batch_lock(ANCHOR_LOCK, timeout=lock_timeout):
        pending = store.pending_digests(limit=limit)
        if not pending:
            return None
        return anchor_digests([bytes.fromhex(p.digest) for p in pending], issuer_did, anchor, store)


def proof_from_records(store: IssuanceStore, credential: str | dict[str, Any] | bytes) -> InclusionProof | None:
    """The inclusion proof of a credential (or its digest) in its earliest recorded anchor; None if never anchored."""
    digest = credential if isinstance(credential, bytes) else credential_digest(credential)
    found = store.anchors_of(digest.hex())
    if not found:
        return None
    anchor, index = found[0]
    tree = MerkleTree.from_leaves([bytes.fromhex(d) for d in store.anchor_leaves(anchor.root)])
    return InclusionProof(anchor.chain_id, anchor.contract, anchor.anchorer, bytes.fromhex(anchor.log_id), tree.root,
                          index, tree.size, tuple(tree.audit_path(index)))


def anchor_failure(error: BaseException) -> dict[str, Any]:
    """How a failed anchoring is reported (the credentials stay issued: ``city anchor --pending`` anchors them)."""
    code = error.code if isinstance(error, KagaError) else type(error).__name__
    detail = error.detail if isinstance(error, KagaError) else str(error)
    return {"anchored": False, "code": code, "detail": detail,
            "next": "the credentials are issued and recorded as pending: run `kaga-vc city anchor --pending`"}


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
