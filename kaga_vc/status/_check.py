"""Check a verified credential's status against its Bitstring Status Lists (v1.0 §3.2 validate algorithm).

For each ``BitstringStatusListEntry``: fetch the list credential from the caller's
:class:`~kaga_vc.status.StatusListSource` (offline), verify it like any credential (signature,
validity period), require the same issuer as the credential, the list type, a matching
``statusPurpose`` and a long enough list, then read the entry's bits. Outcomes:

* ``kaga:credential-revoked`` / ``kaga:credential-suspended`` — checked, and the bit is set;
* ``kaga:status-list-unavailable`` — could not check (no such list in the source, an unresolvable
  issuer, an expired list);
* ``kaga:status-list-invalid`` — the list credential is tampered with, of another issuer, or malformed;
* ``kaga:status-list-rollback`` — the source remembers lists (:class:`~kaga_vc.status.StatusListMemory`)
  and this one is older than a list already seen for the URL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..errors import (
    CREDENTIAL_EXPIRED,
    CREDENTIAL_NOT_YET_VALID,
    CREDENTIAL_REVOKED,
    CREDENTIAL_SUSPENDED,
    STATUS_LIST_INVALID,
    STATUS_LIST_UNAVAILABLE,
    STATUS_NOT_CHECKED,
    KagaError,
)
from ._bitstring import BitstringStatusList
from ._entry import ENTRY_TYPE, LIST_CREDENTIAL_TYPE, LIST_TYPE, StatusEntry, parse_entry, status_entries_of
from ._source import StatusListSource

JSONObject = dict[str, Any]
SPEC = "https://www.w3.org/TR/vc-bitstring-status-list/"
_STALE = (CREDENTIAL_EXPIRED, CREDENTIAL_NOT_YET_VALID)


class VerifiedListCache:
    """A bounded memory of status list credentials that verified, so a list is not verified again for
    every credential that points at it.

    An entry is keyed by the SHA-256 of the list credential exactly as received (the JWT text, or
    the JSON object serialised canonically), never by its URL, plus the verifier's settings (the
    resolver, loader and suites objects, the clock skew): a changed or tampered list is a different
    key and goes through full verification. Only lists that verified are kept; a hit is used only
    while ``now`` lies within the list's validity period and not before the time it was verified, and
    for at most ``ttl`` of wall-clock time (so a key revoked behind a live resolver is noticed within it).
    """

    def __init__(self, max_entries: int = 256, ttl: timedelta = timedelta(minutes=5)) -> None:
        self.max_entries = max_entries
        self.ttl = ttl.total_seconds()
        self._entries: OrderedDict[tuple[Any, ...], tuple[Any, tuple[Any, ...], float]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    @staticmethod
    def digest(document: Any) -> str | None:
        if isinstance(document, str):
            data = document.encode("utf-8")
        elif isinstance(document, dict):
            try:
                data = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                                  allow_nan=False).encode("utf-8")
            except (TypeError, ValueError):
                return None
        else:
            return None
        return hashlib.sha256(data).hexdigest()

    @staticmethod
    def _key(digest: str, settings: Sequence[Any]) -> tuple[Any, ...]:
        # objects by identity (kept alive by the entry, so an id is not reused while it is cached)
        return (digest, *(v if v is None or isinstance(v, (str, int, float, timedelta)) else ("obj", id(v))
                          for v in settings))

    def verify(self, document: Any, verify_list: Callable[[Any], Any], *, settings: Sequence[Any],
               now: datetime | None) -> Any:
        """``verify_list(document)``, or the result it gave before for these exact bytes and settings."""
        digest = self.digest(document)
        if digest is None or now is None:
            return verify_list(document)
        key = self._key(digest, settings)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                result, _, stored = entry
                if time.monotonic() - stored <= self.ttl and _still_valid(result, now):
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return result
                del self._entries[key]
        result = verify_list(document)
        if result.verified:
            with self._lock:
                self._entries[key] = (result, tuple(settings), time.monotonic())
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return result

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _still_valid(result: Any, now: datetime) -> bool:
    checked_at, valid_from, valid_until = result.checked_at, result.valid_from, result.valid_until
    if checked_at is None or now < checked_at:
        return False
    if valid_from is not None and now < valid_from:
        return False
    return valid_until is None or now < valid_until


def _types(value: Any) -> list[str]:
    return [t for t in (value if isinstance(value, list) else [value]) if isinstance(t, str)]


def _issuer_of(credential: JSONObject) -> str | None:
    value = credential.get("issuer", credential.get("iss"))
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def check_entry(
    entry: StatusEntry,
    *,
    issuer: str | None,
    source: StatusListSource,
    verify_list: Callable[[Any], Any],
    cache: VerifiedListCache | None = None,
    cache_settings: Sequence[Any] = (),
    now: datetime | None = None,
) -> tuple[int, list[tuple[str, str, bool]]]:
    """Read the status value of one entry: ``(value, problems)``, problems as ``(code, detail, could_not_check)``."""
    url = entry.status_list_credential
    try:
        document = source.fetch(url)
    except KagaError as error:
        return 0, [(STATUS_LIST_UNAVAILABLE, error.detail or f"status list {url} is unavailable", True)]
    if cache is not None:
        result = cache.verify(document, verify_list, settings=cache_settings, now=now)
    else:
        result = verify_list(document)
    if not result.verified:
        codes = ", ".join(result.codes)
        if result.could_not_check or all(code in _STALE for code in result.codes):
            return 0, [(STATUS_LIST_UNAVAILABLE, f"status list {url} could not be checked ({codes})", True)]
        return 0, [(STATUS_LIST_INVALID, f"status list {url} does not verify ({codes})", False)]
    listed = result.credential if isinstance(result.credential, dict) else {}
    listed = listed.get("vc", listed) if "vc" in listed and "credentialSubject" not in listed else listed
    if issuer is None or result.issuer != issuer:
        return 0, [(STATUS_LIST_INVALID, f"status list {url} was issued by {result.issuer!r}, not by {issuer!r}", False)]
    if LIST_CREDENTIAL_TYPE not in _types(listed.get("type")):
        return 0, [(STATUS_LIST_INVALID, f"{url} is not a {LIST_CREDENTIAL_TYPE}", False)]
    if isinstance(listed.get("id"), str) and listed["id"] != url:
        return 0, [(STATUS_LIST_INVALID, f"{url} holds the status list credential {listed['id']!r}", False)]
    subject = listed.get("credentialSubject")
    if not isinstance(subject, dict) or LIST_TYPE not in _types(subject.get("type")):
        return 0, [(STATUS_LIST_INVALID, f"{url}: credentialSubject is not a {LIST_TYPE}", False)]
    purposes = _types(subject.get("statusPurpose"))
    if entry.purpose not in purposes:  # §3.2 step: the purposes must be equal
        return 0, [(STATUS_LIST_INVALID, f"{url} is a {purposes} list, the entry is for {entry.purpose}", False)]
    try:
        bits = BitstringStatusList.decode(subject.get("encodedList"), status_size=entry.status_size)  # type: ignore[arg-type]
        value = bits.get(entry.index)
    except KagaError as error:
        return 0, [(STATUS_LIST_INVALID, f"{url}: {error.detail}", False)]
    remember = getattr(source, "remember_verified", None)  # a remembering source: rollback check on verified facts
    if callable(remember):
        try:
            remember(url, result.valid_from, str(subject.get("encodedList")), purposes)
        except KagaError as error:
            return 0, [(error.code, error.detail or f"status list {url} is older than one already seen", False)]
    return value, []


def apply_status(
    result: Any,
    *,
    source: StatusListSource | None,
    verify_list: Callable[[Any], Any],
    cache: VerifiedListCache | None = None,
    cache_settings: Sequence[Any] = (),
) -> Any:
    """Return ``result`` (a ``VerificationResult``) with the credential's status checked and reported.

    Without a ``source`` the result only gets the warning ``kaga:status-not-checked`` (once).
    ``cache`` reuses lists verified before (see :class:`VerifiedListCache`); ``cache_settings`` must
    name everything ``verify_list`` depends on besides the document and the time (resolver, loader,
    suites, clock skew).
    """
    from ..results import Problem

    credential = result.credential
    entries = status_entries_of(credential) if isinstance(credential, dict) else None
    if not entries:
        return result
    warnings = [w for w in result.warnings if w.code != STATUS_NOT_CHECKED]
    if source is None:
        warnings.append(Problem(STATUS_NOT_CHECKED, "the credential has a status entry; status was not checked"))
        return dataclasses.replace(result, warnings=tuple(warnings))
    issuer = result.issuer or _issuer_of(credential)
    problems = list(result.problems)
    statuses: list[JSONObject] = []
    for position, raw in enumerate(entries):
        if not (isinstance(raw, dict) and raw.get("type") == ENTRY_TYPE):
            warnings.append(Problem(STATUS_NOT_CHECKED, "a status entry of an unsupported type was not checked", None,
                                    {"entry": position}))
            continue
        try:
            entry = parse_entry(raw)
        except KagaError as error:
            problems.append(Problem(STATUS_LIST_INVALID, error.detail, SPEC, {"entry": position}))
            continue
        value, found = check_entry(entry, issuer=issuer, source=source, verify_list=verify_list, cache=cache,
                                   cache_settings=cache_settings, now=result.checked_at)
        context = {"entry": position, "statusPurpose": entry.purpose, "statusListCredential": entry.status_list_credential,
                   "statusListIndex": entry.index}
        for code, detail, could_not_check in found:
            problems.append(Problem(code, detail, SPEC, context, could_not_check))
        if found:
            continue
        statuses.append({"statusPurpose": entry.purpose, "value": value})
        if value and entry.purpose == "revocation":
            problems.append(Problem(CREDENTIAL_REVOKED, "the credential has been revoked", SPEC, context))
        elif value and entry.purpose == "suspension":
            problems.append(Problem(CREDENTIAL_SUSPENDED, "the credential is suspended", SPEC, context))
    return dataclasses.replace(
        result,
        verified=result.verified and len(problems) == len(result.problems),
        problems=tuple(problems),
        warnings=tuple(warnings),
        checks=(*result.checks, "status"),
        details={**result.details, "status": statuses},
    )
