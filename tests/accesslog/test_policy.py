"""Anchoring on a policy (issue 12): after N entries or when the oldest unanchored entry is T minutes old,
applied by anchor_if_due and after every append; a failed anchor never fails the append."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kaga_vc.accesslog import AccessLog, AnchorPolicy, parse_duration
from kaga_vc.errors import MALFORMED_VALUE_ERROR, InputError

from .conftest import Party, entry


def test_after_n_entries_on_every_append(sqlite_log: AccessLog, ryokan: Party, alice: Party, anchorer: Any) -> None:
    sqlite_log.set_anchoring(anchorer, AnchorPolicy(entries=3))
    for _ in range(2):
        sqlite_log.record(entry(ryokan, alice))
    assert sqlite_log.batches() == [] and sqlite_log.unanchored()[0] == 2
    sqlite_log.record(entry(ryokan, alice))
    assert [(b.first_seq, b.size) for b in sqlite_log.batches()] == [(0, 3)]
    sqlite_log.record_many([entry(ryokan, alice)] * 3)
    assert [(b.first_seq, b.size) for b in sqlite_log.batches()] == [(0, 3), (3, 3)]
    assert sqlite_log.verify(anchorer=anchorer).ok and sqlite_log.anchor_error is None


def test_after_t_minutes(sqlite_log: AccessLog, ryokan: Party, alice: Party, anchorer: Any) -> None:
    policy = AnchorPolicy(minutes=10)
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert sqlite_log.anchor_if_due(anchorer, policy, now=start) is None  # nothing to anchor
    sqlite_log.record(entry(ryokan, alice, time=start))
    sqlite_log.record(entry(ryokan, alice, time=start + timedelta(minutes=8)))
    assert sqlite_log.anchor_if_due(anchorer, policy, now=start + timedelta(minutes=9)) is None
    batch = sqlite_log.anchor_if_due(anchorer, policy, now=start + timedelta(minutes=10))
    assert batch is not None and (batch.first_seq, batch.size) == (0, 2)
    assert sqlite_log.unanchored() == (0, None)


def test_a_failed_anchor_does_not_fail_the_append(sqlite_log: AccessLog, ryokan: Party, alice: Party) -> None:
    class Down:
        chain_id, contract, anchorer = 1, "0x" + "00" * 20, "0x" + "00" * 20

        def read_log(self, *args: Any, **kwargs: Any) -> Any:
            raise InputError(MALFORMED_VALUE_ERROR, "the node is down")

        def anchor(self, *args: Any) -> Any:
            raise AssertionError("not reached")

    sqlite_log.set_anchoring(Down(), AnchorPolicy(entries=1))
    recorded = sqlite_log.record(entry(ryokan, alice))
    assert recorded.seq == 0 and len(sqlite_log) == 1
    assert sqlite_log.anchor_error is not None and sqlite_log.anchor_error.code == MALFORMED_VALUE_ERROR
    sqlite_log.set_anchoring(None)
    sqlite_log.record(entry(ryokan, alice))
    assert len(sqlite_log) == 2


def test_policy_and_duration_inputs() -> None:
    assert parse_duration("30s") == timedelta(seconds=30) and parse_duration("10m") == timedelta(minutes=10)
    assert parse_duration("1.5h") == timedelta(minutes=90) and parse_duration("5") == timedelta(seconds=5)
    for bad in ("", "0s", "soon", "-1m", "10 days"):
        with pytest.raises(InputError) as caught:
            parse_duration(bad)
        assert caught.value.code == MALFORMED_VALUE_ERROR
    for kwargs in ({}, {"entries": 0}, {"minutes": 0}):
        with pytest.raises(InputError):
            AnchorPolicy(**kwargs)
