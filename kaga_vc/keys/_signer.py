"""The ``Signer`` plug point (STYLE.md §3): anything that signs bytes for one verification method."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ._types import KeyType

if TYPE_CHECKING:  # an annotation only: verifying imports no private-key machinery
    from ._private import PrivateKey


@runtime_checkable
class Signer(Protocol):
    """Signs for one verification method; ``key_id`` is that method's DID URL."""

    @property
    def key_id(self) -> str: ...

    @property
    def key_type(self) -> KeyType: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class KeySigner:
    """A :class:`Signer` backed by an in-memory :class:`PrivateKey`."""

    key: PrivateKey
    key_id: str

    @property
    def key_type(self) -> KeyType:
        return self.key.key_type

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)
