"""Random, never-repeating status index allocation, persisted in the records store."""

from __future__ import annotations

import itertools
import multiprocessing
import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaga_vc.errors import MALFORMED_VALUE_ERROR, KagaError
from kaga_vc.issuer.records import IssuanceStore
from kaga_vc.status import MIN_ENTRIES, StatusLists

from .conftest import BASE_URL


class Colliding(random.Random):
    """An RNG that keeps proposing indices from a tiny pool: most proposals collide."""

    def __init__(self, pool: list[int], seed: int) -> None:
        super().__init__(seed)
        self.pool = pool

    def randrange(self, *args: object, **kwargs: object) -> int:  # type: ignore[override]
        return self.choice(self.pool)


def test_entries_share_one_index_across_purposes(lists: StatusLists) -> None:
    revocation, suspension = lists.allocate_entries()
    assert revocation.index == suspension.index and revocation.list_id == suspension.list_id
    assert revocation.status_list_credential == f"{BASE_URL}/{revocation.list_id}/revocation"
    assert suspension.status_list_credential == f"{BASE_URL}/{revocation.list_id}/suspension"
    status = revocation.to_credential_status()
    assert status == {
        "id": f"{revocation.status_list_credential}#{revocation.index}", "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation", "statusListIndex": str(revocation.index),
        "statusListCredential": revocation.status_list_credential,
    }
    single = lists.allocate("suspension")
    assert single.purpose == "suspension" and single.index != revocation.index


def test_allocation_is_spread_uniformly(lists: StatusLists, store: IssuanceStore) -> None:
    indices = [lists.allocate_index()[1] for _ in range(800)]
    assert len(set(indices)) == 800
    # not sequential, not clustered: 8 equal buckets each get 100 ± 45 (≈ 4.8 standard deviations)
    buckets = Counter(i * 8 // MIN_ENTRIES for i in indices)
    assert len(buckets) == 8 and all(55 <= n <= 145 for n in buckets.values()), buckets
    assert sum(1 for a, b in itertools.pairwise(indices) if b == a + 1) < 5
    assert sorted(store.allocated_indices(store.status_lists()[0].list_id)) == sorted(indices)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), pool_size=st.integers(1, 40), count=st.integers(1, 60))
def test_never_repeats_even_when_proposals_collide(tmp_path_factory: pytest.TempPathFactory, seed: int,
                                                    pool_size: int, count: int) -> None:
    path = tmp_path_factory.mktemp("alloc") / "r.sqlite3"
    with IssuanceStore.open(f"sqlite:///{path}") as store:
        pool = random.Random(seed).sample(range(MIN_ENTRIES), pool_size)
        lists = StatusLists(store, BASE_URL, rng=Colliding(pool, seed))
        got = []
        for _ in range(count):
            try:
                got.append(lists.allocate_index())
            except KagaError:
                break  # the pool is exhausted in every list: a refusal, never a repeat
        assert len(got) == len(set(got))
        # a fresh allocator over the same store (a restart) never hands out what was claimed
        again = StatusLists(store, BASE_URL, rng=Colliding(pool, seed + 1))
        try:
            more = again.allocate_index()
        except KagaError:
            more = None
        assert more not in got


def test_new_list_when_the_current_one_is_full_enough(store: IssuanceStore) -> None:
    lists = StatusLists(store, BASE_URL, max_fill=50 / MIN_ENTRIES)
    got = [lists.allocate_index() for _ in range(120)]
    per_list = Counter(list_id for list_id, _ in got)
    assert len(per_list) == 3 and sorted(per_list.values()) == [20, 50, 50]
    assert [info.allocated for info in store.status_lists()] == [50, 50, 20]


def _allocate_many(url: str, n: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    with IssuanceStore.open(url) as store:
        lists = StatusLists(store, BASE_URL)
        queue.put([lists.allocate_index(now=datetime.now(UTC)) for _ in range(n)])


def test_two_processes_never_get_the_same_index(store: IssuanceStore) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    # a tiny effective list so that the two processes really contend for the same indices
    StatusLists(store, BASE_URL).allocate_index()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_allocate_many, args=(url, 150, queue)) for _ in range(2)]
    for w in workers:
        w.start()
    results = [queue.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    everything = [pair for result in results for pair in result]
    assert len(everything) == 300 and len(set(everything)) == 300


def test_configuration_is_checked(store: IssuanceStore) -> None:
    with pytest.raises(KagaError) as caught:
        StatusLists(store, "ftp://city.kaga.example/status")
    assert caught.value.code == MALFORMED_VALUE_ERROR
    with pytest.raises(KagaError):
        StatusLists(store, BASE_URL, list_size=1024)  # below the spec's privacy minimum
