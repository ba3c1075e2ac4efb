"""The issuer's side of Bitstring Status Lists: index allocation, status changes, signed list credentials.

Indices are drawn uniformly at random from the current list and claimed durably in a
:class:`StatusStore` (the issuance records) before they are handed out, with a uniqueness constraint
doing the final check: an index is never given twice, even across processes or after a crash (a
claimed index whose credential was never recorded is simply left unused). ``CityIssuer.issue`` claims
inside the transaction that records the credential (``conn=``), so both commit, or neither, before the
credential is returned. Random allocation keeps an
index from telling when a credential was issued (Bitstring Status List v1.0 §6 privacy).

One index serves both purposes: a credential at index *i* of list *L* has bit *i* of *L*'s revocation
list and bit *i* of *L*'s suspension list. The bits are not stored: they are computed from the records
(revoked / currently suspended) when the lists are built, so records and lists cannot disagree.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any, Protocol
from urllib.parse import urlsplit

from .._files import write_atomically
from ..errors import MALFORMED_VALUE_ERROR, STATUS_LIST_FULL, InputError, StatusError
from ._bitstring import MIN_ENTRIES, BitstringStatusList
from ._entry import LIST_CREDENTIAL_TYPE, LIST_TYPE, StatusEntry, StatusPurpose

JSONObject = dict[str, Any]

DEFAULT_MAX_FILL = 0.75
#: how long a published status list credential is valid unless the caller says otherwise (issue 13)
DEFAULT_LIST_VALIDITY = timedelta(days=7)
"""Open a new list once this share of the current one is allocated (keeps random probing cheap)."""

VC_V2 = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True, slots=True)
class StatusListInfo:
    """A list as the store knows it: id, number of entries, how many are allocated, when it was opened."""

    list_id: str
    size: int
    allocated: int
    created_at: datetime


class StatusStore(Protocol):
    """What :class:`StatusLists` needs from persistent storage (``kaga_vc.issuer.records.IssuanceStore``)."""

    def current_status_list(self, *, conn: Any = None) -> StatusListInfo | None:
        """The newest list, or None before the first allocation (read in ``conn`` if given)."""
        ...

    def create_status_list(self, list_id: str, size: int, created_at: datetime, *, conn: Any = None) -> StatusListInfo:
        ...

    def claim_status_index(self, list_id: str, index: int, at: datetime, *, conn: Any = None) -> bool:
        """Durably claim ``index`` of ``list_id``; False if it was already claimed (nothing changed).

        With ``conn`` (a transaction of the store's own, e.g. ``IssuanceStore.transaction()``) the claim
        is part of that transaction: it is durable when the caller commits, and undone if it rolls back.
        """
        ...

    def status_lists(self) -> list[StatusListInfo]:
        ...

    def flagged_indices(self, list_id: str, purpose: str) -> list[int]:
        """Indices of ``list_id`` whose bit is set for ``purpose`` (revoked / currently suspended)."""
        ...

    def mark(self, credential_id: str, status: str, at: datetime | None = None, *, staff: str | None = None) -> Any:
        ...


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _xsd(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _xsd_ms(value: datetime) -> str:
    """``xsd:dateTime`` to the millisecond: two publications in one second must still be ordered."""
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


class StatusLists:
    """Allocate status entries, change statuses, and build / publish the signed status list credentials.

    ``base_url`` is where the lists are served: list ``L``'s credential for purpose ``p`` is
    ``{base_url}/{L}/{p}`` (the URL written into every credential's ``statusListCredential``).
    """

    REFRESH = 256

    def __init__(
        self,
        store: StatusStore,
        base_url: str,
        *,
        list_size: int = MIN_ENTRIES,
        max_fill: float = DEFAULT_MAX_FILL,
        purposes: Sequence[str] = (StatusPurpose.REVOCATION.value, StatusPurpose.SUSPENSION.value),
        rng: Random | None = None,
    ) -> None:
        if urlsplit(base_url).scheme not in ("https", "http"):
            raise InputError(MALFORMED_VALUE_ERROR, "the status list base URL must be an http(s) URL")
        if list_size < MIN_ENTRIES or list_size % 8:
            raise InputError(MALFORMED_VALUE_ERROR, f"a status list needs at least {MIN_ENTRIES} entries (a multiple of 8)")
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.list_size = list_size
        self.max_fill = max_fill
        self.purposes = tuple(StatusPurpose(p).value for p in purposes)
        self._rng = rng or secrets.SystemRandom()
        self._current: tuple[str, int, int] | None = None  # (list id, size, allocated) as last known
        self._since_refresh = 0

    # -- allocation -------------------------------------------------------------------------------

    def url(self, list_id: str, purpose: str) -> str:
        return f"{self.base_url}/{list_id}/{StatusPurpose(purpose).value}"

    def forget(self) -> None:
        """Drop what is cached about the current list (after a caller's transaction was rolled back)."""
        self._current = None
        self._since_refresh = 0

    def _open_list(self, now: datetime, conn: Any) -> tuple[str, int]:
        # The current list and its fill are re-read from the store every REFRESH allocations (and
        # after a miss); in between they are counted here. Only the choice of when to open a new
        # list depends on it: the uniqueness of an index never does (the store enforces that).
        if self._current is None or self._since_refresh >= self.REFRESH:
            info = self.store.current_status_list() if conn is None else self.store.current_status_list(conn=conn)
            self._current = None if info is None else (info.list_id, info.size, info.allocated)
            self._since_refresh = 0
        if self._current is None or self._current[2] >= self._current[1] * self.max_fill:
            info = self._create(now, conn)
            self._current = (info.list_id, info.size, 0)
        return self._current[0], self._current[1]

    def _create(self, now: datetime, conn: Any) -> StatusListInfo:
        if conn is None:
            return self.store.create_status_list(secrets.token_hex(8), self.list_size, now)
        return self.store.create_status_list(secrets.token_hex(8), self.list_size, now, conn=conn)

    def _claim(self, list_id: str, index: int, now: datetime, conn: Any) -> bool:
        if conn is None:
            return self.store.claim_status_index(list_id, index, now)
        return self.store.claim_status_index(list_id, index, now, conn=conn)

    def allocate_index(self, *, now: datetime | None = None, conn: Any = None) -> tuple[str, int]:
        """Claim a fresh random index: ``(list_id, index)``, never handed out before.

        ``conn``: claim inside the caller's store transaction (see :meth:`StatusStore.claim_status_index`);
        call :meth:`forget` if that transaction is rolled back.
        """
        now = _now(now)
        for _ in range(8):  # a few new lists at most, should another process fill them concurrently
            list_id, size = self._open_list(now, conn)
            for _ in range(64):  # at ≤ 75 % fill, 64 misses in a row has probability < 1e-8
                index = self._rng.randrange(size)
                if self._claim(list_id, index, now, conn):
                    assert self._current is not None
                    self._current = (list_id, size, self._current[2] + 1)
                    self._since_refresh += 1
                    return list_id, index
                self._since_refresh = self.REFRESH  # someone else is allocating too: look again
            info = self._create(now, conn)
            self._current = (info.list_id, info.size, 0)
        raise StatusError(STATUS_LIST_FULL, "could not allocate a status list index")

    def entries(self, list_id: str, index: int, purposes: Iterable[str] | None = None) -> tuple[StatusEntry, ...]:
        """The status entries (one per purpose) of the credential at ``index`` of ``list_id``."""
        return tuple(StatusEntry(StatusPurpose(p).value, list_id, index, self.url(list_id, p))
                     for p in (purposes or self.purposes))

    def allocate_entries(self, *, now: datetime | None = None, conn: Any = None) -> tuple[StatusEntry, ...]:
        """One fresh index, with an entry for every configured purpose (revocation and suspension)."""
        list_id, index = self.allocate_index(now=now, conn=conn)
        return self.entries(list_id, index)

    def allocate(self, purpose: str = StatusPurpose.REVOCATION.value, *, now: datetime | None = None) -> StatusEntry:
        """One fresh index with the entry for ``purpose`` only."""
        list_id, index = self.allocate_index(now=now)
        return self.entries(list_id, index, [purpose])[0]

    # -- status changes (the transitions are enforced by the store, atomically) --------------------

    def revoke(self, credential_id: str, *, at: datetime | None = None, staff: str | None = None) -> Any:
        """Revoke for good: a revoked credential can be neither suspended nor restored."""
        return self.store.mark(credential_id, "revoked", _now(at), staff=staff)

    def suspend(self, credential_id: str, *, at: datetime | None = None, staff: str | None = None) -> Any:
        return self.store.mark(credential_id, "suspended", _now(at), staff=staff)

    def unsuspend(self, credential_id: str, *, at: datetime | None = None, staff: str | None = None) -> Any:
        return self.store.mark(credential_id, "active", _now(at), staff=staff)

    # -- the lists and their credentials -----------------------------------------------------------

    def bitstring(self, list_id: str, purpose: str) -> BitstringStatusList:
        info = next((i for i in self.store.status_lists() if i.list_id == list_id), None)
        if info is None:
            raise InputError(MALFORMED_VALUE_ERROR, f"no status list {list_id!r}")
        bits = BitstringStatusList(info.size)
        for index in self.store.flagged_indices(list_id, StatusPurpose(purpose).value):
            bits.set(index)
        return bits

    def unsigned_list_credential(
        self, list_id: str, purpose: str, *, issuer: str, now: datetime | None = None, ttl: timedelta | None = None,
        valid_for: timedelta | None = None,
    ) -> JSONObject:
        """The ``BitstringStatusListCredential`` (VCDM 2.0) for one list and purpose, not yet signed.

        It always carries ``validFrom`` and ``validUntil`` (``valid_for``, default
        :data:`DEFAULT_LIST_VALIDITY`): a list without an end would let anyone who kept an old copy
        (taken before a revocation) present it forever; an expired list is "could not check".
        """
        now = _now(now)
        valid_for = DEFAULT_LIST_VALIDITY if valid_for is None else valid_for
        if valid_for <= timedelta(0):
            raise InputError(MALFORMED_VALUE_ERROR, "a status list's validity must be positive")
        url = self.url(list_id, purpose)
        credential: JSONObject = {
            "@context": [VC_V2],
            "id": url,
            "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
            "issuer": issuer,
            "validFrom": _xsd_ms(now),  # verifiers order lists by it (StatusListMemory)
            "credentialSubject": {
                "id": f"{url}#list",
                "type": LIST_TYPE,
                "statusPurpose": StatusPurpose(purpose).value,
                "encodedList": self.bitstring(list_id, purpose).encode(),
            },
        }
        credential["validUntil"] = _xsd(now + valid_for)
        if ttl is not None:
            credential["credentialSubject"]["ttl"] = int(ttl.total_seconds() * 1000)
        return credential

    def build_all(
        self, sign: Callable[[JSONObject], str | JSONObject], *, issuer: str, now: datetime | None = None,
        ttl: timedelta | None = None, valid_for: timedelta | None = None,
    ) -> dict[str, str | JSONObject]:
        """Every list × purpose, signed by ``sign`` (e.g. ``lambda c: issue_credential(c, signer=s)``), by URL."""
        out: dict[str, str | JSONObject] = {}
        for info in self.store.status_lists():
            for purpose in self.purposes:
                unsigned = self.unsigned_list_credential(info.list_id, purpose, issuer=issuer, now=now, ttl=ttl,
                                                         valid_for=valid_for)
                out[unsigned["id"]] = sign(unsigned)
        return out

    def publish(
        self, out: str | Path, sign: Callable[[JSONObject], str | JSONObject], *, issuer: str,
        now: datetime | None = None, ttl: timedelta | None = None, valid_for: timedelta | None = None,
        as_directory: bool | None = None,
    ) -> list[Path]:
        """Write the signed lists: into a directory (one file per URL path below ``base_url``, for a web
        server) when ``as_directory`` (default: ``out`` is an existing directory or a string ending in ``/``);
        else one JSON file ``{url: credential}``.

        Files are replaced atomically, so a web server never serves half a list.
        """
        documents = self.build_all(sign, issuer=issuer, now=now, ttl=ttl, valid_for=valid_for)
        target = Path(out)
        if as_directory is None:
            as_directory = target.is_dir() or (isinstance(out, str) and out.endswith(("/", os.sep)))
        if as_directory:
            written = []
            for url, document in documents.items():
                relative = url[len(self.base_url) + 1:]
                path = target.joinpath(*relative.split("/"))
                write_atomically(path, (document if isinstance(document, str) else json.dumps(document, indent=2)) + "\n", mode=0o644)
                written.append(path)
            return written
        write_atomically(target, json.dumps(documents, indent=2, ensure_ascii=False) + "\n", mode=0o644)
        return [target]


class IndexReservations:
    """Random status indices chosen in memory for a group of credentials, claimed later in the group's
    commit transaction (``IssuanceStore.claim_status_indices``).

    The indices already claimed in the current list are read once (and again after a new list is
    opened); a reservation avoids them and every earlier reservation of this process. Another process
    can still claim the same index first: the commit then reports it as taken and that credential is
    signed again with a new reservation (see :mod:`kaga_vc.issuer.batch`), so uniqueness rests on the
    store alone, as with :meth:`StatusLists.allocate_index`.
    """

    def __init__(self, lists: StatusLists) -> None:
        self.lists = lists
        self._list: tuple[str, int] | None = None
        self._used: set[int] = set()

    def reserve(self, count: int, *, now: datetime | None = None) -> list[tuple[str, int]]:
        now = _now(now)
        out: list[tuple[str, int]] = []
        rng = self.lists._rng
        while len(out) < count:
            if self._list is None or len(self._used) >= self._list[1] * self.lists.max_fill:
                self._open(now)
            assert self._list is not None
            list_id, size = self._list
            index = rng.randrange(size)
            if index in self._used:
                continue
            self._used.add(index)
            out.append((list_id, index))
        return out

    def taken(self, list_id: str, index: int) -> None:
        """An index another process claimed first: never reserve it again."""
        if self._list is not None and self._list[0] == list_id:
            self._used.add(index)

    def _open(self, now: datetime) -> None:
        store: Any = self.lists.store
        info = store.current_status_list()
        if info is None or (self._list is not None and info.list_id == self._list[0]) \
                or info.allocated >= info.size * self.lists.max_fill:
            info = self.lists._create(now, None)
        self._list = (info.list_id, info.size)
        self._used = set(store.allocated_indices(info.list_id))
        self.lists.forget()
