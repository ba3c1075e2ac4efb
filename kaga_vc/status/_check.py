"""Check a verified credential's status against its Bitstring Status Lists (v1.0 §3.2 validate algorithm).

For each ``BitstringStatusListEntry``: fetch the list credential from the caller's
:class:`~kaga_vc.status.StatusListSource` (offline), verify it like any credential (signature,
validity period), require the same issuer as the credential, the list type, a matching
``statusPurpose`` and a long enough list, then read the entry's bits. Outcomes:

* ``kaga:credential-revoked`` / ``kaga:credential-suspended`` — checked, and the bit is set;
* ``kaga:status-list-unavailable`` — could not check (no such list in the source, an unresolvable
  issuer, an expired list);
* ``kaga:status-list-invalid`` — the list credential is tampered with, of another issuer, or malformed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
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
) -> tuple[int, list[tuple[str, str, bool]]]:
    """Read the status value of one entry: ``(value, problems)``, problems as ``(code, detail, could_not_check)``."""
    url = entry.status_list_credential
    try:
        document = source.fetch(url)
    except KagaError as error:
        return 0, [(STATUS_LIST_UNAVAILABLE, error.detail or f"status list {url} is unavailable", True)]
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
    return value, []


def apply_status(
    result: Any,
    *,
    source: StatusListSource | None,
    verify_list: Callable[[Any], Any],
) -> Any:
    """Return ``result`` (a ``VerificationResult``) with the credential's status checked and reported.

    Without a ``source`` the result only gets the warning ``kaga:status-not-checked`` (once).
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
        value, found = check_entry(entry, issuer=issuer, source=source, verify_list=verify_list)
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
