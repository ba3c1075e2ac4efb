"""Timing helpers shared by the benchmarks (run as scripts: ``python benchmarks/NAME.py``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


def timed(fn: Callable[[], Any], n: int, *, warmup: int = 20) -> list[float]:
    """Seconds per call of ``fn`` over ``n`` calls, after ``warmup`` untimed calls."""
    for _ in range(min(warmup, n)):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def timed_async(make: Callable[[], Awaitable[Any]], n: int, *, warmup: int = 20) -> list[float]:
    """Like :func:`timed` for a coroutine factory (didkit's Python API is async)."""

    async def run() -> list[float]:
        for _ in range(min(warmup, n)):
            await make()
        out = []
        for _ in range(n):
            start = time.perf_counter()
            await make()
            out.append(time.perf_counter() - start)
        return out

    return asyncio.run(run())


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) of ``samples``, nearest-rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def interleaved(
    calls: dict[str, Callable[[], Any]],
    coroutines: dict[str, Callable[[], Awaitable[Any]]] | None = None,
    n: int = 500,
    *,
    warmup: int = 20,
    block: int = 25,
) -> dict[str, list[float]]:
    """Seconds per call of each function, timed in rounds: every function ``block`` calls in a row,
    each call timed, then the next function, round after round until each has ``n`` samples.

    On a shared machine the load moves during a run; timed one after the other, two measures see
    different loads and their ratio drifts. In rounds, each sees about the same load. Blocks, not
    single calls, because a peer's runtime may park between calls (didkit's thread pool does: a
    lone call after other work costs milliseconds). ``coroutines`` (factories, e.g. didkit's API) are
    awaited inside the same running loop.
    """
    coroutines = coroutines or {}

    async def run() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {name: [] for name in [*calls, *coroutines]}
        for fn in calls.values():
            for _ in range(min(warmup, n)):
                fn()
        for make in coroutines.values():
            for _ in range(min(warmup, n)):
                await make()
        while any(len(samples) < n for samples in out.values()):
            for name, fn in calls.items():
                for _ in range(min(block, n - len(out[name]))):
                    start = time.perf_counter()
                    fn()
                    out[name].append(time.perf_counter() - start)
            for name, make in coroutines.items():
                for _ in range(min(block, n - len(out[name]))):
                    start = time.perf_counter()
                    await make()
                    out[name].append(time.perf_counter() - start)
        return out

    return asyncio.run(run())
