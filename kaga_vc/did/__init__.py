"""DIDs: syntax, documents, the ``Resolver`` and the did:key method (did:ethr and did:web plug in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_namespace

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


__getattr__, __dir__ = lazy_namespace(__name__, _LAZY, globals())
