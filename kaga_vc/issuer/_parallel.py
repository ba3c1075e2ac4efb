"""Signing a batch's rows across cores: the ``issue_group`` of :func:`kaga_vc.issuer.batch.run_batch`.

The parent process reserves the group's status indices (:class:`kaga_vc.status.IndexReservations`)
and hands ``(row, list id, index)`` jobs to a pool of worker processes, each holding the city's
assertion keys and a :class:`CityIssuer` without records; a worker validates the row, builds the
credential with the reserved status entries and signs it. Nothing is claimed or recorded in a worker:
the batch engine claims the indices and records the credentials of the whole group in one transaction
in the parent, and releases them only after that commit.

The keys reach the workers through the pool's initializer (a pipe between processes of the same
user), never through a file. With one worker (or a small batch) everything runs in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import datetime
from typing import Any

from ..errors import KagaError
from ..keys import KeyType, PrivateKey
from ._issued import Issued

_WORKER: dict[str, Any] = {}
MIN_ROWS_PER_WORKER = 200
"""Below this many rows per worker, starting processes costs more than it saves."""


class _Reserved:
    """A :class:`StatusAllocator` that hands out the entries reserved for the current row."""

    def __init__(self, lists: Any) -> None:
        self.lists = lists
        self.current: tuple[str, int] | None = None

    def allocate_entries(self, *, now: datetime | None = None, conn: Any = None) -> Sequence[Any]:
        assert self.current is not None
        entries: Sequence[Any] = self.lists.entries(*self.current)
        return entries


def _make_issuer(config: dict[str, Any], ed25519: bytes, secp256k1: bytes, base_url: str) -> tuple[Any, _Reserved]:
    from ..status import StatusLists
    from .service import CityConfig, CityIssuer

    class _NoStore:  # entries() only needs the base URL; nothing is read or claimed here
        pass

    reserved = _Reserved(StatusLists(_NoStore(), base_url))  # type: ignore[arg-type]
    issuer = CityIssuer(CityConfig.from_json(config), ed25519=PrivateKey.from_bytes(KeyType.ED25519, ed25519),
                        secp256k1=PrivateKey.from_bytes(KeyType.SECP256K1, secp256k1), status=reserved)
    return issuer, reserved


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when the batch process dies (SIGKILL included): no orphan keeps
    signing, or holding the city's keys in memory, after its run."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _init_worker(parent: int | None, config: dict[str, Any], ed25519: bytes, secp256k1: bytes, base_url: str,
                 fmt: str, staff: str) -> None:
    if parent is not None:
        _die_with(parent)
    issuer, reserved = _make_issuer(config, ed25519, secp256k1, base_url)
    _WORKER.update(issuer=issuer, reserved=reserved, format=fmt, staff=staff)
    if parent is not None:  # a worker: import what signing needs while the parent reads the journal
        from ..credentials.digest import credential_digest  # noqa: F401
        from .service import row_claims  # noqa: F401

        if fmt == "dc+sd-jwt":
            from ..proofs.jose import sd_jwt  # noqa: F401
        elif fmt == "data-integrity":
            from ..credentials import issue_credential  # noqa: F401


_Signed = tuple[str, str, str | None, str | None, int | None, str, datetime, str, str, str, str | None]
"""A signed row on its way back to the parent: the fields of an :class:`Issued` but ``staff`` and
``claimed`` (the same for every row of the batch), as a plain tuple — an ``Issued`` dataclass costs
some 15 µs to pickle and unpickle, a tuple of strings well under one."""


def _issue_jobs(jobs: list[tuple[Mapping[str, str], str, int]]) -> list[_Signed | tuple[str, str]]:
    """Issue ``(row, list id, index)`` jobs with this process's issuer (a worker, or the parent);
    a rejected row is ``(code, detail)`` (a KagaError does not survive pickling with its code)."""
    from ..credentials.digest import credential_digest
    from .service import row_claims

    issuer, reserved, fmt, staff = _WORKER["issuer"], _WORKER["reserved"], _WORKER["format"], _WORKER["staff"]
    out: list[_Signed | tuple[str, str]] = []
    for row, list_id, index in jobs:
        reserved.current = (list_id, index)
        try:
            kind, subject, claims = row_claims(row)
            issued = issuer.issue(kind, subject, claims, format=fmt, staff=staff, record=False)
        except KagaError as error:
            out.append((error.code, error.detail))
            continue
        out.append((issued.id, issued.kind.type_name, issued.subject, issued.status_list_id, issued.status_index,
                    issued.format, issued.issued_at, issued.serialise(),
                    "json" if isinstance(issued.document, dict) else "jwt",
                    credential_digest(issued.document).hex(), issued.verification_method))
    return out


def _issued(result: _Signed | tuple[str, str], staff: str) -> Issued | KagaError:
    if len(result) == 2:
        return KagaError(result[0], result[1])
    cid, type_name, subject, list_id, index, fmt, issued_at, document, extension, digest, method = result
    return Issued(cid, type_name, subject, list_id, index, fmt, staff, issued_at, document, extension,
                  claimed=False, digest=digest, verification_method=method)


def _ready() -> int:
    return os.getpid()


def default_workers() -> int:
    """One signing process per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class ParallelIssuer:
    """``issue_group`` for the city's batch: reserve status indices here, sign in ``workers`` processes."""

    def __init__(self, issuer: Any, fmt: str, staff: str, *, workers: int | None = None, rows: int = 0) -> None:
        from ..status import IndexReservations

        status = issuer.status
        if status is None or not hasattr(status, "entries"):
            raise TypeError("the city issuer needs its status lists for batch issuance")
        self.reservations = IndexReservations(status)
        if workers is None:
            workers = default_workers()
            if rows and rows < workers * MIN_ROWS_PER_WORKER:
                workers = 1
        workers = max(1, workers)
        self.workers = workers
        self.staff = staff
        init = (issuer.config.to_json(), issuer.ed25519_signer.key.to_bytes(),
                issuer.secp256k1_signer.key.to_bytes(), status.base_url, fmt, staff)
        self._pool: Executor | None = None
        if workers > 1:
            # spawn, not fork: a forked worker would inherit this process's database connections (and
            # keep a killed run's PostgreSQL advisory lock alive); each worker dies with this process
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_worker, initargs=(os.getpid(), *init))
            # the pool starts a process per submitted task: start them all now, so that they import and
            # set up while this process reads the journal and repairs the output, not after
            for _ in range(workers):
                self._pool.submit(_ready)
        else:
            _init_worker(None, *init)

    def __call__(self, items: list[tuple[int, Mapping[str, str]]]) -> list[Issued | KagaError]:
        return self.submit(items)()

    def submit(self, items: list[tuple[int, Mapping[str, str]]]) -> Callable[[], list[Issued | KagaError]]:
        """Reserve the group's status indices and start signing it in the pool; the returned call waits
        for the results (in this process, without a pool, the signing happens in that call)."""
        slots = self.reservations.reserve(len(items))
        jobs = [(row, list_id, index) for (_n, row), (list_id, index) in zip(items, slots, strict=True)]
        staff = self.staff

        def convert(results: list[_Signed | tuple[str, str]]) -> list[Issued | KagaError]:
            return [_issued(r, staff) for r in results]

        if self._pool is None:
            return lambda: convert(_issue_jobs(jobs))
        size = max(1, -(-len(jobs) // (self.workers * 2)))
        futures = [self._pool.submit(_issue_jobs, jobs[i:i + size]) for i in range(0, len(jobs), size)]
        return lambda: convert([item for future in futures for item in future.result()])

    def taken(self, list_id: str, index: int) -> None:
        self.reservations.taken(list_id, index)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
