"""Sealing a group's subject data on worker threads while the appending thread signs and chains.

Each sealed entry costs two X25519 multiplications (the fresh ephemeral key and the shared secret), more
than its signature; libsodium lets the GIL go during both, and the tokens do not depend on the chain.
So :func:`seal_group` hands a group's tokens to worker threads (one per core beside the appender's) in
chunks, in order, and the appender takes them one by one as it signs: on two cores the sealing runs beside
the signing instead of before it (a second worker measured no faster there).

The randomness of every token (ephemeral scalar and IV, :func:`seal_x25519`) is drawn by the calling
thread, in entry order, before any work is handed out: the tokens are what sealing one at a time draws.
A group too small to repay the hand-over is sealed in the calling thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from ..errors import KagaError
from ._subject import TOKEN_RANDOM_BYTES, seal_x25519, subject_random

WORKERS = max(1, min(3, (os.cpu_count() or 2) - 1))  # beside the appending thread: one on 2 cores
CHUNK = 64  # tokens per hand-over: large enough to repay it, small enough that the appender soon has work
MIN_GROUP = 128  # below this, sealing in the calling thread is as fast

Job = tuple[bytes, bytes] | str | None  # (payload, X25519 recipient) to seal, or a token / None already made

_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """The process's sealing threads (new ones after a fork: a child inherits no threads)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(WORKERS, thread_name_prefix="kaga-accesslog-seal"))
        return _pool[1]


def _seal(job: Job, drawn: bytes) -> str | None:
    if job is None or isinstance(job, str):
        return job
    try:
        return seal_x25519(job[0], job[1], drawn)
    except KagaError:  # a small-order point: the entry is kept without its sealed part
        return None


def _seal_chunk(jobs: Sequence[Job], drawn: Sequence[bytes]) -> list[str | None]:
    return [_seal(job, random) for job, random in zip(jobs, drawn, strict=True)]


def seal_group(jobs: Sequence[Job]) -> Iterator[str | None]:
    """The token of each job, in order (None where there is none); the work is handed out at once."""
    count = sum(1 for job in jobs if isinstance(job, tuple))
    pool = subject_random(TOKEN_RANDOM_BYTES * count)
    drawn, at = [], 0
    for job in jobs:
        if isinstance(job, tuple):
            drawn.append(pool[at:at + TOKEN_RANDOM_BYTES])
            at += TOKEN_RANDOM_BYTES
        else:
            drawn.append(b"")
    if count < MIN_GROUP:
        return iter(_seal_chunk(jobs, drawn))
    executor = _executor()
    futures: list[Future[list[str | None]]] = [
        executor.submit(_seal_chunk, jobs[i:i + CHUNK], drawn[i:i + CHUNK]) for i in range(0, len(jobs), CHUNK)]
    return _in_order(futures)


def _in_order(futures: list[Future[list[str | None]]]) -> Iterator[str | None]:
    try:
        for future in futures:
            yield from future.result()
    finally:  # the appender stopped early (an error): the chunks not started are not sealed for nothing
        for future in futures:
            future.cancel()
