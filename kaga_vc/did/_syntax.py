"""DID and DID URL syntax (DID Core §3.1, §3.2), parsed strictly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import INVALID_DID, INVALID_DID_URL, ResolutionError

# DID Core §3.1 ABNF: did = "did:" method-name ":" method-specific-id
_PCT = r"%[0-9A-Fa-f]{2}"
_IDCHAR = rf"(?:[A-Za-z0-9._-]|{_PCT})"
_DID_RE = re.compile(rf"^did:([a-z0-9]+):((?:{_IDCHAR}*:)*{_IDCHAR}+)$")
_URL_RE = re.compile(r"^(did:[^/?#]+)([^?#]*)(?:\?([^#]*))?(?:#(.*))?$")
_FRAGMENT_RE = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$")
MAX_DID_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class DID:
    """A parsed DID: ``did:<method>:<method_specific_id>``."""

    method: str
    method_specific_id: str

    @classmethod
    def parse(cls, text: str) -> DID:
        if not isinstance(text, str) or len(text) > MAX_DID_LENGTH:
            raise ResolutionError(INVALID_DID, "a DID must be a string of at most 2048 characters")
        if cls is DID:
            return _parse_did(text)
        return cls._parse(text)

    @classmethod
    def _parse(cls, text: str) -> DID:
        match = _DID_RE.match(text)
        if not match:
            raise ResolutionError(INVALID_DID, f"not a valid DID: {text[:100]!r}")
        return cls(match.group(1), match.group(2))

    def __str__(self) -> str:
        return f"did:{self.method}:{self.method_specific_id}"


@dataclass(frozen=True, slots=True)
class DIDURL:
    """A parsed DID URL: a DID with optional path, query and fragment."""

    did: DID
    path: str = ""
    query: str | None = None
    fragment: str | None = None

    @classmethod
    def parse(cls, text: str) -> DIDURL:
        if not isinstance(text, str) or len(text) > MAX_DID_LENGTH:
            raise ResolutionError(INVALID_DID_URL, "a DID URL must be a string of at most 2048 characters")
        if cls is DIDURL:
            return _parse_did_url(text)
        return cls._parse(text)

    @classmethod
    def _parse(cls, text: str) -> DIDURL:
        match = _URL_RE.match(text)
        if not match:
            raise ResolutionError(INVALID_DID_URL, f"not a valid DID URL: {text[:100]!r}")
        try:
            did = DID.parse(match.group(1))
        except ResolutionError:
            raise ResolutionError(INVALID_DID_URL, f"not a valid DID URL: {text[:100]!r}") from None
        fragment = match.group(4)
        if fragment is not None and not _FRAGMENT_RE.match(fragment):
            raise ResolutionError(INVALID_DID_URL, "invalid characters in the DID URL fragment")
        return cls(did, match.group(2), match.group(3), fragment)

    def __str__(self) -> str:
        out = str(self.did) + self.path
        if self.query is not None:
            out += "?" + self.query
        if self.fragment is not None:
            out += "#" + self.fragment
        return out


#: how many DID / DID URL strings keep their parse (both are frozen values; a verifier sees few issuers)
PARSED_DIDS = 4096


@lru_cache(maxsize=PARSED_DIDS)
def _parse_did(text: str) -> DID:
    return DID._parse(text)


@lru_cache(maxsize=PARSED_DIDS)
def _parse_did_url(text: str) -> DIDURL:
    return DIDURL._parse(text)
