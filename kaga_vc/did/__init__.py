"""DIDs: syntax, documents, the ``Resolver`` and the did:key method (did:ethr and did:web plug in)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._cache import DocumentCache
    from ._document import RELATIONSHIPS, DIDDocument, VerificationMethod
    from ._resolver import DID_JSON, DID_LD_JSON, DIDMethod, ResolutionOptions, ResolutionResult, Resolver
    from ._syntax import DID, DIDURL
    from .key import KeyMethod, did_key_from_public_key, public_key_from_did_key

__all__ = [
    "DID",
    "DIDURL",
    "DID_JSON",
    "DID_LD_JSON",
    "RELATIONSHIPS",
    "DIDDocument",
    "DIDMethod",
    "DocumentCache",
    "KeyMethod",
    "ResolutionOptions",
    "ResolutionResult",
    "Resolver",
    "VerificationMethod",
    "did_key_from_public_key",
    "public_key_from_did_key",
]

# a public name's module is imported on first use (PEP 562): the offline verify loads only what it runs
_LAZY: dict[str, str] = {
    "DocumentCache": "._cache",
    "RELATIONSHIPS": "._document",
    "DIDDocument": "._document",
    "VerificationMethod": "._document",
    "DID_JSON": "._resolver",
    "DID_LD_JSON": "._resolver",
    "DIDMethod": "._resolver",
    "ResolutionOptions": "._resolver",
    "ResolutionResult": "._resolver",
    "Resolver": "._resolver",
    "DID": "._syntax",
    "DIDURL": "._syntax",
    "KeyMethod": ".key",
    "did_key_from_public_key": ".key",
    "public_key_from_did_key": ".key",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
