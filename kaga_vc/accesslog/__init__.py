"""The access log: every verification (accepted or refused) as a signed, hash-chained entry.

- :class:`AccessLog`: ``record(AccessEntry) -> RecordedEntry`` (durable on return), ``verify()``
  (edited, deleted, reordered, inserted entries, batch roots, on chain too), ``anchor(anchorer)``
  (a batch's Merkle root in one transaction), ``anchor_if_due`` / ``set_anchoring`` with an
  :class:`AnchorPolicy` (after N entries or T minutes), ``proof(seq)``, subject access
  (``create_challenge`` / ``subject_history``);
- :func:`verify_inclusion` (pure) and :func:`check_inclusion` (and on chain) for anyone holding an entry;
- :func:`answer_challenge` and :func:`read_history`: the subject's side;
- :func:`export_anonymized`: k-anonymous aggregate counts as open data;
- :func:`verify_and_record`: the verifier's entry point — verify a presentation response against its
  request and bundle (:func:`kaga_vc.verifier.verify_response`) and record it, accepted or refused.

Storage is SQLite in ``$KAGA_VC_HOME`` by default, PostgreSQL by URL. Nothing here imports the
Ethereum code: anchoring goes through an :class:`Anchorer` (``kaga_vc.registry.anchor.ChainAnchor``).
See ``docs/accesslog.md`` for the threat model.
"""

from __future__ import annotations

from ._entry import AccessEntry, RecordedEntry, canonical, record_hash
from ._export import OpenDataExport, export_anonymized
from ._keyfile import DEFAULT_KEY_FILE, ENV_LOG_KEY, load_or_create_log_key
from ._log import (
    AccessLog,
    AnchorBatch,
    Challenge,
    Finding,
    HistoryItem,
    LogReport,
    SubjectEntry,
    answer_challenge,
    default_resolver,
    read_history,
)
from ._policy import AnchorPolicy, parse_duration
from ._proof import Anchorer, InclusionProof, check_inclusion, verify_inclusion
from ._store import log_url
from ._verification import verify_and_record

__all__ = [
    "DEFAULT_KEY_FILE",
    "ENV_LOG_KEY",
    "AccessEntry",
    "AccessLog",
    "AnchorBatch",
    "AnchorPolicy",
    "Anchorer",
    "Challenge",
    "Finding",
    "HistoryItem",
    "InclusionProof",
    "LogReport",
    "OpenDataExport",
    "RecordedEntry",
    "SubjectEntry",
    "answer_challenge",
    "canonical",
    "check_inclusion",
    "default_resolver",
    "export_anonymized",
    "load_or_create_log_key",
    "log_url",
    "parse_duration",
    "read_history",
    "record_hash",
    "verify_and_record",
    "verify_inclusion",
]
