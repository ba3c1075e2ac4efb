"""Status purposes and ``BitstringStatusListEntry`` values (Bitstring Status List v1.0 §2.1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import MALFORMED_VALUE_ERROR, InputError

JSONObject = dict[str, Any]

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
_INDEX = re.compile(r"^(0|[1-9][0-9]{0,17})$")


class StatusPurpose(str, Enum):
    """The purposes this project issues and checks (``message`` / ``refresh`` are read, not issued)."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """One credential's place in one status list: list, index, purpose and the list credential's URL."""

    purpose: str
    list_id: str
    index: int
    status_list_credential: str
    status_size: int = 1

    @property
    def id(self) -> str:
        return f"{self.status_list_credential}#{self.index}"

    def to_credential_status(self) -> JSONObject:
        """The ``credentialStatus`` member for a credential (a ``BitstringStatusListEntry``)."""
        entry: JSONObject = {
            "id": self.id,
            "type": ENTRY_TYPE,
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.status_list_credential,
        }
        if self.status_size != 1:
            entry["statusSize"] = self.status_size
        return entry


def parse_entry(value: Any) -> StatusEntry:
    """Read a ``BitstringStatusListEntry``; ``InputError(MALFORMED_VALUE_ERROR)`` when a member is wrong."""
    if not isinstance(value, dict) or value.get("type") != ENTRY_TYPE:
        raise InputError(MALFORMED_VALUE_ERROR, f"credentialStatus is not a {ENTRY_TYPE}")
    purpose, index, url = value.get("statusPurpose"), value.get("statusListIndex"), value.get("statusListCredential")
    if not isinstance(purpose, str) or not purpose:
        raise InputError(MALFORMED_VALUE_ERROR, "statusPurpose must be a non-empty string")
    if not isinstance(index, str) or not _INDEX.match(index):
        raise InputError(MALFORMED_VALUE_ERROR, "statusListIndex must be a non-negative integer written as a string")
    if not isinstance(url, str) or ":" not in url:
        raise InputError(MALFORMED_VALUE_ERROR, "statusListCredential must be a URL")
    size = value.get("statusSize", 1)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 8:
        raise InputError(MALFORMED_VALUE_ERROR, "statusSize must be an integer from 1 to 8")
    return StatusEntry(purpose, "", int(index), url, size)


def status_entries_of(credential: JSONObject) -> list[Any] | None:
    """The status entries a credential carries, wherever its format puts them (None when it has none).

    VCDM: ``credentialStatus``; VC 1.1 JWT: ``vc.credentialStatus``; SD-JWT VC: the ``status`` claim, which
    our issuer fills with ``BitstringStatusListEntry`` values (the IETF Token Status List is not used).
    """
    value: Any = None
    if "credentialStatus" in credential:
        value = credential["credentialStatus"]
    elif isinstance(credential.get("vc"), dict) and "credentialStatus" in credential["vc"]:
        value = credential["vc"]["credentialStatus"]
    elif "status" in credential:
        value = credential["status"]
    else:
        return None
    return value if isinstance(value, list) else [value]
