"""The ``Resolver``: dispatches DIDs to the methods it was given (STYLE.md §3).

There is no module-level registry: a resolver knows exactly the methods passed to it, so a
verifier that was not given a networked method cannot open a socket by resolving.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

from ..errors import (
    INVALID_OPTIONS,
    METHOD_NOT_SUPPORTED,
    NOT_FOUND,
    REPRESENTATION_NOT_SUPPORTED,
    ResolutionError,
)
from ._document import DIDDocument, JSONObject, VerificationMethod
from ._syntax import DID, DIDURL

DID_LD_JSON = "application/did+ld+json"
DID_JSON = "application/did+json"


@dataclass(frozen=True, slots=True)
class ResolutionOptions:
    """DID Resolution options; ``properties`` holds method-specific ones (e.g. did:key's)."""

    accept: str = DID_LD_JSON
    version_id: str | None = None
    version_time: datetime | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.accept not in (DID_LD_JSON, DID_JSON):
            raise ResolutionError(REPRESENTATION_NOT_SUPPORTED, f"unsupported representation {self.accept!r}")
        if self.version_id is not None and self.version_time is not None:
            raise ResolutionError(INVALID_OPTIONS, "versionId and versionTime are mutually exclusive")
        if self.version_time is not None and self.version_time.tzinfo is None:
            raise ResolutionError(INVALID_OPTIONS, "versionTime must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ResolutionResult:
    """A successful resolution: the document and both metadata maps (DID Resolution §4)."""

    did_document: JSONObject
    did_document_metadata: JSONObject = field(default_factory=dict)
    did_resolution_metadata: JSONObject = field(default_factory=dict)
    _view: DIDDocument | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def document(self) -> DIDDocument:
        """The read-only :class:`DIDDocument` view of ``did_document``, built once: a result a
        :class:`~kaga_vc.did.DocumentCache` hands out again keeps its methods already read."""
        view = self._view
        if view is None:
            view = DIDDocument(self.did_document)
            object.__setattr__(self, "_view", view)
        return view

    def to_json(self) -> JSONObject:
        return {
            "didDocument": self.did_document,
            "didDocumentMetadata": self.did_document_metadata,
            "didResolutionMetadata": self.did_resolution_metadata,
        }


# the default options, built once (read-only properties: one instance is shared by every resolution)
_DEFAULT_OPTIONS = ResolutionOptions(properties=MappingProxyType({}))


class DIDMethod(Protocol):
    """One DID method's resolver."""

    method: ClassVar[str]

    def resolve(self, did: DID, options: ResolutionOptions) -> ResolutionResult: ...


class Resolver:
    """Resolve DIDs and dereference verification methods with the given methods only."""

    def __init__(self, methods: Mapping[str, DIDMethod]) -> None:
        self._methods = dict(methods)

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self._methods)

    def with_method(self, method: DIDMethod) -> Resolver:
        """A new resolver with one more (or a replaced) method."""
        return Resolver({**self._methods, method.method: method})

    def resolve(self, did: str | DID, options: ResolutionOptions | None = None) -> ResolutionResult:
        """Resolve ``did``; raise :class:`ResolutionError` with a DID Resolution error code."""
        parsed = did if isinstance(did, DID) else DID.parse(did)
        method = self._methods.get(parsed.method)
        if method is None:
            raise ResolutionError(METHOD_NOT_SUPPORTED, f"DID method {parsed.method!r} is not configured")
        options = options or _DEFAULT_OPTIONS
        result = method.resolve(parsed, options)
        if options.accept == DID_JSON:
            doc = {k: v for k, v in result.did_document.items() if k != "@context"}
            meta = {**result.did_resolution_metadata, "contentType": DID_JSON}
            return ResolutionResult(doc, result.did_document_metadata, meta)
        return result

    def resolve_document(self, did: str | DID, options: ResolutionOptions | None = None) -> DIDDocument:
        return self.resolve(did, options).document

    def dereference_verification_method(
        self,
        method_id: str,
        *,
        relationship: str | None = None,
        options: ResolutionOptions | None = None,
    ) -> tuple[VerificationMethod, DIDDocument]:
        """Find the verification method a DID URL names (and, if asked, check its relationship).

        Raises :class:`ResolutionError` ``notFound`` when the document has no such method, or
        when ``relationship`` is given and the method is not listed under it.
        """
        url = DIDURL.parse(method_id)
        if not url.fragment:
            raise ResolutionError(NOT_FOUND, "a verification method id needs a fragment")
        document = self.resolve_document(url.did, options)
        vm = document.verification_method(str(url))
        if vm is None:
            raise ResolutionError(NOT_FOUND, f"{method_id} is not in the DID document")
        if relationship is not None and not document.has_relationship(vm.id, relationship):
            raise ResolutionError(NOT_FOUND, f"{method_id} is not authorised for {relationship}")
        return vm, document
