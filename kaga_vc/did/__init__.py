"""DIDs: syntax, documents, the ``Resolver`` and the did:key method (did:ethr and did:web plug in)."""

from __future__ import annotations

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
