"""JSON-LD processing for Data Integrity: strict expansion and RDFC-1.0 canonicalisation (pyld).

Three rules on top of pyld:

* every context comes from the caller's document loader (the offline loader by default), and a
  loader failure surfaces as the :class:`~kaga_vc.errors.KagaError` it raised, not as a pyld error;
* expansion that would drop a term (a property no context defines) or leave a relative IRI in
  ``@type`` / ``@id`` is an error (``kaga:undefined-term``): a claim that is silently dropped from
  the canonical form would not be covered by the signature (jsonld.js calls this "safe mode");
* processed contexts are cached per loader, so repeated verifications skip context processing.
  The cache is keyed by context URL *and* loader: one loader always serves the same document for a
  URL (the bundled ones are digest-checked), and another loader gets a cache of its own.

pyld is imported lazily: ``import kaga_vc`` stays light.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import (
    CANONICALIZATION_TOO_COMPLEX,
    DOCUMENT_TOO_DEEP,
    PARSING_ERROR,
    PROOF_TRANSFORMATION_ERROR,
    UNDEFINED_TERM,
    DocumentLoadError,
    InputError,
    KagaError,
    ProofError,
    UnsupportedError,
)

JSONObject = dict[str, Any]
DocumentLoader = Callable[[str, Mapping[str, Any]], JSONObject]

_CACHE_SIZE = 64
_PROCESSED_SIZE = 512
_caches: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_strong_caches: dict[int, tuple[Any, Any]] = {}
_lock = threading.Lock()
_DEFAULT_LOADER: DocumentLoader | None = None


def default_document_loader() -> DocumentLoader:
    """The process-wide offline loader (bundled contexts only), shared so its cache is reused."""
    global _DEFAULT_LOADER
    if _DEFAULT_LOADER is None:
        from ..contexts import default_loader

        _DEFAULT_LOADER = default_loader()
    return _DEFAULT_LOADER


class _UndefinedTerm(Exception):
    def __init__(self, term: str | None) -> None:
        super().__init__(term)
        self.term = term


def _raise_dropped(term: str | None) -> None:
    raise _UndefinedTerm(term)


class _LRU:
    """A small thread-safe LRU mapping (pyld's context resolver only calls ``get`` and ``[]=``)."""

    def __init__(self, maxsize: int, *, processed: bool = True) -> None:
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._maxsize = maxsize
        self._lock = threading.Lock()
        # processed active contexts (see processor()); kept beside the resolved contexts they come from
        self.processed: _LRU | None = _LRU(_PROCESSED_SIZE, processed=False) if processed else None

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            if key not in self._data:
                return default
            self._data.move_to_end(key)
            return self._data[key]

    def __getitem__(self, key: Any) -> Any:
        with self._lock:
            self._data.move_to_end(key)
            return self._data[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        return len(self._data)


def _shared_cache(loader: DocumentLoader) -> _LRU:
    """The resolved-context cache that belongs to ``loader``."""
    with _lock:
        try:
            cache = _caches.get(loader)
            if cache is None:
                cache = _LRU(_CACHE_SIZE)
                _caches[loader] = cache
            return cache
        except TypeError:  # not weak-referenceable (e.g. a bound method): keep it alive with its cache
            entry = _strong_caches.get(id(loader))
            if entry is None or entry[0] is not loader:
                if len(_strong_caches) > _CACHE_SIZE:
                    _strong_caches.clear()
                entry = (loader, _LRU(_CACHE_SIZE))
                _strong_caches[id(loader)] = entry
            return entry[1]


def _static_loader(loader: DocumentLoader) -> DocumentLoader:
    """Tag the loader's documents as static, so pyld keeps their processed form in our cache."""

    def load(url: str, options: Mapping[str, Any] | None = None) -> JSONObject:
        remote = loader(url, options or {})
        if not isinstance(remote, dict) or "document" not in remote:
            raise DocumentLoadError("kaga:context-load-failed", f"document loader returned no document for {url!r}")
        return {**remote, "tag": "static"}

    return load


def _options(loader: DocumentLoader) -> JSONObject:
    from pyld.context_resolver import ContextResolver  # type: ignore[import-untyped]

    wrapped = _static_loader(loader)
    shared = _shared_cache(loader)
    return {
        "documentLoader": wrapped,
        # a fresh resolver per operation (its per-operation cache is unbounded), over a shared,
        # bounded cache that belongs to this loader
        "contextResolver": ContextResolver(shared, wrapped),
        "processingMode": "json-ld-1.1",
        "base": None,
        _MEMO: shared.processed,
    }


_MEMO = "kaga.processedContexts"
_processor_class: Any = None


def processor(**kwargs: Any) -> Any:
    """A pyld ``JsonLdProcessor`` that remembers processed contexts across operations (same loader).

    pyld keys its processed-context cache by the *active context object*, and a type-scoped
    context (``VerifiableCredential``, ``DataIntegrityProof`` …) is applied to a fresh clone each
    time, so it is processed again on every node of every document (most of the cost of expanding
    or compacting a credential). Processing is a pure function of the active context, the local
    context and the flags, and pyld never changes an active context once made (it clones first),
    so the result is remembered under (active context, local context as canonical JSON, flags).
    """
    global _processor_class
    if _processor_class is None:
        import json

        from pyld.jsonld import JsonLdProcessor  # type: ignore[import-untyped]

        class MemoProcessor(JsonLdProcessor):  # type: ignore[misc]
            def _process_context(self, active_ctx: Any, local_ctx: Any, options: Any, override_protected: bool = False,
                                 propagate: bool = True, validate_scoped: bool = True, cycles: Any = None) -> Any:
                memo = options.get(_MEMO)
                uid = active_ctx.get("_uuid") if isinstance(active_ctx, dict) else None
                if memo is None or cycles or uid is None:
                    return super()._process_context(active_ctx, local_ctx, options, override_protected, propagate,
                                                    validate_scoped, cycles)
                try:
                    local = json.dumps(local_ctx, sort_keys=True, separators=(",", ":"))
                except (TypeError, ValueError):
                    return super()._process_context(active_ctx, local_ctx, options, override_protected, propagate,
                                                    validate_scoped, cycles)
                key = (uid, local, override_protected, propagate, validate_scoped, options.get("base"),
                       options.get("processingMode"))
                found = memo.get(key)
                if found is None:
                    found = super()._process_context(active_ctx, local_ctx, options, override_protected, propagate,
                                                     validate_scoped, cycles)
                    memo[key] = found
                return found

        _processor_class = MemoProcessor
    return _processor_class(**kwargs)


def _kaga_cause(error: BaseException) -> KagaError | None:
    """The KagaError (e.g. a DocumentLoadError from our loader) somewhere in pyld's error chain."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, KagaError):
            return current
        if isinstance(current, _UndefinedTerm):
            return ProofError(UNDEFINED_TERM, f"term {current.term!r} is not defined by any context", term=current.term)
        details = getattr(current, "details", None)
        if isinstance(details, dict):
            stack.extend(v for v in details.values() if isinstance(v, BaseException))
        stack.extend([current.__cause__, current.__context__, getattr(current, "cause", None)])
    return None


def _strict_processor(processor_class: Any = None) -> Any:
    """A pyld processor that raises on every dropped term (pyld's ``on_property_dropped``)."""
    try:
        return (processor_class or processor)(on_property_dropped=_raise_dropped)
    except TypeError:  # a pyld without the hook would silently drop undefined terms: refuse
        raise UnsupportedError(
            "kaga:jsonld-processor-unsupported", "the installed pyld cannot report dropped terms; upgrade pyld"
        ) from None


def expand(document: JSONObject, loader: DocumentLoader | None = None) -> list[Any]:
    """Expand ``document`` strictly (no dropped terms, no relative IRIs); raise KagaError."""
    from pyld.jsonld import JsonLdError

    loader = loader or default_document_loader()
    try:
        expanded = _strict_processor().expand(document, _options(loader))
    except (JsonLdError, _UndefinedTerm) as exc:
        cause = _kaga_cause(exc)
        if cause is not None:
            raise cause from None
        code = getattr(exc, "code", None) or getattr(exc, "type", "")
        raise ProofError(PROOF_TRANSFORMATION_ERROR, f"JSON-LD processing failed: {code}") from None
    except RecursionError:
        raise InputError(DOCUMENT_TOO_DEEP, "document is nested too deeply for JSON-LD processing") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        # pyld raises plain Python errors for some hostile input (e.g. "Found invalid baseIRI" for an
        # ``@id`` of "" with no base): a document that cannot be processed, never a crash
        raise ProofError(PROOF_TRANSFORMATION_ERROR, f"JSON-LD processing failed: {type(exc).__name__}") from None
    _check_iris(expanded)
    return list(expanded)


# RDFC-1.0's "hash N-degree quads" step is exponential on crafted graphs of look-alike blank nodes
# (the "poison graph" of the RDFC-1.0 security considerations). A credential's blank nodes nearly
# always have distinct first-degree hashes, so the step runs about once per look-alike blank node at
# most; cap it at that plus a margin (a 20-node poison ring would otherwise take seconds, 40 hours).
MAX_N_DEGREE_CALLS = 512


_bounded_class: Any = None


def _bounded_canonicaliser(blank_nodes: int = 0) -> Any:
    global _bounded_class
    if _bounded_class is None:
        from pyld.canon import URDNA2015  # type: ignore[import-untyped]

        class BoundedURDNA2015(URDNA2015):  # type: ignore[misc]
            calls = 0
            limit = MAX_N_DEGREE_CALLS

            def hash_n_degree_quads(self, id_: Any, issuer: Any) -> Any:
                self.calls += 1
                if self.calls > self.limit:
                    raise ProofError(
                        CANONICALIZATION_TOO_COMPLEX,
                        "the document's blank nodes are too costly to canonicalise (RDFC-1.0 poison graph?)",
                        limit=self.limit,
                    )
                return super().hash_n_degree_quads(id_, issuer)

        _bounded_class = BoundedURDNA2015
    canonicaliser = _bounded_class()
    canonicaliser.limit = MAX_N_DEGREE_CALLS + 2 * blank_nodes
    return canonicaliser


def _count_blank_nodes(dataset: dict[str, Any]) -> int:
    seen: set[str] = set()
    for graph_name, triples in dataset.items():
        if graph_name.startswith("_:"):
            seen.add(graph_name)
        for triple in triples:
            for position in ("subject", "object"):
                term = triple.get(position, {})
                if term.get("type") == "blank node":
                    seen.add(term["value"])
    return len(seen)


def canonize(document: JSONObject, loader: DocumentLoader | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of ``document`` (expanded strictly first, with a work limit).

    The JSON-LD our credentials use goes straight to its RDF dataset (:mod:`._fastld`, the same
    dataset pyld's expansion gives); any other document, and every error, takes pyld's path.
    """
    from ._fastld import Unsupported, to_dataset

    loader = loader or default_document_loader()
    try:
        dataset: dict[str, Any] | None = to_dataset(document, loader)
    except Unsupported:
        dataset = None
    if dataset is None:
        return canonize_pyld(document, loader)
    if os.environ.get(DIFFERENTIAL_ENV) == "1":
        return _differential(document, dataset, loader)
    return _canonical_nquads(dataset)


DIFFERENTIAL_ENV = "KAGA_VC_JSONLD_DIFFERENTIAL"
"""Set to ``1`` (the test suite does) and every document the fast path takes is canonicalised by pyld
as well: a different result, or an error on one side only, raises :class:`FastPathDisagrees`."""


class FastPathDisagrees(RuntimeError):
    """The fast JSON-LD path and pyld gave different canonical forms (only under ``DIFFERENTIAL_ENV``)."""


def _differential(document: JSONObject, dataset: dict[str, Any], loader: DocumentLoader) -> str:
    outcomes: list[str] = []
    runs: tuple[Callable[[], str], ...] = (lambda: _canonical_nquads(dataset), lambda: canonize_pyld(document, loader))
    for run in runs:
        try:
            outcomes.append("ok:" + run())
        except KagaError as error:
            outcomes.append("error:" + error.code)
    if outcomes[0] != outcomes[1]:
        raise FastPathDisagrees(f"fast path gave {outcomes[0][:200]!r}, pyld {outcomes[1][:200]!r}")
    if outcomes[0].startswith("error:"):
        return canonize_pyld(document, loader)  # raises the very error
    return outcomes[0][len("ok:"):]


def canonize_pyld(document: JSONObject, loader: DocumentLoader | None = None) -> str:
    """:func:`canonize` through pyld's general expansion only (the reference the fast path is tested against)."""
    loader = loader or default_document_loader()
    expanded = expand(document, loader)
    return _canonical_nquads(expanded, loader)


def _canonical_nquads(source: Any, loader: DocumentLoader | None = None) -> str:
    """RDFC-1.0 of a dataset, or (with ``loader``) of an expanded document turned into one by pyld."""
    from pyld.jsonld import JsonLdError

    try:
        if loader is None:  # the fast path's dataset: every blank node told apart at the first degree, usually
            from ._fastld import canonical_simple

            dataset, result = source, canonical_simple(source)
        else:
            dataset = processor().to_rdf(source, {**_options(loader), "produceGeneralizedRdf": False})
            result = None
        if result is None:
            # URDNA2015 as implemented by pyld is RDFC-1.0 (same algorithm, renamed by the W3C).
            result = _bounded_canonicaliser(_count_blank_nodes(dataset)).main(dataset, {"format": "application/n-quads"})
    except JsonLdError as exc:
        cause = _kaga_cause(exc)
        if cause is not None:
            raise cause from None
        raise ProofError(PROOF_TRANSFORMATION_ERROR, f"RDF canonicalisation failed: {exc.type}") from None
    except RecursionError:
        raise InputError(DOCUMENT_TOO_DEEP, "document is nested too deeply for RDF canonicalisation") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:  # see expand()
        raise ProofError(PROOF_TRANSFORMATION_ERROR, f"RDF canonicalisation failed: {type(exc).__name__}") from None
    text = str(result)
    if not text.isascii():
        try:  # the suites hash the UTF-8 form: a lone surrogate ("\ud800") has none
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(PARSING_ERROR, "the document holds a lone surrogate (not Unicode text)") from None
    return text


def _is_absolute_iri(value: str) -> bool:
    if value.startswith("_:"):
        return True
    scheme, sep, _ = value.partition(":")
    return bool(sep) and bool(scheme) and scheme[0].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)


def _check_iris(node: Any) -> None:
    """Refuse relative IRIs left in ``@type`` or ``@id`` (an undefined type or a bare id)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(current)
        elif isinstance(current, dict):
            if "@value" in current:
                continue
            for key, value in current.items():
                if key == "@type":
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, str) and not _is_absolute_iri(item):
                            raise ProofError(UNDEFINED_TERM, f"type {item!r} is not defined by any context", term=item)
                elif key == "@id":
                    if isinstance(value, str) and not _is_absolute_iri(value):
                        raise ProofError(UNDEFINED_TERM, f"id {value!r} is not an absolute IRI", term=value)
                else:
                    stack.append(value)
