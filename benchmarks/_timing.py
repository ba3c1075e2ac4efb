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
