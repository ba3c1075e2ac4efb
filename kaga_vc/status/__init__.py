"""W3C Bitstring Status List v1.0: the bitstring, status entries, the issuer's lists, offline checking.

https://www.w3.org/TR/vc-bitstring-status-list/ — revocation and suspension. The verify path uses
:func:`apply_status` and a :class:`StatusListSource`; the issuer uses :class:`StatusLists` over a
:class:`StatusStore` (``kaga_vc.issuer.records.IssuanceStore``). Nothing here touches a database
driver or the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_namespace

if TYPE_CHECKING:
    from ._bitstring import MIN_ENTRIES, BitstringStatusList
    from ._check import VerifiedListCache, apply_status, check_entry
    from ._entry import (
        ENTRY_TYPE,
        LIST_CREDENTIAL_TYPE,
        LIST_TYPE,
        StatusEntry,
        StatusPurpose,
        parse_entry,
        status_entries_of,
    )
    from ._lists import IndexReservations, StatusListInfo, StatusLists, StatusStore
    from ._memory import RememberingStatusListSource, StatusListMemory, default_status_memory_path
    from ._source import (
        DirectoryStatusListSource,
        FileStatusListSource,
        MappingStatusListSource,
        StatusListDocument,
        StatusListSource,
        load_status_lists,
    )

__all__ = [
    "ENTRY_TYPE",
    "LIST_CREDENTIAL_TYPE",
    "LIST_TYPE",
    "MIN_ENTRIES",
    "BitstringStatusList",
    "DirectoryStatusListSource",
    "FileStatusListSource",
    "IndexReservations",
    "MappingStatusListSource",
    "RememberingStatusListSource",
    "StatusEntry",
    "StatusListDocument",
    "StatusListInfo",
    "StatusListMemory",
    "StatusListSource",
    "StatusLists",
    "StatusPurpose",
    "StatusStore",
    "VerifiedListCache",
    "apply_status",
    "check_entry",
    "default_status_memory_path",
    "load_status_lists",
    "parse_entry",
    "status_entries_of",
]

# a public name's module is imported on first use (PEP 562): the verify path loads no issuer-side lists
_LAZY: dict[str, str] = {
    "MIN_ENTRIES": "._bitstring",
    "BitstringStatusList": "._bitstring",
    "VerifiedListCache": "._check",
    "apply_status": "._check",
    "check_entry": "._check",
    "ENTRY_TYPE": "._entry",
    "LIST_CREDENTIAL_TYPE": "._entry",
    "LIST_TYPE": "._entry",
    "StatusEntry": "._entry",
    "StatusPurpose": "._entry",
    "parse_entry": "._entry",
    "status_entries_of": "._entry",
    "IndexReservations": "._lists",
    "StatusListInfo": "._lists",
    "StatusLists": "._lists",
    "StatusStore": "._lists",
    "RememberingStatusListSource": "._memory",
    "StatusListMemory": "._memory",
    "default_status_memory_path": "._memory",
    "DirectoryStatusListSource": "._source",
    "FileStatusListSource": "._source",
    "MappingStatusListSource": "._source",
    "StatusListDocument": "._source",
    "StatusListSource": "._source",
    "load_status_lists": "._source",
}


__getattr__, __dir__ = lazy_namespace(__name__, _LAZY, globals())
