"""The log's identity and its own signing key: who may write entries that count as genuine.

A log is one verifier's. Its identity — the log id, the verifier's DID, the log's Ed25519 key and the
first entry that key signs (``since``: 0 for a new log, the number of entries a log created before
issue 12 already held) — is fixed when the log first records and committed on chain with the first
tree head (the contract stores ``SHA-256(JCS(identity))`` and refuses any other for that log). Every
entry from ``since`` on must be signed by that key and name that verifier: someone who can write to the
database but holds no key cannot add an entry that ``log verify`` or a resident's history accepts, and
the key holder cannot make the log speak for another verifier (``kaga:log-verifier-mismatch``).

The log key is derived from the log's key file (:mod:`._keyfile`, HMAC-SHA256 with a fixed label as
the Ed25519 seed): whoever may record holds that file already, and whoever holds only the database
holds neither the subject index key nor the signing key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from ..did import did_key_from_public_key, public_key_from_did_key
from ..errors import (
    LOG_SIGNER_MISMATCH,
    LOG_TAMPERED,
    LOG_VERIFIER_MISMATCH,
    MALFORMED_VALUE_ERROR,
    InputError,
    KagaError,
)
from ..keys import KeySigner, KeyType, PrivateKey
from ._entry import canonical

JSONObject = dict[str, Any]
_SIGNING_LABEL = b"kaga-vc access log signing key v1"


def log_signer(log_key: bytes) -> KeySigner:
    """The log's Ed25519 signer (a did:key), derived from the log key file's secret."""
    seed = hmac.new(log_key, _SIGNING_LABEL, hashlib.sha256).digest()
    key = PrivateKey.from_bytes(KeyType.ED25519, seed)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")


@dataclass(frozen=True, slots=True)
class LogIdentity:
    """What the chain commits for a log: its id, its verifier, its key, and the first entry the key signs."""

    log_id: str
    verifier: str
    key: str  # the log key's verification method (did:key#…)
    since: int

    def to_json(self) -> JSONObject:
        return {"log": self.log_id, "verifier": self.verifier, "key": self.key, "since": self.since}

    @classmethod
    def from_json(cls, data: Any) -> LogIdentity:
        try:
            since = data["since"]
            if not isinstance(since, int) or isinstance(since, bool) or since < 0:
                raise ValueError
            values = (data["log"], data["verifier"], data["key"])
            if not all(isinstance(v, str) and v for v in values):
                raise ValueError
            return cls(str(data["log"]), str(data["verifier"]), str(data["key"]), since)
        except (KeyError, TypeError, ValueError):
            raise InputError(MALFORMED_VALUE_ERROR, "not an access-log identity") from None

    @property
    def digest(self) -> bytes:
        """SHA-256 of JCS(identity): what the anchor contract stores with the first head."""
        return hashlib.sha256(canonical(self.to_json())).digest()

    def signature_problem(self, record: JSONObject) -> str | None:
        """None if ``record`` is an entry of this log signed by its key (or older than ``since``); else
        ``kaga:log-signer-mismatch`` (signed by another key, or not at all) or ``kaga:log-tampered`` (the
        log's key, but the signature does not hold: the entry was changed)."""
        body, proof = record.get("entry"), record.get("proof")
        if not isinstance(body, dict) or not isinstance(proof, dict):
            return LOG_SIGNER_MISMATCH
        seq = body.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq < self.since:
            return None  # written before the log had its own key: checked against the verifier's DID
        if body.get("verificationMethod") != self.key or proof.get("verificationMethod") != self.key:
            return LOG_SIGNER_MISMATCH
        from .._encoding import b64url_decode

        try:
            public = public_key_from_did_key(self.key.split("#", 1)[0])
            public.verify(b64url_decode(str(proof.get("signature", ""))), canonical(body))
        except KagaError:
            return LOG_TAMPERED
        return None

    def verifier_problem(self, record: JSONObject) -> str | None:
        """None if ``record`` names this log's verifier (or is older than ``since``, or the verifier is not
        known yet); else ``kaga:log-verifier-mismatch``: a log is one verifier's, whoever signed the entry."""
        body = record.get("entry")
        if not self.verifier or not isinstance(body, dict):
            return None
        seq = body.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq < self.since:
            return None  # written before the log had its identity (a log of several verifiers, before issue 12)
        return None if body.get("verifier") == self.verifier else LOG_VERIFIER_MISMATCH

    def entry_problem(self, record: JSONObject) -> str | None:
        """The first reason ``record`` is not a genuine entry of this log: its signature, then its verifier."""
        return self.signature_problem(record) or self.verifier_problem(record)
