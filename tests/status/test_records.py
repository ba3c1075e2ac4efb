"""Issuance records on SQLite and a real PostgreSQL server: recording, listing, status transitions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from kaga_vc.errors import (
    CREDENTIAL_ALREADY_RECORDED,
    CREDENTIAL_UNKNOWN,
    RECORDS_UNAVAILABLE,
    STATUS_TRANSITION_INVALID,
    KagaError,
    RecordsError,
)
from kaga_vc.issuer.records import IssuanceRecord, IssuanceStore, metadata

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def _record(store: IssuanceStore, n: int = 1, **changes: object) -> IssuanceRecord:
    values: dict[str, object] = {
        "credential_id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}", "type": "KycCredential",
        "subject_did": f"did:key:z6Mk{n}", "status_list_id": "list-a", "status_index": 1000 + n,
        "staff": "staff-007", "format": "dc+sd-jwt", "issued_at": T0 + timedelta(seconds=n),
    }
    values.update(changes)
    return store.record_issued(**values)  # type: ignore[arg-type]


def test_record_and_get(store: IssuanceStore) -> None:
    written = _record(store)
    read = store.get(written.credential_id)
    assert read == written
    assert read is not None and read.status == "active" and read.issued_at == T0 + timedelta(seconds=1)
    assert store.get("urn:uuid:nope") is None
    assert store.events(written.credential_id) == [("issued", T0 + timedelta(seconds=1), "staff-007")]


def test_duplicate_id_or_index_is_refused_and_leaves_data_intact(store: IssuanceStore) -> None:
    first = _record(store, 1)
    with pytest.raises(RecordsError) as caught:
        _record(store, 1, subject_did="did:key:other")
    assert caught.value.code == CREDENTIAL_ALREADY_RECORDED
    with pytest.raises(RecordsError) as caught:
        _record(store, 2, status_index=first.status_index)  # same list and index as the first
    assert caught.value.code == CREDENTIAL_ALREADY_RECORDED
    assert store.list() == [first]
    assert store.events(first.credential_id) == [("issued", first.issued_at, "staff-007")]


def test_list_filters_and_order(store: IssuanceStore) -> None:
    a, b, c = (_record(store, n, type=t) for n, t in ((3, "KycCredential"), (1, "ResidencyCredential"), (2, "KycCredential")))
    assert [r.credential_id for r in store.list()] == [b.credential_id, c.credential_id, a.credential_id]
    assert [r.credential_id for r in store.list(type="KycCredential")] == [c.credential_id, a.credential_id]
    assert store.list(subject_did=b.subject_did) == [b]
    assert len(store.list(limit=2)) == 2 and store.list(limit=1, offset=2) == [a]
    store.mark(a.credential_id, "revoked", T0 + timedelta(days=1))
    assert [r.credential_id for r in store.list(status="revoked")] == [a.credential_id]
    assert store.count() == 3 and store.count(status="active") == 2


def test_transitions(store: IssuanceStore) -> None:
    rec = _record(store)
    cid = rec.credential_id
    suspended = store.mark(cid, "suspended", T0 + timedelta(hours=1), staff="staff-1")
    assert suspended.status == "suspended" and suspended.suspended_at == T0 + timedelta(hours=1)
    for bad in ("suspended",):
        with pytest.raises(KagaError) as caught:
            store.mark(cid, bad, T0 + timedelta(hours=2))
        assert caught.value.code == STATUS_TRANSITION_INVALID
    restored = store.mark(cid, "active", T0 + timedelta(hours=3), staff="staff-2")
    assert restored.status == "active" and restored.suspended_at is None
    with pytest.raises(KagaError) as caught:
        store.mark(cid, "active", T0 + timedelta(hours=4))  # not suspended
    assert caught.value.code == STATUS_TRANSITION_INVALID
    revoked = store.mark(cid, "revoked", T0 + timedelta(hours=5), staff="staff-3")
    assert revoked.status == "revoked" and revoked.revoked_at == T0 + timedelta(hours=5)
    for after in ("active", "suspended", "revoked"):  # revocation is final
        with pytest.raises(KagaError) as caught:
            store.mark(cid, after, T0 + timedelta(hours=6))
        assert caught.value.code == STATUS_TRANSITION_INVALID
    assert store.get(cid) == revoked
    assert [e[0] for e in store.events(cid)] == ["issued", "suspended", "active", "revoked"]
    assert [e[2] for e in store.events(cid)][1:] == ["staff-1", "staff-2", "staff-3"]
    with pytest.raises(KagaError) as caught:
        store.mark("urn:uuid:unknown", "revoked")
    assert caught.value.code == CREDENTIAL_UNKNOWN


def test_naive_times_are_refused(store: IssuanceStore) -> None:
    with pytest.raises(KagaError):
        _record(store, issued_at=datetime(2026, 1, 1))
    assert store.count() == 0


def test_records_hold_no_personal_claims() -> None:
    """The schema itself has no column for a name, birth date, address, gender or any claim value."""
    columns = {c.name for table in metadata.tables.values() for c in table.columns}
    forbidden = ("name", "kana", "birth", "address", "gender", "sex", "phone", "email", "my_number", "claim",
                 "credential_json", "document", "payload")
    assert not [c for c in columns if any(word in c.lower() for word in forbidden)]
    fields = {f.name for f in dataclasses.fields(IssuanceRecord)}
    assert fields == {"credential_id", "type", "subject_did", "status_list_id", "status_index", "format", "staff",
                      "issued_at", "status", "revoked_at", "suspended_at", "batch_id", "row_key"}


def test_unreachable_database_is_a_typed_error_without_the_password(tmp_path: object) -> None:
    with pytest.raises(RecordsError) as caught:
        IssuanceStore.open("postgresql://city:s3cret-pw@127.0.0.1:1/records")
    assert caught.value.code == RECORDS_UNAVAILABLE
    assert "s3cret-pw" not in str(caught.value)


def test_default_location_is_kaga_vc_home(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    home = Path(str(tmp_path)) / "home"
    monkeypatch.setenv("KAGA_VC_HOME", str(home))
    monkeypatch.delenv("KAGA_VC_RECORDS_URL", raising=False)
    with IssuanceStore.open(None) as store:
        _record(store)
        assert store.dialect == "sqlite"
    assert (home / "issuance.sqlite3").exists()
    with IssuanceStore.open(None) as again:
        assert again.count() == 1


def test_postgres_tables_exist(postgres_database: str) -> None:
    with IssuanceStore.open(postgres_database) as store:
        assert store.dialect == "postgresql"
        names = set(sa.inspect(store.engine).get_table_names())
    assert {"kaga_issued_credentials", "kaga_status_lists", "kaga_status_allocations", "kaga_batch_rows"} <= names
