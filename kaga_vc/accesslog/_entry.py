"""Access-log entries: what a verification records, how it is canonicalised, signed and chained.

A stored record is ``{"entry": body, "proof": proof}``:

- ``body`` holds ``log`` (the log's random id), ``seq``, ``previous`` (hex SHA-256 of the previous
  record, 64 zeros for the first), ``time`` (UTC, seconds), the verifier's DID, location, service and
  category, the credential types, the purpose, the result and its reason code, and for the subject
  only ``subjectIndex`` (keyed HMAC) and ``subjectData`` (a JWE holding the subject DID and the
  disclosed claim *names*; claim values are never recorded);
- ``proof`` is the verifier's signature over the RFC 8785 (JCS) canonical form of ``body``, made
  with its ``Signer`` and checked against its DID document (``assertionMethod``);
- the record's hash, SHA-256 of JCS(record), is what the next entry commits to, and the Merkle
  leaf of the record is JCS(record) itself (RFC 9162 leaf hash ``SHA-256(0x00 || JCS(record))``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import rfc8785

from .._encoding import b64url_decode, b64url_encode
from ..did import DIDURL, Resolver
from ..errors import (
    LOG_CORRUPTED,
    MALFORMED_VALUE_ERROR,
    PROOF_VERIFICATION_ERROR,
    AccessLogError,
    InputError,
    ProofError,
)
from ..keys import Signer

JSONObject = dict[str, Any]
Result = Literal["accepted", "refused"]
RECORD_VERSION = 1
GENESIS = "0" * 64
SIGNATURE_TYPE = "KagaAccessLogSignature2026"
_MAX_TEXT = 512
_MAX_ITEMS = 64


_SORTED_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_SAFE_INTEGER = 2**53


def _plain(value: Any) -> bool:
    """Whether JCS of ``value`` is the sorted, compact ``json`` text: strings, booleans, null, integers
    of the IEEE-754 safe range, lists, and objects with ASCII keys (UTF-16 and code-point order agree
    on them). Strings are escaped alike by both (the two-character escapes, ``\\u00xx`` for the other
    controls, nothing else); a lone surrogate fails the UTF-8 encoding and falls back. Floats, and
    anything else, go to the RFC 8785 implementation."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if -_SAFE_INTEGER < item < _SAFE_INTEGER:
                continue
            return False
        if kind is list:
            stack.extend(item)
        elif kind is dict:
            for key, member in item.items():
                if type(key) is not str or not key.isascii():
                    return False
                stack.append(member)
        else:
            return False
    return True


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON bytes (the ``json`` module's text where it is the same: the RFC 8785
    package is pure Python, and every record is canonicalised when it is written, verified and proven)."""
    if _plain(value):
        try:
            return _SORTED_COMPACT.encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: RFC 8785 decides
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(MALFORMED_VALUE_ERROR, f"not canonicalisable JSON: {exc}") from None


def canonical_flat(value: JSONObject) -> bytes:
    """:func:`canonical` of an object, checking only its own members when they are all flat (strings, null,
    booleans, safe-range integers, lists of strings under ASCII keys, as an entry's body and proof are)
    rather than walking it: the check is a tenth of the encoding's cost instead of as much again."""
    for key, member in value.items():
        kind = type(member)
        if type(key) is not str or not key.isascii():
            return canonical(value)
        if kind is str or member is None or kind is bool:
            continue
        if kind is int and -_SAFE_INTEGER < member < _SAFE_INTEGER:
            continue
        if kind is list and all(type(item) is str for item in member):
            continue
        return canonical(value)
    try:
        return _SORTED_COMPACT.encode(value).encode("utf-8")
    except UnicodeEncodeError:
        return canonical(value)  # a lone surrogate: RFC 8785 decides


def record_hash(record: JSONObject) -> str:
    """Hex SHA-256 of JCS(record): what the next entry's ``previous`` holds."""
    return hashlib.sha256(canonical(record)).hexdigest()


def _text(value: Any, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > _MAX_TEXT:
        raise InputError(MALFORMED_VALUE_ERROR, f"{name} must be a non-empty string of at most {_MAX_TEXT} characters")
    return value


def _names(values: Iterable[str], name: str) -> tuple[str, ...]:
    items = tuple(values)
    if len(items) > _MAX_ITEMS:
        raise InputError(MALFORMED_VALUE_ERROR, f"at most {_MAX_ITEMS} {name}")
    for item in items:
        _text(item, name)
    return tuple(sorted(set(items)))


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One verification to record: who verified, whose data, what was disclosed (names only), why, outcome.

    ``subject`` may be None when a refused presentation named no usable holder. ``time`` defaults to
    the moment of recording. ``claims`` are claim *names* (``"ageOver18"``), never values.
    """

    verifier: str
    purpose: str
    result: Result
    subject: str | None = None
    credential_types: Sequence[str] = ()
    claims: Sequence[str] = ()
    reason: str | None = None
    location: str | None = None
    service: str | None = None
    verifier_category: str | None = None
    time: datetime | None = None
    verifier_name: str | None = None  # the name the request gave (a shop's), recorded as ``verifierName``
    extra: JSONObject = field(default_factory=dict)
    truncated: Sequence[str] = ()  # fields cut or dropped to fit (recorded as the body's ``truncated``)
    # SHA-256 (hex) of the request nonce this verification consumed; not part of the signed body: the
    # log keeps it under a unique key in the entry's own transaction, so one nonce is logged once
    nonce_digest: str | None = None

    def __post_init__(self) -> None:
        _text(self.verifier, "verifier")
        _text(self.purpose, "purpose")
        if self.result not in ("accepted", "refused"):
            raise InputError(MALFORMED_VALUE_ERROR, "result must be 'accepted' or 'refused'")
        if self.result == "refused" and not self.reason:
            raise InputError(MALFORMED_VALUE_ERROR, "a refused verification records its reason code")
        for name in ("subject", "reason", "location", "service", "verifier_category", "verifier_name"):
            _text(getattr(self, name), name, optional=True)
        object.__setattr__(self, "credential_types", _names(self.credential_types, "credential types"))
        object.__setattr__(self, "claims", _names(self.claims, "claim names"))
        object.__setattr__(self, "truncated", _names(self.truncated, "truncated fields"))
        if self.time is not None and (self.time.tzinfo is None or self.time.utcoffset() is None):
            raise InputError(MALFORMED_VALUE_ERROR, "time must be an aware datetime")
        if self.nonce_digest is not None and not _is_digest(self.nonce_digest):
            raise InputError(MALFORMED_VALUE_ERROR, "nonce_digest must be a hex SHA-256")

    @classmethod
    def from_verification(
        cls,
        result: Any,
        request: Any = None,
        *,
        verifier: str | None = None,
        subject: str | None = None,
        location: str | None = None,
        service: str | None = None,
        verifier_category: str | None = None,
        time: datetime | None = None,
        verifier_name: str | None = None,
    ) -> AccessEntry:
        """The entry of one verification, from the verifier's ``VerificationResult`` and its request.

        Reads ``result.verified``, the first problem's code (the reason of a refusal), ``result.subject``
        (the holder; else the presented credentials' subject), ``result.checked_at`` and ``result.details`` as :func:`kaga_vc.verifier.verify_response`
        fills it: ``request`` (verifier, purpose, location, service) and ``credentials`` (each one's
        ``types`` and ``claims``: only the claim *names* are kept, every presented credential's, accepted
        or not; a refused response carries no values, its ``claimNames`` are read). ``request`` (a ``PresentationRequest``) fills what the details lack; keyword arguments win.
        """
        details = getattr(result, "details", None)
        details = details if isinstance(details, dict) else {}
        asked_value = details.get("request")
        asked: JSONObject = asked_value if isinstance(asked_value, dict) else {}

        def from_request(name: str) -> Any:
            value = asked.get(name)
            if value in (None, "") and request is not None:
                value = request.get(name) if isinstance(request, dict) else getattr(request, name, None)
            return value if value not in (None, "") else None

        credentials = [c for c in details.get("credentials") or () if isinstance(c, dict)]
        types = [t for c in credentials for t in (c.get("types") or ()) if isinstance(t, str)]
        claims = [n for c in credentials for n in _claim_names(c) if isinstance(n, str)]
        verified = bool(getattr(result, "verified", False))
        reason = None
        if not verified:
            codes = [getattr(p, "code", None) for p in getattr(result, "problems", ()) or ()]
            reason = next((c for c in codes if isinstance(c, str) and c), None) or "kaga:verification-failed"
        checked_at = getattr(result, "checked_at", None)
        cut: list[str] = []
        if subject is None and details.get("holderProven") is True:
            # indexed under a subject only when the presentation proved control of that subject's key:
            # a garbage presentation claiming holder = <victim> is recorded, but under no one's index
            subject = getattr(result, "subject", None)
        if subject is not None and (not isinstance(subject, str) or not subject or len(subject) > _MAX_TEXT):
            subject = None  # a cut DID names nobody: the attempt is kept, unindexed, and marked
            cut.append("subject")
        return cls(
            verifier=_fit(verifier or from_request("verifier"), "verifier", cut) or "unknown",
            subject=subject,
            purpose=_fit(from_request("purpose"), "purpose", cut) or "unspecified",
            result="accepted" if verified else "refused",
            reason=_fit(reason, "reason", cut),
            credential_types=_fit_names(types, "credentialTypes", cut),
            claims=_fit_names(claims, "claims", cut),
            location=_fit(location or from_request("location"), "location", cut),
            service=_fit(service or from_request("service"), "service", cut),
            verifier_category=_fit(verifier_category, "verifierCategory", cut),
            verifier_name=_fit(verifier_name or from_request("name"), "verifierName", cut),
            time=time or (checked_at if isinstance(checked_at, datetime) else None),
            truncated=tuple(cut),
            nonce_digest=details["nonceDigest"] if _is_digest(details.get("nonceDigest")) else None,
        )


def _claim_names(credential: JSONObject) -> list[Any]:
    """The claim names one presented credential showed (a refused response lists them in ``claimNames``)."""
    claims, names = credential.get("claims"), credential.get("claimNames")
    if isinstance(claims, dict) and claims:
        return list(claims)
    return list(names) if isinstance(names, list) else []


TRUNCATION_MARK = "…"


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _fit(value: Any, name: str, cut: list[str]) -> str | None:
    """A text field as recordable: over-long text cut to the limit (ending in the mark), anything else dropped;
    either way ``name`` is added to ``cut`` so that the entry says what it does not hold whole."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        cut.append(name)
        return None
    if len(value) > _MAX_TEXT:
        cut.append(name)
        return value[:_MAX_TEXT - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    return value


def _fit_names(values: Sequence[str], name: str, cut: list[str]) -> tuple[str, ...]:
    """At most the first 64 distinct names (sorted), each cut to the limit; marked in ``cut`` if anything was."""
    items = sorted({v for v in values if v})
    fitted = tuple(sorted({_fit(v, name, cut) or "" for v in items[:_MAX_ITEMS]} - {""}))
    if len(items) > _MAX_ITEMS and name not in cut:
        cut.append(name)
    return fitted


@dataclass(frozen=True, slots=True)
class RecordedEntry:
    """A stored record: its position, its hash, the record itself (``{"entry": …, "proof": …}``)."""

    seq: int
    hash: str
    record: JSONObject = field(repr=False)

    @property
    def body(self) -> JSONObject:
        body = self.record.get("entry")
        return body if isinstance(body, dict) else {}

    @property
    def leaf(self) -> bytes:
        """The Merkle leaf of this record: JCS(record)."""
        return canonical(self.record)

    def to_json(self) -> JSONObject:
        return {"seq": self.seq, "hash": self.hash, "record": self.record}


def iso_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_body(entry: AccessEntry, *, log_id: str, seq: int, previous: str, now: datetime,
               subject_index: str | None, subject_data: str | None, verification_method: str,
               now_text: str | None = None) -> JSONObject:
    """The body of an entry (``now_text``: :func:`iso_seconds` of ``now``, when the caller has it already)."""
    body: JSONObject = {
        "version": RECORD_VERSION,
        "log": log_id,
        "seq": seq,
        "previous": previous,
        "time": iso_seconds(entry.time) if entry.time is not None else now_text or iso_seconds(now),
        "verifier": entry.verifier,
        "verificationMethod": verification_method,
        "credentialTypes": list(entry.credential_types),
        "purpose": entry.purpose,
        "result": entry.result,
        "subjectIndex": subject_index,
        "subjectData": subject_data,
    }
    for key, value in (("reason", entry.reason), ("location", entry.location), ("service", entry.service),
                       ("verifierCategory", entry.verifier_category), ("verifierName", entry.verifier_name)):
        if value is not None:
            body[key] = value
    if entry.truncated:
        body["truncated"] = list(entry.truncated)
    return body


def sign_body(body: JSONObject, signer: Signer) -> JSONObject:
    """The record of ``body`` signed by ``signer`` over JCS(body)."""
    alg = signer.key_type.info.jose_alg
    signature = signer.sign(canonical(body))
    return {"entry": body, "proof": {"type": SIGNATURE_TYPE, "verificationMethod": signer.key_id,
                                     "alg": alg, "signature": b64url_encode(signature)}}


def seal_record(body: JSONObject, signer: Signer) -> tuple[JSONObject, str, str]:
    """(record, its JCS text, its hash) of ``body`` signed by ``signer``, canonicalising once.

    What :func:`sign_body`, :func:`canonical` of the record and :func:`record_hash` give, byte for byte:
    JCS of the record ``{"entry": body, "proof": proof}`` is ``{"entry":`` JCS(body) ``,"proof":``
    JCS(proof) ``}`` (RFC 8785 sorts the members, "entry" before "proof", and writes each value in its own
    canonical form), so the signed bytes of the body are the record's too."""
    signed = canonical_flat(body)
    proof = {"type": SIGNATURE_TYPE, "verificationMethod": signer.key_id, "alg": signer.key_type.info.jose_alg,
             "signature": b64url_encode(signer.sign(signed))}
    text = b'{"entry":' + signed + b',"proof":' + canonical_flat(proof) + b"}"
    return {"entry": body, "proof": proof}, text.decode("utf-8"), hashlib.sha256(text).hexdigest()


def signed_parts(record: JSONObject) -> tuple[JSONObject, str, bytes]:
    """(body, verification method id, signature) of a record; ProofError if they do not fit together.

    The signing method must be a key of the DID in ``entry.verifier``.
    """
    body, proof = record.get("entry"), record.get("proof")
    if not isinstance(body, dict) or not isinstance(proof, dict):
        raise ProofError(PROOF_VERIFICATION_ERROR, "a record holds an entry and a proof")
    method_id = proof.get("verificationMethod")
    if not isinstance(method_id, str) or method_id != body.get("verificationMethod"):
        raise ProofError(PROOF_VERIFICATION_ERROR, "the proof's verification method is not the entry's")
    try:
        if str(DIDURL.parse(method_id).did) != body.get("verifier"):
            raise ProofError(PROOF_VERIFICATION_ERROR, "the entry is not signed by a key of its verifier")
        signature = b64url_decode(str(proof.get("signature", "")))
    except InputError:
        raise ProofError(PROOF_VERIFICATION_ERROR, "malformed proof") from None
    return body, method_id, signature


def check_signature(record: JSONObject, resolver: Resolver) -> None:
    """Verify the verifier's signature on a record (``assertionMethod`` of ``entry.verifier``).

    Raises ProofError if it does not hold, ResolutionError when the DID cannot be resolved.
    """
    body, method_id, signature = signed_parts(record)
    method, _ = resolver.dereference_verification_method(method_id, relationship="assertionMethod")
    method.public_key().verify(signature, canonical(body))


def parse_record(text: str) -> JSONObject:
    """A stored record's JSON; AccessLogError ``kaga:log-corrupted`` when it is not an object."""
    import json

    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        raise AccessLogError(LOG_CORRUPTED, "a stored record is not JSON") from None
    if not isinstance(data, dict):
        raise AccessLogError(LOG_CORRUPTED, "a stored record is not a JSON object")
    return data
