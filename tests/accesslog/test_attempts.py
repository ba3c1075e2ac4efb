"""Every attempt is logged (issue 12): an oversized or malformed verification outcome is recorded with its
fields cut and marked, and an entry is indexed under a subject only when the presentation proved control of
that subject's key (``holderProven``)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from kaga_vc.accesslog import AccessEntry, AccessLog

from .conftest import Party


def _result(subject: Any, *, proven: bool | None, types: list[Any] | None = None, purpose: Any = "hotel check-in",
            location: Any = "front desk") -> Any:
    details: dict[str, Any] = {"request": {"purpose": purpose, "location": location},
                               "credentials": [{"types": types or ["KycCredential"], "claims": {"ageOver18": True}}]}
    if proven is not None:
        details["holderProven"] = proven
    return SimpleNamespace(verified=False, problems=[SimpleNamespace(code="kaga:holder-not-subject")],
                           subject=subject, details=details, checked_at=datetime(2026, 12, 3, tzinfo=UTC))


def test_a_holder_string_over_512_characters_is_recorded_unindexed_and_marked(sqlite_log: AccessLog,
                                                                               ryokan: Party) -> None:
    made = AccessEntry.from_verification(_result("did:key:z" + "x" * 600, proven=True), verifier=ryokan.did)
    recorded = sqlite_log.record(made)
    assert recorded.body["subjectIndex"] is None and recorded.body["truncated"] == ["subject"]
    assert recorded.body["result"] == "refused" and sqlite_log.verify().ok


def test_more_than_64_types_and_overlong_fields_are_cut_and_marked(sqlite_log: AccessLog, ryokan: Party,
                                                                   alice: Party) -> None:
    types = [f"Type{i:03d}" for i in range(100)] + ["T" * 900, "", 7]
    made = AccessEntry.from_verification(_result(alice.did, proven=True, types=types, purpose="p" * 2000,
                                                 location=["not", "text"]), verifier=ryokan.did)
    body = sqlite_log.record(made).body
    assert len(body["credentialTypes"]) == 64 and all(len(t) <= 512 for t in body["credentialTypes"])
    assert len(body["purpose"]) == 512 and body["purpose"].endswith("…")
    assert "location" not in body
    assert body["truncated"] == ["credentialTypes", "location", "purpose"]
    assert body["subjectIndex"] is not None  # the proven holder is still indexed


def test_a_presentation_that_proved_no_key_is_indexed_under_no_one(sqlite_log: AccessLog, ryokan: Party,
                                                                   alice: Party) -> None:
    for proven in (False, None):  # refused proof, or a result that does not say
        made = AccessEntry.from_verification(_result(alice.did, proven=proven), verifier=ryokan.did)
        assert made.subject is None
        assert sqlite_log.record(made).body["subjectIndex"] is None
    proven_entry = sqlite_log.record(AccessEntry.from_verification(_result(alice.did, proven=True),
                                                                   verifier=ryokan.did))
    assert proven_entry.body["subjectIndex"] is not None and "truncated" not in proven_entry.body
    assert len(sqlite_log) == 3 and sqlite_log.verify().ok
