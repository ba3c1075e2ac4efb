"""A fast path from the JSON-LD our credentials use straight to an RDF dataset (then RDFC-1.0).

Why: pyld's general expansion (deep copy, per-node context processing, the expanded form, the node
map, and a second expansion inside ``to_rdf``) is nine tenths of a Data Integrity proof's cost,
though canonicalising the dataset itself takes tens of microseconds (issue 16).

How, and why it gives what pyld gives: this walks the document as pyld's expansion algorithm does
(``JsonLdProcessor._expand`` / ``_expand_object``: revert a non-propagated type-scoped context,
apply the property-scoped context, an inline ``@context``, the type-scoped contexts in sorted
order) and emits each triple where pyld's node map and ``_graph_to_rdf`` would. Every semantic
decision is pyld's own: context processing (pyld's ``_process_context``, so ``@protected`` and
scoped contexts behave identically), IRI expansion (``_expand_iri``), value expansion and type
coercion (``_expand_value``) and literal forms (``_object_to_rdf``). What is kept, per document
loader, is the *term table*: the processed active context for each ``@context`` and for each
(active context, scoped context) step, each key's expansion in each active context, and per
(active context, property) the context its values expand in, its container and the literal a
string value becomes — processed once, reused by every later document.

The same walk gives the document's *shadow* (:func:`shadow`), on which the compaction rule is
judged once per shape (``_compacted.check_compacted``), and :func:`canonical_simple` canonicalises
a dataset whose blank nodes all differ at the first degree.

Anything outside the subset raises :class:`Unsupported` and the caller falls back to pyld for the
whole document: a keyword other than ``@context`` / ``@id`` / ``@type`` (``@graph`` other than a
``@graph``-container term such as ``proof``, ``@value``, ``@list``, ``@set``, ``@nest``,
``@reverse``, ``@included`` …), a container other than ``@set`` / ``@graph``, ``@json`` or ``@none``
typing, a reverse term, ``null``, an empty or nested array, a blank node identifier, a relative or
dropped IRI, or a context pyld refuses. Errors are never decided here: whatever pyld would refuse
is refused by pyld, with its code.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from typing import Any

from ._jsonld import _is_absolute_iri, _options, _strict_processor

JSONObject = dict[str, Any]

_TABLE_LIMIT = 4096  # entries per loader; a flood of inline contexts starts the table again


class Unsupported(Exception):
    """The document uses JSON-LD outside the fast path's subset (the caller uses pyld)."""


class _Tables:
    """One loader's processed contexts and key expansions (the term tables)."""

    def __init__(self) -> None:
        self.top: dict[Any, Any] = {}
        self.steps: dict[tuple[int, int, bool, bool], tuple[Any, Any, Any]] = {}
        self.keys: dict[int, tuple[Any, dict[str, Any]]] = {}
        self.terms: dict[int, tuple[Any, dict[str, Any]]] = {}
        self.same: dict[tuple[int, int], tuple[Any, Any, bool]] = {}
        #: shadow JSON → the normalised shadow the compaction rule gave it (positive verdicts only)
        self.compacted: OrderedDict[str, JSONObject] = OrderedDict()

    def size(self) -> int:
        return len(self.top) + len(self.steps) + len(self.keys) + len(self.terms) + len(self.same)


_tables: weakref.WeakKeyDictionary[Any, _Tables] = weakref.WeakKeyDictionary()
_strong_tables: dict[int, tuple[Any, _Tables]] = {}
_lock = threading.Lock()
_pyld: Any = None


def _tables_for(loader: Any) -> _Tables:
    with _lock:
        try:
            tables = _tables.get(loader)
            if tables is None or tables.size() > _TABLE_LIMIT:
                tables = _tables[loader] = _Tables()
            return tables
        except TypeError:  # not weak-referenceable: keep it alive beside its tables
            entry = _strong_tables.get(id(loader))
            if entry is None or entry[0] is not loader or entry[1].size() > _TABLE_LIMIT:
                if len(_strong_tables) > 64:
                    _strong_tables.clear()
                entry = (loader, _Tables())
                _strong_tables[id(loader)] = entry
            return entry[1]


_processor: Any = None


def _shared_processor() -> Any:
    """One strict pyld processor for every walk (it keeps no state between calls)."""
    global _processor
    if _processor is None:
        _processor = _strict_processor()
    return _processor


def _load_pyld() -> Any:
    global _pyld
    if _pyld is None:
        from pyld import jsonld  # type: ignore[import-untyped]

        _pyld = jsonld
    return _pyld


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
_RDF_JSON = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
_SUPPORTED_CONTAINERS: tuple[frozenset[str], ...] = (frozenset(), frozenset({"@set"}), frozenset({"@graph"}), frozenset({"@graph", "@set"}))


def _same_context(a: Any, b: Any) -> bool:
    """Two pyld active contexts define the same (their identifiers and compaction caches aside)."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return bool(a == b)
    skip = ("_uuid", "inverse", "previousContext")
    if {k: v for k, v in a.items() if k not in skip} != {k: v for k, v in b.items() if k not in skip}:
        return False
    if ("previousContext" in a) != ("previousContext" in b):
        return False
    return "previousContext" not in a or _same_context(a["previousContext"], b["previousContext"])


_ABSOLUTE: set[str] = set()  # IRIs already found absolute (a pure test, remembered)


class _Walker:
    """One document's walk: emits the triples of each graph, deduplicated as pyld's node map does."""

    def __init__(self, loader: Any) -> None:
        self.jsonld = _load_pyld()
        self.loader = loader
        self.tables = _tables_for(loader)
        self.processor = _shared_processor()
        self._options: JSONObject | None = None
        self.rdf_options = {"processingMode": "json-ld-1.1", "produceGeneralizedRdf": False, "base": None}
        self._make_options = _options
        self.graphs: dict[str, list[JSONObject]] = {"@default": []}
        self.seen: set[tuple[Any, ...]] = set()
        self.blank = 0
        # the shadow (see shadow()): each literal string replaced by a placeholder, equal texts alike
        self.literals: dict[str, str] = {}
        self.nested_context = False  # an embedded @context the shadow cannot vouch for (see shadow())
        self.chain: list[Any] = []  # the contexts in force, as the compaction rule lists them

    # -- the term tables ----------------------------------------------------------------------
    def options(self) -> JSONObject:
        if self._options is None:
            self._options = self._make_options(self.loader)
        return self._options

    def process(self, active: Any, local: Any, *, override_protected: bool = False, propagate: bool = True) -> Any:
        """pyld's context processing of ``local`` on ``active``, remembered by identity of both."""
        key = (id(active), id(local), override_protected, propagate)
        found = self.tables.steps.get(key)
        if found is not None and found[0] is active and found[1] is local:
            return found[2]
        result = self._process(active, local, override_protected=override_protected, propagate=propagate)
        self.tables.steps[key] = (active, local, result)
        return result

    def _process(self, active: Any, local: Any, *, override_protected: bool, propagate: bool) -> Any:
        try:
            return self.processor._process_context(active, local, self.options(), override_protected=override_protected,
                                                   propagate=propagate)
        except Exception as exc:
            raise Unsupported("context processing failed") from exc

    def inline(self, active: Any, local: Any) -> Any:
        """pyld's processing of a document's own ``@context`` on ``active`` (keyed by its JSON: each
        document brings a new object)."""
        try:
            text: Any = tuple(local) if isinstance(local, list) and all(isinstance(c, str) for c in local) else (
                json.dumps(local, sort_keys=True, separators=(",", ":")))
        except (TypeError, ValueError):
            raise Unsupported("unusual @context") from None
        key = (id(active), text)
        found = self.tables.top.get(key)
        if found is not None and found[0] is active:
            return found[1]
        result = self._process(active, local, override_protected=False, propagate=True)
        self.tables.top[key] = (active, result)
        return result

    def same_as_restarted(self, active: Any, chain: list[Any]) -> bool:
        """Whether ``active`` (an embedded object's context in this walk) equals the context the
        compaction rule re-expands that object under: every context in force, listed, processed from
        the start (``_compacted._nested``). Equal, the object's subtree expands alike both ways."""
        try:
            restarted = self.inline(self.processor._get_initial_context(self.rdf_options), chain)
        except Unsupported:
            return False
        key = (id(active), id(restarted))
        found = self.tables.same.get(key)
        if found is None or found[0] is not active or found[1] is not restarted:
            found = (active, restarted, _same_context(active, restarted))
            self.tables.same[key] = found
        return bool(found[2])

    def expand_key(self, ctx: Any, key: str) -> Any:
        """``_expand_iri(ctx, key, vocab=True)``, remembered per active context."""
        entry = self.tables.keys.get(id(ctx))
        if entry is None or entry[0] is not ctx:
            entry = (ctx, {})
            self.tables.keys[id(ctx)] = entry
        known = entry[1]
        if key in known:
            return known[key]
        expanded = self.processor._expand_iri(ctx, key, vocab=True)
        known[key] = expanded
        return expanded

    # -- the walk -----------------------------------------------------------------------------
    def new_blank(self) -> str:
        self.blank += 1
        return f"_:b{self.blank - 1}"

    def emit(self, graph: str, subject: str, predicate: str, obj: JSONObject) -> None:
        key = (graph, subject, predicate, obj["type"], obj["value"], obj.get("datatype"), obj.get("language"))
        if key in self.seen:
            return
        self.seen.add(key)
        triple = {"subject": {"type": "blank node" if subject.startswith("_:") else "IRI", "value": subject},
                  "predicate": {"type": "IRI", "value": predicate}, "object": obj}
        self.graphs.setdefault(graph, []).append(triple)

    def iri(self, value: Any) -> str:
        """An absolute, non-blank IRI (the strict rule of ``_jsonld._check_iris`` and pyld's own test)."""
        if value in _ABSOLUTE:
            return str(value)
        if (not isinstance(value, str) or value.startswith("_:") or not _is_absolute_iri(value)
                or not self.jsonld._is_absolute_iri(value)):
            raise Unsupported("not an absolute IRI")
        if len(_ABSOLUTE) > 4096:
            _ABSOLUTE.clear()
        _ABSOLUTE.add(value)
        return value

    def node(self, active: Any, active_property: str | None, element: JSONObject, graph: str) -> tuple[str, JSONObject]:
        """Expand the node object ``element`` (as ``JsonLdProcessor._expand``) into ``graph``; its subject
        and its shadow."""
        get = self.jsonld.JsonLdProcessor.get_context_value
        scoped = get(active, active_property, "@context") if active_property is not None else None
        type_scoped = active if active.get("previousContext") else None
        must_revert = True
        if type_scoped is not None and len(element) <= 2 and "@context" not in element:
            for key in sorted(element):
                expanded = self.expand_key(type_scoped, key)
                if expanded == "@value":
                    raise Unsupported("value object")
                if expanded == "@id" and len(element) == 1:
                    must_revert = False
                    break
        if must_revert:
            active = active.get("previousContext", active)
        if scoped is not None:
            active = self.process(active, scoped, override_protected=True)
        outer_chain = self.chain
        if "@context" in element:
            local = element["@context"]
            if isinstance(local, dict) and len(local) == 1 and "@context" in local:
                raise Unsupported("keyword redefinition")
            active = self.inline(active, local)
            self.chain = [*self.chain, *(local if isinstance(local, list) else [local])]
            if active_property is not None and not self.nested_context:
                self.nested_context = not self.same_as_restarted(active, self.chain)
        type_scoped_ctx = active
        keys = [(key, self.expand_key(active, key)) for key in element if key != "@context"]
        for key, expanded in sorted(keys):
            if expanded != "@type":
                continue
            value = element[key]
            for type_ in sorted(t for t in (value if isinstance(value, list) else [value]) if isinstance(t, str)):
                local = get(type_scoped_ctx, type_, "@context")
                if local is not None and local is not False:
                    active = self.process(active, local, propagate=False)
        # every key again in the final active context (as _expand_object does)
        keys = [(key, self.expand_key(active, key)) for key in element if key != "@context"]
        subject: str | None = None
        types: list[str] = []
        properties: list[tuple[str, str]] = []
        seen_keywords: set[str] = set()
        for key, expanded in keys:
            if expanded is None or not isinstance(expanded, str):
                raise Unsupported("dropped term")
            if expanded.startswith("@"):
                if expanded not in ("@id", "@type") or expanded in seen_keywords:
                    raise Unsupported(f"keyword {expanded}")
                seen_keywords.add(expanded)
                value = element[key]
                if expanded == "@id":
                    if not isinstance(value, str):
                        raise Unsupported("@id not a string")
                    subject = self.iri(self.processor._expand_iri(active, value, base=None))
                else:
                    items = value if isinstance(value, list) else [value]
                    if not items or not all(isinstance(t, str) for t in items):
                        raise Unsupported("@type not strings")
                    types.extend(self.iri(self.processor._expand_iri(type_scoped_ctx, t, vocab=True, base=None))
                                 for t in items)
                continue
            if not self.jsonld._is_absolute_iri(expanded):
                raise Unsupported("dropped term")
            properties.append((key, expanded))
        if subject is None:
            subject = self.new_blank()
        for type_iri in types:
            self.emit(graph, subject, RDF_TYPE, {"type": "IRI", "value": type_iri})
        shadow = dict(element)  # keywords (and @context) as written; each property's values replaced below
        for key, predicate in properties:
            shadow[key] = self.property(active, key, predicate, element[key], subject, graph)
        self.chain = outer_chain
        return subject, shadow

    def term(self, active: Any, key: str) -> tuple[Any, bool, tuple[str, str | None] | None]:
        """A property's entry in the term table of ``active``: the context its values are expanded in,
        whether it is a ``@graph`` container, and the literal a string value becomes (datatype,
        language), or None when pyld's value expansion decides (an IRI, ``xsd:double`` …)."""
        entry = self.tables.terms.get(id(active))
        if entry is None or entry[0] is not active:
            entry = (active, {})
            self.tables.terms[id(active)] = entry
        found = entry[1].get(key)
        if found is None:
            found = self._term(active, key)
            entry[1][key] = found
        return found

    def _term(self, active: Any, key: str) -> tuple[Any, bool, tuple[str, str | None] | None]:
        get = self.jsonld.JsonLdProcessor.get_context_value
        term_ctx = active
        local = get(active, key, "@context")
        if local is not None:
            term_ctx = self.process(active, local, override_protected=True, propagate=True)
        container_value = get(active, key, "@container")
        container = frozenset(container_value if isinstance(container_value, list) else
                              [container_value] if container_value is not None else [])
        if container not in _SUPPORTED_CONTAINERS:
            raise Unsupported("container")
        if get(active, key, "@type") in ("@json", "@none"):
            raise Unsupported("@json / @none")
        mapping = term_ctx["mappings"].get(key)
        if mapping and mapping.get("reverse"):
            raise Unsupported("reverse term")
        literal: tuple[str, str | None] | None = None
        probe = self.processor._expand_value(term_ctx, key, "probe", self.rdf_options)
        if isinstance(probe, dict) and "@value" in probe and "@direction" not in probe:
            obj = self.processor._object_to_rdf(probe, None, [], self.rdf_options)
            if (obj is not None and obj.get("type") == "literal" and obj.get("value") == "probe"
                    and obj.get("datatype") not in (_XSD_DOUBLE, _RDF_JSON)):
                literal = (obj["datatype"], obj.get("language"))
        return term_ctx, "@graph" in container, literal

    def property(self, active: Any, key: str, predicate: str, value: Any, subject: str, graph: str) -> Any:
        """One key's values (as ``_expand_object`` for a term that is not a keyword); their shadow."""
        term_ctx, in_graph, literal = self.term(active, key)
        items = value if isinstance(value, list) else [value]
        if not items:
            raise Unsupported("empty array")
        shadows: list[Any] = []
        for item in items:
            if isinstance(item, str) and literal is not None:
                obj: JSONObject = {"type": "literal", "value": item, "datatype": literal[0]}
                if literal[1] is not None:
                    obj["language"] = literal[1]
                self.emit(graph, subject, predicate, obj)
                # a literal: its text decides nothing but its own value (see shadow())
                shadows.append(self.literals.setdefault(item, f"literal {len(self.literals)}"))
                continue
            if isinstance(item, dict):
                if in_graph:
                    name = self.new_blank()
                    self.emit(graph, subject, predicate, {"type": "blank node", "value": name})
                    shadows.append(self.node(term_ctx, key, item, name)[1])
                else:
                    node, shadow = self.node(term_ctx, key, item, graph)
                    shadows.append(shadow)
                    self.emit(graph, subject, predicate,
                              {"type": "blank node" if node.startswith("_:") else "IRI", "value": node})
                continue
            if item is None or isinstance(item, list) or in_graph:
                raise Unsupported("null, nested array or a plain value in a graph")
            if not isinstance(item, (str, int, float)):
                raise Unsupported("not JSON")
            expanded = self.processor._expand_value(term_ctx, key, item, self.rdf_options)
            if not isinstance(expanded, dict):
                raise Unsupported("value expansion")
            if "@id" in expanded:
                self.emit(graph, subject, predicate, {"type": "IRI", "value": self.iri(expanded["@id"])})
                shadows.append(item)
                continue
            if "@direction" in expanded:
                raise Unsupported("@direction")
            obj = self.processor._object_to_rdf(expanded, None, [], self.rdf_options)
            if obj is None or obj.get("type") != "literal":
                raise Unsupported("literal")
            self.emit(graph, subject, predicate, obj)
            if isinstance(item, str):
                shadows.append(self.literals.setdefault(item, f"literal {len(self.literals)}"))
            else:
                shadows.append(item)
        return shadows if isinstance(value, list) else shadows[0]


#: the pyld releases whose internals (``_process_context``, ``_expand_iri``, ``_expand_value``,
#: ``_object_to_rdf``, ``serialize_nquad``) this walk was written against and is tested with; under any
#: other release every document takes pyld's own path (slower, never different)
TESTED_PYLD_MAJOR = "3"


def pyld_is_tested() -> bool:
    from pyld import jsonld

    return str(getattr(jsonld, "__version__", "")).split(".", 1)[0] == TESTED_PYLD_MAJOR


def _walk(document: JSONObject, loader: Any) -> tuple[_Walker, JSONObject]:
    if not isinstance(document, dict):
        raise Unsupported("not an object")
    if not pyld_is_tested():
        raise Unsupported("a pyld release the fast path is not tested with")
    walker = _Walker(loader)
    try:
        _, shade = walker.node(walker.processor._get_initial_context(walker.rdf_options), None, document, "@default")
    except RecursionError:
        raise Unsupported("deep") from None
    except Unsupported:
        raise
    except Exception as exc:  # anything pyld's helpers raise: pyld's own path decides
        raise Unsupported(type(exc).__name__) from exc
    return walker, shade


def to_dataset(document: JSONObject, loader: Any) -> dict[str, list[JSONObject]]:
    """The RDF dataset of ``document`` in pyld's shape (``{graph name: [triple]}``); Unsupported otherwise."""
    walker, _ = _walk(document, loader)
    return {name: triples for name, triples in walker.graphs.items() if triples or name == "@default"}


def canonical_simple(dataset: dict[str, list[JSONObject]]) -> str | None:
    """RDFC-1.0 canonical N-Quads of ``dataset`` when every blank node has its own first-degree hash,
    else None (then pyld's full algorithm, with its N-degree step, is needed).

    Why: that is every credential's dataset, and for it RDFC-1.0 is just steps 1-5 and 7 (label the
    blank nodes in the order of their first-degree hashes); pyld's implementation spends most of its
    time deep-copying components there. Serialisation and hashing are pyld's own (``serialize_nquad``,
    SHA-256 of the sorted lines; a quad counts once per blank node position, as in pyld).
    """
    import hashlib

    from pyld.nquads import serialize_nquad  # type: ignore[import-untyped]

    quads: list[JSONObject] = []
    by_blank: dict[str, list[JSONObject]] = {}
    for graph_name, triples in dataset.items():
        name = None if graph_name == "@default" else {
            "type": "blank node" if graph_name.startswith("_:") else "IRI", "value": graph_name}
        for triple in triples:
            quad = {"subject": triple["subject"], "predicate": triple["predicate"], "object": triple["object"]}
            if name is not None:
                quad["name"] = name
            quads.append(quad)
            for key in ("subject", "object", "name"):
                component = quad.get(key)
                if component is not None and component["type"] == "blank node":
                    by_blank.setdefault(component["value"], []).append(quad)
    hashes: dict[str, str] = {}
    for blank, related in by_blank.items():
        lines = sorted(serialize_nquad(_relabelled(quad, lambda value, b=blank: "_:a" if value == b else "_:z"))
                       for quad in related)
        hashes[blank] = hashlib.sha256("".join(lines).encode("utf8")).hexdigest()
    if len(set(hashes.values())) != len(hashes):
        return None
    canonical = {blank: f"_:c14n{index}" for index, (_, blank) in enumerate(sorted((h, b) for b, h in hashes.items()))}
    return "".join(sorted(serialize_nquad(_relabelled(quad, canonical.__getitem__)) for quad in quads))


def _relabelled(quad: JSONObject, label: Any) -> JSONObject:
    copy = dict(quad)
    for key in ("subject", "object", "name"):
        component = quad.get(key)
        if component is not None and component["type"] == "blank node":
            copy[key] = {"type": "blank node", "value": label(component["value"])}
    return copy


_VERDICTS = 512


def shadow(document: JSONObject, loader: Any) -> tuple[JSONObject, str]:
    """``document`` with every literal string replaced by a placeholder (equal texts by equal ones), and
    the shadow's JSON with sorted keys (the key of remembered verdicts); Unsupported otherwise.

    Why: whether a document is in compacted form (``_compacted``) does not depend on the text of a
    literal — expansion puts it in ``@value`` untouched, compaction takes it back untouched, and the
    rule compares keys, array lengths and JSON types; what decides are the keys, the contexts, the
    IRIs, the JSON types and which values are equal. So the verdict on the shadow is the verdict on
    every document with that shadow, and a credential of a known shape is judged once. An object
    with an embedded ``@context`` (a credential in a presentation) is re-expanded by the rule under
    the contexts in force listed from the start; unless that gives the very context this walk had
    there (so the same literals), the document is refused here.
    """
    walker, shade = _walk(document, loader)
    if walker.nested_context:
        raise Unsupported("embedded @context")
    try:
        text = json.dumps(shade, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise Unsupported("not JSON") from None
    return shade, text


def remembered_compacted(loader: Any, key: str) -> JSONObject | None:
    """The normalised shadow remembered for the shadow JSON ``key`` (see :func:`shadow`), if any."""
    return _tables_for(loader).compacted.get(key)


def remember_compacted(loader: Any, key: str, normalised: JSONObject) -> None:
    """Remember that the shadow ``key`` is compacted, and its normalised form (a bounded LRU)."""
    table = _tables_for(loader).compacted
    with _lock:
        table[key] = normalised
        while len(table) > _VERDICTS:
            table.popitem(last=False)


__all__ = ["Unsupported", "canonical_simple", "remember_compacted", "remembered_compacted", "shadow", "to_dataset"]
