"""W3C Bitstring Status List v1.0: the bitstring, status entries, the issuer's lists, offline checking.

https://www.w3.org/TR/vc-bitstring-status-list/ — revocation and suspension. The verify path uses
:func:`apply_status` and a :class:`StatusListSource`; the issuer uses :class:`StatusLists` over a
:class:`StatusStore` (``kaga_vc.issuer.records.IssuanceStore``). Nothing here touches a database
driver or the network.
"""

from __future__ import annotations

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
