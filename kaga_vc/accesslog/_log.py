"""The access log: append entries signed by the log's key and hash-chained; anchor signed tree heads on chain;
verify the log against the heads the chain holds; serve subject access."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Self

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..did import DIDURL, KeyMethod, Resolver
from ..errors import (
    ANCHOR_MISMATCH,
    ANCHOR_NOT_FOUND,
    ANCHOR_RECORD_MISSING,
    CHALLENGE_EXPIRED,
    CHALLENGE_INVALID,
    CHALLENGE_REPLAYED,
    LOG_IDENTITY_MISMATCH,
    LOG_KEY_MISMATCH,
    LOG_REWRITTEN,
    LOG_SIGNER_MISMATCH,
    LOG_TAMPERED,
    LOG_TRUNCATED,
    LOG_UNAVAILABLE,
    LOG_VERIFIER_MISMATCH,
    MALFORMED_VALUE_ERROR,
    NONCE_REPLAYED,
    NOTHING_TO_ANCHOR,
    AccessLogError,
    InputError,
    KagaError,
    ProofError,
)
from ..keys import KeyType, PrivateKey, Signer
from . import _store as st
from ._entry import (
    GENESIS,
    AccessEntry,
    RecordedEntry,
    build_body,
    canonical,
    iso_seconds,
    parse_record,
    record_hash,
    seal_record,
    signed_parts,
)
from ._identity import LogIdentity, log_signer
from ._policy import AnchorPolicy
from ._proof import Anchorer, InclusionProof, check_inclusion
from ._sealing import Job, seal_group
from ._subject import (
    CHALLENGE_TYP,
    decrypt_subject_data,
    encrypt_subject_data,
    encryption_key,
    key_check,
    subject_index,
    subject_payload,
)
from .merkle import MerkleTree, consistency_proof, leaf_hash, verify_consistency

JSONObject = dict[str, Any]
FindingKind = Literal["edited", "deleted", "reordered", "inserted", "forged", "verifier", "anchor", "truncated",
                      "rewritten", "identity"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing ``verify`` found wrong: its kind, the entry (seq) concerned, a sentence, a code."""

    kind: FindingKind
    seq: int | None
    detail: str
    code: str = LOG_TAMPERED

    def to_json(self) -> JSONObject:
        return {"kind": self.kind, "seq": self.seq, "detail": self.detail, "code": self.code}


@dataclass(frozen=True, slots=True)
class LogReport:
    """The outcome of :meth:`AccessLog.verify`."""

    entries: int
    anchored: int
    batches: int
    findings: tuple[Finding, ...]
    on_chain_checked: bool

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> JSONObject:
        return {"verified": self.ok, "entries": self.entries, "anchoredEntries": self.anchored,
                "batches": self.batches, "onChainChecked": self.on_chain_checked,
                "findings": [f.to_json() for f in self.findings]}


@dataclass(frozen=True, slots=True)
class AnchorBatch:
    """One signed tree head this log anchored: the tree of its first ``tree_size`` entries, its root, its
    place (``index``) in the log's heads on chain, and its transaction. ``first_seq``/``size``: the entries
    this head added to the previous one."""

    first_seq: int
    size: int
    root: str
    chain_id: int
    contract: str
    anchorer: str
    transaction_hash: str
    block_number: int
    gas_used: int
    index: int = 0

    @property
    def tree_size(self) -> int:
        return self.first_seq + self.size

    def to_json(self) -> JSONObject:
        return {"index": self.index, "treeSize": self.tree_size, "firstSeq": self.first_seq, "size": self.size,
                "root": self.root, "chainId": self.chain_id, "contract": self.contract, "anchorer": self.anchorer,
                "transactionHash": self.transaction_hash, "blockNumber": self.block_number, "gasUsed": self.gas_used}


@dataclass(frozen=True, slots=True)
class Challenge:
    """What a subject signs to read their history: a one-time nonce for this log, valid until ``expires``."""

    nonce: str
    audience: str
    expires: datetime

    def to_json(self) -> JSONObject:
        return {"nonce": self.nonce, "audience": self.audience, "expires": int(self.expires.timestamp())}

    @classmethod
    def from_json(cls, data: Any) -> Challenge:
        try:
            return cls(str(data["nonce"]), str(data["audience"]), datetime.fromtimestamp(int(data["expires"]), UTC))
        except (KeyError, TypeError, ValueError, OverflowError):
            raise InputError(MALFORMED_VALUE_ERROR, "not an access-history challenge") from None


@dataclass(frozen=True, slots=True)
class SubjectEntry:
    """One of a subject's entries as the log hands it out: the record and, once anchored, its proof."""

    entry: RecordedEntry
    proof: InclusionProof | None

    def to_json(self) -> JSONObject:
        return {**self.entry.to_json(), "proof": self.proof.to_json() if self.proof else None}


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """A subject's entry read with their key: what was disclosed to whom, when, and whether it is proven."""

    seq: int
    time: str
    verifier: str
    purpose: str
    result: str
    reason: str | None
    credential_types: tuple[str, ...]
    claims: tuple[str, ...]
    location: str | None
    service: str | None
    verifier_category: str | None
    proven: bool  # the inclusion proof leads to the batch root
    anchor_block: int | None  # the block the root was found in on chain (None: not checked or not anchored)
    verifier_name: str | None = None  # the name the verifier's request gave (a shop's)
    problem: str | None = None  # why the entry is not genuine (kaga:log-signer-mismatch), None when it is

    def to_json(self) -> JSONObject:
        return {"problem": self.problem, "seq": self.seq, "time": self.time, "verifier": self.verifier, "verifierName": self.verifier_name,
                "location": self.location,
                "service": self.service, "verifierCategory": self.verifier_category, "purpose": self.purpose,
                "credentialTypes": list(self.credential_types), "claims": list(self.claims), "result": self.result,
                "reason": self.reason, "proven": self.proven, "anchorBlock": self.anchor_block}


class _Keys:
    """A per-call cache of the verifiers' public keys (resolution is the expensive part of verification)."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.cache: dict[str, Any] = {}

    def check(self, record: JSONObject) -> str | None:
        """None if the record's signature holds, else the error code."""
        try:
            body, method_id, signature = signed_parts(record)
            key = self.cache.get(method_id)
            if key is None:
                method, _ = self.resolver.dereference_verification_method(method_id, relationship="assertionMethod")
                key = self.cache[method_id] = method.public_key()
            key.verify(signature, canonical(body))
            return None
        except KagaError as exc:
            return exc.code


def default_resolver() -> Resolver:
    """did:key only (pure, offline); pass a resolver with ``ethr`` for did:ethr verifiers and subjects."""
    return Resolver({"key": KeyMethod()})


class AccessLog:
    """One access log in a database (SQLite file or PostgreSQL), with the key of its subject index.

    Entries are signed by the log's own Ed25519 key, derived from ``log_key`` (:func:`log_signer`); the
    log's identity (:meth:`identity`: its id, verifier, key) is fixed by its first entry and committed on
    chain with its first tree head. ``signer`` is the default verifier key (it must be a key of the entry's
    verifier); ``resolver`` resolves subjects (encryption keys, access challenges) and the verifiers of
    entries written before the log had its own key. Without ``log_key`` the log opens for reading,
    verifying, anchoring and exporting only: recording and subject access need it.
    """

    def __init__(self, engine: Any, *, log_key: bytes | None, resolver: Resolver | None = None,
                 signer: Signer | None = None) -> None:
        if log_key is not None and (not isinstance(log_key, bytes) or len(log_key) < 16):
            raise InputError(MALFORMED_VALUE_ERROR, "the log key is at least 16 random bytes")
        self.engine = engine
        self._log_key = log_key
        self.resolver = resolver or default_resolver()
        self.signer = signer
        self._log_signer = log_signer(log_key) if log_key is not None else None
        self.log_id = self._init_meta_retrying()
        self._anchoring: tuple[Anchorer, AnchorPolicy] | None = None
        self._indexes: dict[str, str] = {}  # subject DID -> keyed index (an HMAC under the log key)
        self.anchor_error: KagaError | None = None  # the last failure of anchoring after an append

    def __repr__(self) -> str:
        return f"AccessLog({self.engine.url.render_as_string(hide_password=True)!r}, log_id={self.log_id!r})"

    @classmethod
    def open(cls, target: str | None = None, *, log_key: bytes | None, home: str | None = None,
             resolver: Resolver | None = None, signer: Signer | None = None) -> AccessLog:
        """Open (creating if needed) the log at a URL or path (see :func:`kaga_vc.accesslog.log_url`)."""
        return cls(st.open_engine(st.log_url(target, home=home)), log_key=log_key, resolver=resolver, signer=signer)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- setup --------------------------------------------------------------------------------------

    @property
    def _key(self) -> bytes:
        if self._log_key is None:
            raise AccessLogError(LOG_KEY_MISMATCH, "this operation needs the log key (the subject index key)")
        return self._log_key

    def _init_meta_retrying(self) -> str:
        """:meth:`_init_meta`, again when SQLite answered "database is locked" without waiting: two first opens
        that switch a new file to WAL at once, or a read turned write after another process wrote."""
        for attempt in range(20):
            try:
                return self._init_meta()
            except AccessLogError as exc:
                if exc.code != LOG_UNAVAILABLE or "locked" not in exc.detail or attempt == 19:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("not reached")

    def _init_meta(self) -> str:
        check = key_check(self._log_key) if self._log_key is not None else None
        signing = self._log_signer.key_id if self._log_signer is not None else None
        try:
            with self.engine.begin() as conn:
                if signing is not None:  # it may write: the write lock first (SQLite would refuse a read turned write)
                    conn.execute(update(st.log_meta).where(st.log_meta.c.name == "log_id")
                                 .values(value=st.log_meta.c.value))
                rows = dict(conn.execute(select(st.log_meta.c.name, st.log_meta.c.value)).all())
                if "log_id" not in rows:
                    if check is None or signing is None:
                        raise AccessLogError(LOG_UNAVAILABLE, "there is no access log here yet")
                    log_id = secrets.token_hex(32)
                    try:
                        conn.execute(st.log_meta.insert(), [{"name": "log_id", "value": log_id},
                                                            {"name": "key_check", "value": check},
                                                            {"name": "log_key", "value": signing},
                                                            {"name": "since", "value": "0"}])
                        conn.execute(st.log_head.insert().values(id=1, seq=0, hash=GENESIS))
                    except IntegrityError:  # another process created it first
                        conn.rollback()
                        return self._init_meta()
                    self._meta = {"log_id": log_id, "log_key": signing, "since": "0"}
                    return log_id
                if check is not None and rows.get("key_check") != check:
                    raise AccessLogError(LOG_KEY_MISMATCH, "this log key is not the key this log was created with")
                if "log_key" not in rows and signing is not None:
                    # a log made before it had its own key: the key signs from the next entry on — unless
                    # it signed entries already (the rows were deleted): then from the first of those
                    head = conn.execute(select(st.log_head.c.seq).where(st.log_head.c.id == 1)).scalar_one()
                    since = _first_signed_by(conn, signing, int(head))
                    try:
                        conn.execute(st.log_meta.insert(), [{"name": "log_key", "value": signing},
                                                            {"name": "since", "value": str(since)}])
                    except IntegrityError:
                        conn.rollback()
                        return self._init_meta()
                    rows.update(log_key=signing, since=str(since))
        except SQLAlchemyError as exc:
            raise AccessLogError(LOG_UNAVAILABLE, f"cannot open the access log: {st._describe(exc)}") from None
        if signing is not None and rows.get("log_key") != signing:
            raise AccessLogError(LOG_KEY_MISMATCH, "this log key is not the key this log signs with")
        self._meta = {k: str(v) for k, v in rows.items() if k != "key_check"}
        return str(rows["log_id"])

    def _read_meta(self) -> dict[str, str]:
        with self._read() as conn:
            rows = dict(conn.execute(select(st.log_meta.c.name, st.log_meta.c.value)).all())
        return {str(k): str(v) for k, v in rows.items() if k != "key_check"}

    def identity(self) -> LogIdentity | None:
        """The log's identity as this database holds it; None before the log's first signed entry.

        ``log verify`` compares it with the identity the chain committed with the first tree head.
        """
        meta = self._read_meta()
        if not meta.get("verifier") or not meta.get("log_key"):
            return None
        try:
            return LogIdentity(self.log_id, meta["verifier"], meta["log_key"], int(meta.get("since", "0")))
        except ValueError:
            return None

    def _signing_identity(self, meta: dict[str, str]) -> LogIdentity | None:
        """The key entries must be signed with, and from which entry on (the verifier may be unknown yet)."""
        if not meta.get("log_key"):
            return None
        try:
            since = int(meta.get("since", "0"))
        except ValueError:
            since = 0
        return LogIdentity(self.log_id, meta.get("verifier") or "", meta["log_key"], since)

    # --- append -------------------------------------------------------------------------------------

    def record(self, entry: AccessEntry, *, signer: Signer | None = None, now: datetime | None = None) -> RecordedEntry:
        """Append ``entry``, signed by the log's key, chained to the previous entry (``signer``, the verifier's
        key, if given, must be a key of ``entry.verifier``).

        Durable when it returns. The subject DID and claim names are encrypted to the subject's key and
        indexed under the keyed HMAC; the plain DID is never stored. A subject with no key to encrypt to
        is indexed all the same, and the claim names of that entry are dropped rather than kept in clear.
        Raises :class:`InputError` if the signer is not a key of ``entry.verifier``, :class:`AccessLogError`
        ``kaga:log-verifier-mismatch`` if ``entry.verifier`` is not the log's verifier (its identity's: a log
        is one verifier's, fixed by its first entry; nothing is written), ``kaga:log-unavailable`` if the
        database is unavailable.
        """
        return self.record_many([entry], signer=signer, now=now)[0]

    def record_many(self, entries: list[AccessEntry], *, signer: Signer | None = None,
                    now: datetime | None = None) -> list[RecordedEntry]:
        """Append several entries in one transaction (all durable, or none, when it returns).

        The stored records are those :meth:`record` would write one by one, byte for byte: each entry is
        sealed to its subject, signed by the log's key and chained to the one before it. Sealing starts
        before the transaction (a large group's on a worker thread, taken in order as the entries are
        signed: :mod:`._sealing`); inside it, one statement reads the head under the append lock, each body is canonicalised once (its signed bytes are the record's: :func:`seal_record`),
        and the rows go to the driver in one statement."""
        signer = signer or self.signer
        log_key = self._log_signer
        if log_key is None:
            raise AccessLogError(LOG_KEY_MISMATCH, "recording needs the log key (it signs the entries)")
        known = self._meta.get("verifier")
        if known:  # refused before sealing; the transaction checks again against the stored identity
            _refuse_other_verifiers(entries, known)
        sealed = self._seal_all(entries, signer)
        moment = now or datetime.now(UTC)
        stamp = iso_seconds(moment)
        method = log_key.key_id
        out: list[RecordedEntry] = []
        owner: str | None = known
        try:
            with self.engine.begin() as conn:
                # the write first: SQLite's write lock / PostgreSQL's row lock, before reading the head
                seq, previous, owner = st.lock_head(conn)
                if entries:
                    if owner is None:
                        # the log's identity is complete with its first signed entry: the verifier whose log it is
                        owner = entries[0].verifier
                        conn.execute(st.log_meta.insert().values(name="verifier", value=owner))
                    _refuse_other_verifiers(entries, owner)  # rolls back: nothing of the batch is written
                rows = []
                for entry, (index, data) in zip(entries, sealed, strict=True):
                    body = build_body(entry, log_id=self.log_id, seq=seq, previous=previous, now=moment,
                                      subject_index=index, subject_data=data, verification_method=method,
                                      now_text=stamp)
                    record, text, digest = seal_record(body, log_key)
                    rows.append((seq, digest, index, text))
                    out.append(RecordedEntry(seq, digest, record))
                    seq, previous = seq + 1, digest
                st.append_entries(conn, rows, [e.nonce_digest for e in entries], (seq, previous))
        except st.NonceLogged:
            raise ProofError(NONCE_REPLAYED, "the access log already holds an entry for this request's nonce: "
                                             "a replayed (or retried) presentation") from None
        except SQLAlchemyError as exc:
            raise AccessLogError(LOG_UNAVAILABLE, f"cannot append to the access log: {st._describe(exc)}") from None
        if owner:
            self._meta["verifier"] = str(owner)  # committed: later appends are refused before sealing
        if self._anchoring is not None:
            # the entries are durable already: a failed anchor must not read as a failed append
            try:
                self.anchor_if_due(*self._anchoring, now=moment)
                self.anchor_error = None
            except KagaError as exc:
                self.anchor_error = exc
        return out

    # --- anchoring policy ---------------------------------------------------------------------------

    def set_anchoring(self, anchorer: Anchorer | None, policy: AnchorPolicy | None = None) -> None:
        """Anchor after each append when ``policy`` says so (None: stop). A failure does not fail the
        append: it is kept in :attr:`anchor_error` and the next append tries again."""
        if anchorer is None or policy is None:
            self._anchoring = None
            return
        self._anchoring = (anchorer, policy)

    def unanchored(self) -> tuple[int, datetime | None]:
        """(number of entries not yet anchored, the time recorded in the oldest of them)."""
        first = max((b.tree_size for b in self.batches()), default=0)
        end, _ = self.head()
        if end <= first:
            return 0, None
        oldest = next(self.entries(first, first + 1), None)
        stamp = oldest.body.get("time") if oldest is not None else None
        try:
            moment = datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if stamp else None
        except ValueError:
            moment = None
        return end - first, moment

    def anchor_if_due(self, anchorer: Anchorer, policy: AnchorPolicy, *, now: datetime | None = None) -> AnchorBatch | None:
        """Anchor the unanchored entries if ``policy`` says it is time; the batch, or None."""
        count, oldest = self.unanchored()
        if not policy.due(count, oldest, now):
            return None
        return self.anchor(anchorer)

    def _seal_all(self, entries: list[AccessEntry], signer: Signer | None) -> Iterator[tuple[str | None, str | None]]:
        """(keyed index, JWE of the subject data) of each entry, in order; checks the signer (if any) is the
        verifier's. The tokens of a large group are sealed on worker threads (:mod:`._sealing`) while the
        caller goes on: the iterator waits for each in turn."""
        if signer is not None:
            did = str(DIDURL.parse(signer.key_id).did)
            if any(entry.verifier != did for entry in entries):
                raise InputError(MALFORMED_VALUE_ERROR, "the signer's key does not belong to the entry's verifier")
        indexes = [None if e.subject is None else self._subject_index(e.subject) for e in entries]
        jobs = [self._job(entry) for entry in entries]
        return zip(indexes, seal_group(jobs), strict=True)

    def _job(self, entry: AccessEntry) -> Job:
        """What sealing an entry's subject data takes: (payload, X25519 key), or the token made here (another
        curve's), or None — no subject, or one without a usable key agreement key (or an unresolvable one):
        the entry is still recorded under the keyed index, without the sealed part; the claim names are not
        kept at all."""
        if entry.subject is None:
            return None
        data = {"subject": entry.subject, "claims": list(entry.claims)}
        try:
            recipient = encryption_key(entry.subject, self.resolver)
            if recipient.key_type is KeyType.X25519:
                return subject_payload(data), recipient.raw
            return encrypt_subject_data(data, recipient)
        except KagaError:
            return None

    def _subject_index(self, did: str) -> str:
        """:func:`subject_index` under the log key, remembered for the last few thousand subjects."""
        cache = self._indexes
        index = cache.get(did)
        if index is None:
            if len(cache) >= 4096:
                cache.clear()
            index = cache[did] = subject_index(self._key, did)
        return index

    # --- read ---------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.head()[0]

    def head(self) -> tuple[int, str]:
        """(number of entries appended, hash of the last record)."""
        with self._read() as conn:
            seq, digest = conn.execute(select(st.log_head.c.seq, st.log_head.c.hash).where(st.log_head.c.id == 1)).one()
        return int(seq), str(digest)

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[RecordedEntry]:
        """Stored records from ``start`` to ``end`` (exclusive), in order, as they are (unverified)."""
        query = select(st.entries.c.seq, st.entries.c.hash, st.entries.c.record).where(st.entries.c.seq >= start)
        if end is not None:
            query = query.where(st.entries.c.seq < end)
        with self._read() as conn:
            for seq, digest, text in conn.execute(query.order_by(st.entries.c.seq)):
                yield RecordedEntry(int(seq), str(digest), parse_record(text))

    def _leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes of the stored records in [start, end): the stored text is the record's JCS form
        (``verify`` recanonicalises and catches any stored text that is not)."""
        query = (select(st.entries.c.record).where(st.entries.c.seq >= start).where(st.entries.c.seq < end)
                 .order_by(st.entries.c.seq))
        with self._read() as conn:
            return [leaf_hash(text.encode("utf-8")) for (text,) in conn.execute(query)]

    def _read(self) -> Connection:
        try:
            connection: Connection = self.engine.connect()
            return connection
        except SQLAlchemyError as exc:
            raise AccessLogError(LOG_UNAVAILABLE, f"cannot read the access log: {st._describe(exc)}") from None

    def batches(self) -> list[AnchorBatch]:
        """The tree heads this log anchored, as its ``tree_heads`` table records them (the chain holds the
        authoritative copy: :meth:`verify` reads it there)."""
        with self._read() as conn:
            rows = conn.execute(select(st.tree_heads).order_by(st.tree_heads.c.tree_size)).all()
        out, previous = [], 0
        for r in rows:
            size = int(r.tree_size)
            out.append(AnchorBatch(previous, size - previous, r.root, int(r.chain_id), r.contract, r.anchorer,
                                   r.transaction_hash, int(r.block_number), int(r.gas_used), int(r.head_index)))
            previous = size
        return out

    def legacy_batches(self) -> list[AnchorBatch]:
        """Batches anchored on the first anchor contract (before issue 12), each with its own root."""
        with self._read() as conn:
            rows = conn.execute(select(st.anchors).order_by(st.anchors.c.first_seq)).all()
        return [AnchorBatch(int(r.first_seq), int(r.size), r.root, int(r.chain_id), r.contract, r.anchorer,
                            r.transaction_hash, int(r.block_number), int(r.gas_used)) for r in rows]

    # --- verify -------------------------------------------------------------------------------------

    def verify(self, *, anchorer: Anchorer | None = None, account: str | None = None) -> LogReport:
        """Check every stored record, the hash chain, the head, and the tree heads — the chain's, given an
        anchorer (a chain to read), else only those the ``tree_heads`` table records.

        Reports, by entry, what was **edited** (a record whose signature or hash no longer holds, or
        that the next entry does not commit to), **deleted** (a sequence number missing, at the end
        too when the head counts more entries), **reordered** (records out of their order),
        **inserted** (a record that claims a place another genuine record holds, or that is forged
        where no entry may be), **forged** (not signed by the log's key: ``kaga:log-signer-mismatch``).
        Against the chain's heads for this log (``account``: the operator's anchoring account, default
        the one this database recorded, else the anchorer's): **truncated** (a head covers entries the
        log no longer holds, ``kaga:log-truncated``), **rewritten** (the entries are not those a head
        anchored, or a head does not extend the one before it — RFC 9162 consistency —,
        ``kaga:log-rewritten``), **identity** (the chain committed another identity,
        ``kaga:log-identity-mismatch``), **anchor** (a head on chain the anchors table lost,
        ``kaga:anchor-record-missing``; a recorded head the chain does not hold, ``kaga:anchor-not-found``).
        """
        keys = _Keys(self.resolver)
        meta = self._read_meta()
        signing = self._signing_identity(meta)
        problems: dict[int, str] = {}  # col seq -> why its signature is not the log's
        rows: list[tuple[int, int | None, JSONObject | None, str, bool]] = []  # col seq, body seq, record, hash, intact
        findings: list[Finding] = []
        with self._read() as conn:
            head_seq, head_hash = conn.execute(select(st.log_head.c.seq, st.log_head.c.hash)
                                               .where(st.log_head.c.id == 1)).one()
            for col_seq, stored_hash, text in conn.execute(select(st.entries.c.seq, st.entries.c.hash,
                                                                  st.entries.c.record).order_by(st.entries.c.seq)):
                try:
                    record = parse_record(text)
                except AccessLogError:
                    rows.append((int(col_seq), None, None, "", False))
                    continue
                body = record.get("entry")
                body_seq = body.get("seq") if isinstance(body, dict) else None
                body_seq = body_seq if isinstance(body_seq, int) and not isinstance(body_seq, bool) else None
                digest = record_hash(record)
                intact = digest == stored_hash and isinstance(body, dict) and body.get("log") == self.log_id
                if signing is not None and isinstance(body, dict) and body.get("log") == self.log_id and \
                        signing.verifier_problem(record) is not None:
                    findings.append(Finding("verifier", body_seq if body_seq is not None else int(col_seq),
                                            f"entry {body_seq} names the verifier {body.get('verifier')!s:.80}, the "
                                            f"log is {signing.verifier}'s", LOG_VERIFIER_MISMATCH))
                if intact:
                    if signing is not None and (body_seq is None or body_seq >= signing.since):
                        problem = signing.signature_problem(record)
                    else:
                        problem = keys.check(record)
                    if problem is not None:
                        intact = False
                        problems[int(col_seq)] = problem
                rows.append((int(col_seq), body_seq, record, digest, intact))

        # 1. one representative per claimed seq; the others were inserted
        reps: dict[int, tuple[int, JSONObject, str, bool]] = {}
        unreadable = set()
        for col_seq, body_seq, maybe_record, digest, intact in rows:
            if body_seq is None or maybe_record is None:
                unreadable.add(col_seq)
                findings.append(Finding("edited", col_seq, f"the record stored as entry {col_seq} is unreadable"))
                continue
            current = reps.get(body_seq)
            if current is None:
                reps[body_seq] = (col_seq, maybe_record, digest, intact)
                continue
            better = intact and (not current[3] or (col_seq == body_seq and current[0] != body_seq))
            loser = current if better else (col_seq, maybe_record, digest, intact)
            if better:
                reps[body_seq] = (col_seq, maybe_record, digest, intact)
            findings.append(Finding("inserted", body_seq, f"a second record claims to be entry {body_seq} "
                                    f"(stored at position {loser[0]})"))
        # 2. a damaged representative: edited where it belongs, inserted elsewhere
        for body_seq, (col_seq, _record, _digest, intact) in sorted(reps.items()):
            if not intact:
                if problems.get(col_seq) == LOG_SIGNER_MISMATCH:
                    findings.append(Finding("forged", body_seq, f"entry {body_seq} is not signed by the log's key "
                                            f"({signing.key if signing else 'none recorded'})", LOG_SIGNER_MISMATCH))
                elif col_seq == body_seq and body_seq < int(head_seq):
                    findings.append(Finding("edited", body_seq, f"entry {body_seq} does not match its signature "
                                            "or stored hash"))
                else:
                    findings.append(Finding("inserted", body_seq, f"a record that is not a signed entry of this log "
                                            f"claims to be entry {body_seq}"))
        # 3. order: the records outside the longest run stored in increasing order were moved
        placed = [body_seq for col_seq, body_seq, _r, _d, _i in rows
                  if body_seq is not None and reps.get(body_seq, (None,))[0] == col_seq]
        in_order = _longest_increasing(placed)
        for body_seq in placed:
            if body_seq not in in_order:
                findings.append(Finding("reordered", body_seq, f"entry {body_seq} is stored out of its order"))
        # 4. gaps, and entries the head or the anchors counted that are gone
        anchored_end = 0
        batches = self.batches()
        legacy = self.legacy_batches()
        for batch in (*legacy, *batches):
            anchored_end = max(anchored_end, batch.first_seq + batch.size)
        expected = max([int(head_seq), anchored_end, *(s + 1 for s in reps)], default=0)
        missing = [s for s in range(expected) if s not in reps and s not in unreadable]
        for run_start, run_end in _runs(missing):
            where = f"entries {run_start}-{run_end}" if run_end > run_start else f"entry {run_start}"
            findings.append(Finding("deleted", run_start, f"{where} deleted"))
        # 5. links: each entry commits to the hash of the one before it
        flagged = {(f.kind, f.seq) for f in findings}
        for s in sorted(reps):
            _col, record, _digest, intact = reps[s]
            previous = record["entry"].get("previous")
            if s == 0:
                want: str | None = GENESIS
            elif s - 1 in reps:
                want = reps[s - 1][2]
            else:
                continue
            if previous != want and intact and reps.get(s - 1, (0, {}, "", True))[3] and \
                    ("edited", s - 1) not in flagged:
                findings.append(Finding("edited", s - 1 if s else 0,
                                        f"entry {s} commits to another entry {s - 1} than the one stored"))
        if int(head_seq) - 1 in reps and reps[int(head_seq) - 1][2] != head_hash and \
                ("edited", int(head_seq) - 1) not in flagged:
            findings.append(Finding("edited", int(head_seq) - 1, "the last entry is not the one the head records"))
        # 6. legacy batches (the first anchor contract): their own roots, recomputed
        for batch in legacy:
            span = range(batch.first_seq, batch.first_seq + batch.size)
            if any(s not in reps for s in span):
                continue  # the deletion is reported above
            root = MerkleTree([leaf_hash(canonical(reps[s][1])) for s in span]).root.hex()
            if root != batch.root:
                findings.append(Finding("anchor", batch.first_seq, f"batch {batch.first_seq}-{span[-1]} no longer "
                                        "has the root that was anchored", ANCHOR_MISMATCH))
        # 7. tree heads: the log's tree as stored (up to the first missing entry) against each head
        leaves: list[bytes] = []
        for s in range(expected):
            if s not in reps:
                break
            leaves.append(leaf_hash(canonical(reps[s][1])))
        held = max(reps, default=-1) + 1
        for batch in batches:  # the heads the anchors table records, checked locally
            if batch.tree_size <= len(leaves) and MerkleTree(leaves[:batch.tree_size]).root.hex() != batch.root:
                findings.append(Finding("anchor", batch.tree_size - 1, f"the first {batch.tree_size} entries no "
                                        f"longer have the root of tree head {batch.index}", ANCHOR_MISMATCH))
        anchored = max((b.tree_size for b in batches), default=0)
        if anchorer is not None:
            anchored = self._verify_chain(anchorer, account, meta, batches, leaves, held, findings)
        findings.sort(key=lambda f: (f.seq if f.seq is not None else -1, f.kind))
        return LogReport(len(rows), anchored, len(batches), tuple(_unique(findings)), anchorer is not None)

    def _verify_chain(self, anchorer: Anchorer, account: str | None, meta: dict[str, str], batches: list[AnchorBatch],
                      leaves: list[bytes], held: int, findings: list[Finding]) -> int:
        """Check the log against the tree heads the chain holds for it; the number of entries they prove."""
        same_chain = meta.get("anchor_chain_id") == str(anchorer.chain_id)
        who = account or (meta.get("anchor_account") if same_chain else None) or anchorer.anchorer
        contract = (meta.get("anchor_contract") if same_chain else None) or anchorer.contract
        on_chain = anchorer.read_log(who, bytes.fromhex(self.log_id), contract=contract)
        heads = list(on_chain.heads)
        identity = self.identity()
        if heads and (identity is None or on_chain.identity != identity.digest.hex()):
            findings.append(Finding("identity", None, "the chain committed another identity for this log (its "
                                    "verifier, key or first signed entry) than the one stored here",
                                    LOG_IDENTITY_MISMATCH))
        proven, previous = 0, None
        for head in heads:
            where = f"tree head {head.index} (block {head.block_number}, {head.tree_size} entries)"
            if head.tree_size > held:
                findings.append(Finding("truncated", held, f"{where} is on chain, the log holds {held} entries: "
                                        f"entries {held}-{head.tree_size - 1} were removed", LOG_TRUNCATED))
            elif head.tree_size <= len(leaves):
                tree = leaves[:head.tree_size]
                if MerkleTree(tree).root.hex() != head.root:
                    findings.append(Finding("rewritten", head.tree_size - 1, f"the log's first {head.tree_size} "
                                            f"entries are not the ones anchored in {where}", LOG_REWRITTEN))
                else:
                    proven = max(proven, head.tree_size)
                if previous is not None and not verify_consistency(
                        previous.tree_size, head.tree_size, bytes.fromhex(previous.root), bytes.fromhex(head.root),
                        consistency_proof(tree, previous.tree_size)):
                    findings.append(Finding("rewritten", previous.tree_size, f"{where} does not extend tree head "
                                            f"{previous.index} (block {previous.block_number}): the history anchored "
                                            "there was rewritten and anchored again", LOG_REWRITTEN))
            previous = head
        recorded = {b.tree_size: b for b in batches}
        for head in heads:
            local = recorded.pop(head.tree_size, None)
            if local is None:
                findings.append(Finding("anchor", head.tree_size - 1, f"tree head {head.index} (block "
                                        f"{head.block_number}) is on chain but missing from the anchors table",
                                        ANCHOR_RECORD_MISSING))
            elif local.root != head.root:
                findings.append(Finding("anchor", head.tree_size - 1, f"the anchors table records another root for "
                                        f"tree head {head.index} than the chain", ANCHOR_MISMATCH))
        for local in recorded.values():
            findings.append(Finding("anchor", local.tree_size - 1, f"tree head {local.index} recorded here is not on "
                                    f"chain {anchorer.chain_id} for {who}", ANCHOR_NOT_FOUND))
        return proven

    # --- anchor -------------------------------------------------------------------------------------

    def anchor(self, anchorer: Anchorer, *, max_batch: int | None = None) -> AnchorBatch:
        """Anchor the signed tree head of the whole log (its size and RFC 9162 root) in one transaction.

        The first head commits the log's identity; the contract refuses a head that does not grow the
        tree. ``max_batch`` caps how many new entries the head adds. Raises :class:`AccessLogError`
        ``kaga:nothing-to-anchor`` when every entry is anchored. Safe to repeat after a crash: a head
        already on chain is recorded, not sent again.
        """
        if max_batch is not None and max_batch < 1:
            raise InputError(MALFORMED_VALUE_ERROR, "a batch holds at least one entry")
        identity = self.identity()
        if identity is None:
            raise AccessLogError(NOTHING_TO_ANCHOR, "the log has no entry signed by its own key yet")
        batches = self.batches()
        first = max((b.tree_size for b in batches), default=0)
        end, _ = self.head()
        if max_batch is not None:
            end = min(end, first + max_batch)
        if end <= first:
            raise AccessLogError(NOTHING_TO_ANCHOR, "every entry is anchored already")
        leaves = self._leaf_hashes(0, end)
        if len(leaves) != end:
            raise AccessLogError(LOG_TAMPERED, "entries are missing from the log to anchor: run verify")
        for recorded in self.entries(max(first, identity.since), end):  # never commit an entry the log did not sign
            if identity.signature_problem(recorded.record) is not None:
                raise AccessLogError(LOG_SIGNER_MISMATCH, f"entry {recorded.seq} is not signed by the log's key: "
                                     "run verify")
            if identity.verifier_problem(recorded.record) is not None:
                raise AccessLogError(LOG_VERIFIER_MISMATCH, f"entry {recorded.seq} names another verifier than the "
                                     "log's: run verify")
        root = MerkleTree(leaves).root
        log_id = bytes.fromhex(self.log_id)
        on_chain = anchorer.read_log(anchorer.anchorer, log_id)
        found = next((h for h in on_chain.heads if h.tree_size == end and h.root == root.hex()), None)
        if found is not None:
            index, tx_hash, block, gas = int(found.index), "", int(found.block_number), 0
        else:
            receipt = anchorer.anchor(log_id, identity.digest, end, root)
            index, tx_hash, block, gas = (int(receipt.index), receipt.transaction_hash, int(receipt.block_number),
                                          int(receipt.gas_used))
        batch = AnchorBatch(first, end - first, root.hex(), anchorer.chain_id, anchorer.contract,
                            anchorer.anchorer, tx_hash, block, gas, index)
        try:
            with self.engine.begin() as conn:
                conn.execute(st.tree_heads.insert().values(
                    tree_size=batch.tree_size, head_index=batch.index, root=batch.root, chain_id=batch.chain_id,
                    contract=batch.contract, anchorer=batch.anchorer, transaction_hash=batch.transaction_hash,
                    block_number=batch.block_number, gas_used=batch.gas_used))
                meta = {name for (name,) in conn.execute(select(st.log_meta.c.name))}
                where = {"anchor_chain_id": str(batch.chain_id), "anchor_contract": batch.contract,
                         "anchor_account": batch.anchorer}
                if "anchor_account" not in meta:  # where the chain holds this log: fixed by its first head
                    conn.execute(st.log_meta.insert(), [{"name": k, "value": v} for k, v in where.items()])
        except SQLAlchemyError as exc:
            raise AccessLogError(LOG_UNAVAILABLE, f"anchored in block {block} but could not record it: "
                                 f"{st._describe(exc)} (anchoring again records it)") from None
        return batch

    def proofs(self, seqs: list[int]) -> dict[int, InclusionProof]:
        """Inclusion proofs of the given entries in the latest tree head (entries it does not cover are left out)."""
        batches = self.batches()
        identity = self.identity()
        if not batches or identity is None:
            return {}
        head = batches[-1]
        wanted = [s for s in sorted(set(seqs)) if 0 <= s < head.tree_size]
        if not wanted:
            return {}
        tree = MerkleTree(self._leaf_hashes(0, head.tree_size))
        if tree.size != head.tree_size:
            raise AccessLogError(LOG_TAMPERED, f"tree head {head.index} covers entries the log lost: run verify")
        return {s: InclusionProof(self.log_id, s, head.tree_size, tuple(p.hex() for p in tree.audit_path(s)),
                                  head.root, head.index, head.chain_id, head.contract, head.anchorer,
                                  head.transaction_hash, head.block_number, identity) for s in wanted}

    def proof(self, seq: int) -> InclusionProof:
        """The inclusion proof of one entry; ``kaga:anchor-not-found`` if no tree head covers it yet."""
        found = self.proofs([seq]).get(seq)
        if found is None:
            raise AccessLogError(ANCHOR_NOT_FOUND, f"entry {seq} is not anchored yet")
        return found

    # --- subject access -----------------------------------------------------------------------------

    def create_challenge(self, *, ttl: timedelta = timedelta(minutes=5), now: datetime | None = None) -> Challenge:
        """A one-time challenge a subject signs to read their history."""
        moment = now or datetime.now(UTC)
        challenge = Challenge(secrets.token_urlsafe(32), self.log_id, moment + ttl)
        try:
            with self.engine.begin() as conn:
                conn.execute(st.challenges.delete().where(st.challenges.c.expires < moment.timestamp() - 86400))
                conn.execute(st.challenges.insert().values(nonce=challenge.nonce, expires=challenge.expires.timestamp()))
        except SQLAlchemyError as exc:
            raise AccessLogError(LOG_UNAVAILABLE, f"cannot store the challenge: {st._describe(exc)}") from None
        return challenge

    def subject_history(self, response: str, *, now: datetime | None = None) -> tuple[str, list[SubjectEntry]]:
        """Check a signed challenge response and return (the subject's DID, their entries with proofs).

        The response is a compact JWS (:func:`answer_challenge`) signed by a key in the DID's
        ``authentication`` relationship, for this log, with an unexpired nonce this log issued and
        nobody used before. Raises :class:`AccessLogError` ``kaga:challenge-invalid``,
        ``kaga:challenge-expired``, ``kaga:challenge-replayed``; ProofError/ResolutionError for signatures.
        """
        from ..proofs.jose import parse_compact, verify_jws_with_did

        moment = (now or datetime.now(UTC)).timestamp()
        jws = parse_compact(response)
        payload = jws.payload
        did, nonce = payload.get("iss"), payload.get("nonce")
        if jws.header.get("typ") != CHALLENGE_TYP or not isinstance(did, str) or not isinstance(nonce, str):
            raise AccessLogError(CHALLENGE_INVALID, f"not a {CHALLENGE_TYP} response with iss and nonce")
        if payload.get("aud") != self.log_id:
            raise AccessLogError(CHALLENGE_INVALID, "the response is for another log")
        exp = payload.get("exp")
        if not isinstance(exp, int) or exp < moment:
            raise AccessLogError(CHALLENGE_EXPIRED, "the response has expired")
        verify_jws_with_did(jws, resolver=self.resolver, expected_did=did, relationship="authentication",
                            require_kid=True)
        self._consume(nonce, moment)
        index = subject_index(self._key, did)
        with self._read() as conn:
            rows = conn.execute(select(st.entries.c.seq, st.entries.c.hash, st.entries.c.record)
                                .where(st.entries.c.subject_index == index).order_by(st.entries.c.seq)).all()
        found = [RecordedEntry(int(s), str(h), parse_record(t)) for s, h, t in rows]
        proofs = self.proofs([e.seq for e in found])
        return did, [SubjectEntry(e, proofs.get(e.seq)) for e in found]

    def _consume(self, nonce: str, moment: float) -> None:
        try:
            with self.engine.begin() as conn:
                done = conn.execute(update(st.challenges).where(st.challenges.c.nonce == nonce)
                                    .where(st.challenges.c.used.is_(None))
                                    .where(st.challenges.c.expires >= moment).values(used=moment)).rowcount
                if done == 1:
                    return
                row = conn.execute(select(st.challenges.c.used, st.challenges.c.expires)
                                   .where(st.challenges.c.nonce == nonce)).first()
        except SQLAlchemyError as exc:
            raise AccessLogError(LOG_UNAVAILABLE, f"cannot check the challenge: {st._describe(exc)}") from None
        if row is None:
            raise AccessLogError(CHALLENGE_INVALID, "this log issued no such challenge")
        if row.used is not None:
            raise AccessLogError(CHALLENGE_REPLAYED, "this challenge was answered already")
        raise AccessLogError(CHALLENGE_EXPIRED, "the challenge has expired")

    def count_subjects(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count(func.distinct(st.entries.c.subject_index)))).scalar_one())


def _refuse_other_verifiers(entries: list[AccessEntry], owner: str) -> None:
    """A log is one verifier's: ``kaga:log-verifier-mismatch`` if an entry names another than ``owner``."""
    for entry in entries:
        if entry.verifier != owner:
            raise AccessLogError(LOG_VERIFIER_MISMATCH, f"this access log is {owner}'s: it records no entry of "
                                 f"{entry.verifier} (each verifier keeps a log of its own)")


def _first_signed_by(conn: Connection, key_id: str, default: int) -> int:
    """The first entry whose record names ``key_id`` as its verification method, else ``default``."""
    needle = f'"verificationMethod":"{key_id}"'
    query = select(st.entries.c.seq).where(st.entries.c.record.contains(needle, autoescape=True))
    found = conn.execute(query.order_by(st.entries.c.seq).limit(1)).scalar()
    return int(found) if found is not None else default


def answer_challenge(challenge: Challenge, *, did: str, signer: Signer, now: datetime | None = None) -> str:
    """The subject's answer: a compact JWS over ``{iss, aud, nonce, iat, exp}`` with an authentication key."""
    from ..proofs.jose import alg_for_key_type, sign_compact

    if str(DIDURL.parse(signer.key_id).did) != did:
        raise InputError(MALFORMED_VALUE_ERROR, "the signer's key does not belong to the DID")
    moment = int((now or datetime.now(UTC)).timestamp())
    header = {"alg": alg_for_key_type(signer.key_type), "typ": CHALLENGE_TYP, "kid": signer.key_id}
    payload = {"iss": did, "aud": challenge.audience, "nonce": challenge.nonce, "iat": moment,
               "exp": int(challenge.expires.timestamp())}
    return sign_compact(header, payload, signer)


def read_history(did: str, entries: list[SubjectEntry], key: PrivateKey, *,
                 anchorer: Anchorer | None = None, identity: LogIdentity | None = None) -> list[HistoryItem]:
    """The subject's side: open each entry with their key, check it is theirs, signed by the log's key, and
    its proof (against the chain's tree heads, given an anchorer).

    An entry that is not the subject's (another DID inside), that does not decrypt, or whose proof
    fails raises :class:`AccessLogError`; an entry not signed by the log's key (the proof's identity, else
    ``identity``, the log's as it states it) is returned with ``problem`` ``kaga:log-signer-mismatch`` and
    ``proven`` False; an entry no tree head covers yet, with ``proven`` False.
    """
    items = []
    for item in entries:
        body = item.entry.body
        token = body.get("subjectData")
        data: JSONObject = {}
        if isinstance(token, str):  # None: the subject had no key to seal the claim names to
            data = decrypt_subject_data(token, key)
            if data.get("subject") != did:
                raise AccessLogError(CHALLENGE_INVALID, f"entry {item.entry.seq} is not about {did}")
        block, problem = None, None
        signing = item.proof.identity if item.proof is not None else identity
        if signing is not None:
            problem = signing.entry_problem(item.entry.record)
        if item.proof is not None and problem is None:
            on_chain = check_inclusion(item.entry, item.proof, anchorer)
            block = int(on_chain.block_number) if on_chain is not None else None
        claims = data.get("claims")
        items.append(HistoryItem(
            seq=item.entry.seq, time=str(body.get("time")), verifier=str(body.get("verifier")),
            purpose=str(body.get("purpose")), result=str(body.get("result")), reason=body.get("reason"),
            credential_types=tuple(body.get("credentialTypes") or ()),
            claims=tuple(str(c) for c in claims) if isinstance(claims, list) else (),
            location=body.get("location"), service=body.get("service"),
            verifier_category=body.get("verifierCategory"), proven=item.proof is not None and problem is None,
            anchor_block=block, problem=problem,
            verifier_name=body.get("verifierName") if isinstance(body.get("verifierName"), str) else None))
    return items


def _longest_increasing(values: list[int]) -> set[int]:
    """The values of one longest strictly increasing subsequence (patience sorting, O(n log n))."""
    tails: list[int] = []  # tails[k]: index in values of the smallest tail of a run of length k+1
    parent = [-1] * len(values)
    for i, v in enumerate(values):
        k = _bisect(values, tails, v)
        if k:
            parent[i] = tails[k - 1]
        if k == len(tails):
            tails.append(i)
        else:
            tails[k] = i
    out: set[int] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        out.add(values[i])
        i = parent[i]
    return out


def _bisect(values: list[int], tails: list[int], v: int) -> int:
    lo, hi = 0, len(tails)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[tails[mid]] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _runs(values: list[int]) -> Iterator[tuple[int, int]]:
    start = prev = None
    for v in values:
        if start is None:
            start = prev = v
        elif v == prev + 1:  # type: ignore[operator]
            prev = v
        else:
            yield start, prev  # type: ignore[misc]
            start = prev = v
    if start is not None:
        yield start, prev  # type: ignore[misc]


def _unique(findings: list[Finding]) -> Iterator[Finding]:
    seen = set()
    for f in findings:
        if (f.kind, f.seq) not in seen:
            seen.add((f.kind, f.seq))
            yield f
