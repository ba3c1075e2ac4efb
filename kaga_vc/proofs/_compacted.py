"""The compaction rule: a secured JSON-LD document must be in compacted form under its own ``@context``.

Why: a Data Integrity proof signs the document's RDF (its canonical N-Quads), but the verifier, the
policy and the person at the counter read its JSON by short names. JSON-LD gives one meaning many
spellings — a full IRI as key, a typed ``{"@value": …}``, a ``null`` (dropped), ``[false]`` for
``false`` — so a holder can respell a signed credential without breaking the proof and hide a
``credentialStatus`` or a ``validUntil`` from every reader of short names (issue 11). The rule:

1. Round trip. The document, expanded and compacted again under its own ``@context`` (pyld, the
   same processor that canonicalises it), must give the document back. That refuses every key that
   is not the term compaction chooses (a full IRI for a defined term, ``@type`` where ``type`` is the
   alias), every value not of its term's declared type (a typed ``@value`` for a coerced term), every
   ``null`` and every empty array (they state nothing that was signed).
   Accepted as the same spelling: key order; a one-element array for a single value (real
   credentials write ``"type": ["VerifiableCredential"]``); ``{"id": X}`` where the term makes ``X``
   an IRI. An object with its own ``@context`` is checked the same way under the contexts in force
   there plus its own.
2. Core terms. An inline context can define a shorter alias (``"expiry"`` for ``validUntil``) that
   compaction then prefers, and a document spelled with it passes rule 1. So the document is also
   compacted under its base contexts alone (the VC context and the Data Integrity context it names,
   which are bundled and ``@protected``), and every core term the verifier acts on (``issuer``,
   ``credentialSubject``, ``credentialStatus``, the validity dates, ``type``, ``evidence``, the
   proof's members …) must be present in the document exactly where it is present there.

The result is the *normalised* document: the same JSON with every one-element array around a single
value unwrapped (``[false]`` reads as ``false``), except ``@context`` and ``type``, which keep their
spelling, and arrays of objects, which every reader treats as a list. Everything a verdict or a
policy reads should read this form; the proof is still verified over the JSON received.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from ..errors import (
    DOCUMENT_TOO_DEEP,
    NOT_COMPACTED,
    PROOF_TRANSFORMATION_ERROR,
    InputError,
    KagaError,
    ProofError,
)
from ._jsonld import (
    DIFFERENTIAL_ENV,
    DocumentLoader,
    FastPathDisagrees,
    JSONObject,
    _kaga_cause,
    _options,
    default_document_loader,
    expand,
    processor,
)

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
_DATA_INTEGRITY_CONTEXTS = ("https://w3id.org/security/data-integrity/v2", "https://w3id.org/security/data-integrity/v1")

# The terms a verifier acts on, by where they sit (VCDM 2.0 §4, 1.1 §4; VC-DI §2.1; Bitstring Status List §2).
_TOP = ("id", "type", "issuer", "credentialSubject", "credentialStatus", "validFrom", "validUntil", "issuanceDate",
        "expirationDate", "evidence", "credentialSchema", "termsOfUse", "refreshService", "relatedResource", "proof",
        "holder", "verifiableCredential")
_NODE = ("id", "type")
_INSIDE = {
    "proof": ("id", "type", "cryptosuite", "created", "expires", "verificationMethod", "proofPurpose", "proofValue",
              "challenge", "domain", "nonce", "previousProof"),
    "credentialStatus": ("id", "type", "statusPurpose", "statusListIndex", "statusListCredential", "statusSize",
                         "statusMessage", "statusReference"),
    "credentialSubject": ("id", "type", "statusPurpose", "encodedList", "ttl"),
}
_KEEP_SPELLING = ("@context", "type")


def check_compacted(document: JSONObject, loader: DocumentLoader | None = None) -> JSONObject:
    """Return ``document`` normalised; ProofError ``kaga:not-compacted`` unless it is compacted (see the module).

    Other errors: whatever expanding the document raises (``kaga:undefined-term``,
    ``PROOF_TRANSFORMATION_ERROR``, a context that could not be loaded), ``kaga:document-too-deep``.

    A document the fast JSON-LD path takes is judged by its shadow (:func:`._fastld.shadow`: the
    same document with placeholders for its literal texts), once per shadow: a credential of a
    shape already accepted is accepted without pyld. Every refusal is pyld's, on the document itself.
    """
    from ._fastld import Unsupported, remember_compacted, remembered_compacted, shadow

    loader = loader or default_document_loader()
    try:
        if not isinstance(document, dict) or "@context" not in document:
            raise Unsupported("not a document with a context")
        shade, key = shadow(document, loader)
    except Unsupported:
        return check_compacted_pyld(document, loader)
    normalised_shadow = remembered_compacted(loader, key)
    if normalised_shadow is None:
        try:
            normalised_shadow = check_compacted_pyld(shade, loader)
        except KagaError:
            return check_compacted_pyld(document, loader)  # refused: refused again on the document, for its error
        remember_compacted(loader, key, normalised_shadow)
    result: JSONObject = {"@context": document["@context"]}
    result.update((k, _as_normalised(v, normalised_shadow[k])) for k, v in document.items() if k != "@context")
    if os.environ.get(DIFFERENTIAL_ENV) == "1":
        _differential(document, result, loader)
    return result


def _as_normalised(value: Any, normalised: Any) -> Any:
    """``value`` with the one-element arrays unwrapped that its shadow's normalised form unwraps."""
    if isinstance(value, list):
        if not isinstance(normalised, list):
            return _as_normalised(value[0], normalised)
        return [_as_normalised(v, n) for v, n in zip(value, normalised, strict=True)]
    if isinstance(value, dict) and isinstance(normalised, dict):
        if "@context" in value:  # an embedded context comes first, as _nested writes it
            value = {"@context": value["@context"], **value}
        return {k: _as_normalised(v, normalised[k]) for k, v in value.items()}
    return value


def _differential(document: JSONObject, result: JSONObject, loader: DocumentLoader) -> None:
    """Under ``DIFFERENTIAL_ENV`` (the test suite): pyld's verdict on the document itself must be the same."""
    try:
        reference = check_compacted_pyld(document, loader)
    except KagaError as error:
        raise FastPathDisagrees(f"the shadow was accepted, the document refused: {error.code}") from None
    if json.dumps(reference, ensure_ascii=False) != json.dumps(result, ensure_ascii=False):
        raise FastPathDisagrees("the shadow's normalised form is not the document's")


def check_compacted_pyld(document: JSONObject, loader: DocumentLoader | None = None) -> JSONObject:
    """:func:`check_compacted` by pyld on ``document`` itself (the reference the fast path is tested against)."""
    loader = loader or default_document_loader()
    if not isinstance(document, dict):
        raise InputError("MALFORMED_VALUE_ERROR", "a JSON-LD document must be a JSON object")
    context = document.get("@context")
    if context is None:
        raise ProofError(NOT_COMPACTED, "the document has no @context: it cannot be read in compacted form")
    contexts = context if isinstance(context, list) else [context]
    body = {k: v for k, v in document.items() if k != "@context"}
    expanded, normalised = _round_trip(body, contexts, loader, ())
    _check_core(normalised, expanded, contexts, loader)
    return {"@context": context, **normalised}


def _round_trip(body: JSONObject, contexts: list[Any], loader: DocumentLoader, path: tuple[Any, ...]) -> tuple[list[Any], JSONObject]:
    """Rule 1 for ``body`` under ``contexts``: the expanded form and the normalised body."""
    expanded = expand({"@context": contexts, **body}, loader)
    compacted = _compact(expanded, contexts, loader)
    compacted.pop("@context", None)
    normalised = _normalise(body, compacted, path, contexts, loader)
    if not isinstance(normalised, dict):  # pragma: no cover - a dict compared with a dict stays one
        raise _differs(path, "is not a JSON object")
    return expanded, normalised


def _compact(expanded: list[Any], contexts: Sequence[Any], loader: DocumentLoader) -> JSONObject:
    from pyld.jsonld import JsonLdError  # type: ignore[import-untyped]

    try:
        result = processor().compact(expanded, {"@context": list(contexts)},
                                           {**_options(loader), "skipExpansion": True, "compactArrays": True})
    except JsonLdError as exc:
        cause = _kaga_cause(exc)
        if cause is not None:
            raise cause from None
        raise ProofError(PROOF_TRANSFORMATION_ERROR, f"JSON-LD compaction failed: {getattr(exc, 'type', '')}") from None
    except RecursionError:
        raise InputError(DOCUMENT_TOO_DEEP, "document is nested too deeply for JSON-LD compaction") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:  # see _jsonld.expand
        raise ProofError(PROOF_TRANSFORMATION_ERROR, f"JSON-LD compaction failed: {type(exc).__name__}") from None
    if not isinstance(result, dict):  # pragma: no cover - pyld compacts to an object
        raise ProofError(PROOF_TRANSFORMATION_ERROR, "JSON-LD compaction gave no object")
    return result


def _where(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "the document"


def _differs(path: tuple[Any, ...], detail: str) -> ProofError:
    return ProofError(NOT_COMPACTED, f"{_where(path)} {detail}: the document is not in compacted form under its "
                      "own @context, so its JSON could say other than what was signed", path=_where(path))


def _same_scalar(value: Any, compacted: Any) -> bool:
    # type-strict: JSON-LD tells 1 (xsd:integer) from 1.0 (xsd:double) and false from 0
    return type(value) is type(compacted) and value == compacted


def _is_reference(value: JSONObject, compacted: Any) -> bool:
    """``{"id": X}`` where compaction writes the IRI ``X`` (a term with ``"@type": "@id"``)."""
    return len(value) == 1 and isinstance(compacted, str) and any(value.get(k) == compacted for k in ("id", "@id"))


def _normalise(value: Any, compacted: Any, path: tuple[Any, ...], contexts: list[Any], loader: DocumentLoader) -> Any:
    if isinstance(value, dict):
        if "@context" in value and path:
            return _nested(value, path, contexts, loader)
        if _is_reference(value, compacted):
            return value
        if not isinstance(compacted, dict):
            raise _differs(path, "is an object where compaction gives a plain value (a typed @value or @list?)")
        return _normalise_object(value, compacted, path, contexts, loader)
    if isinstance(value, list):
        if not value:
            raise _differs(path, "is an empty array, which states nothing that was signed")
        if isinstance(compacted, list):
            if len(value) != len(compacted):
                raise _differs(path, "has another number of values than compaction gives")
            return [_normalise(v, c, (*path, i), contexts, loader) for i, (v, c) in enumerate(zip(value, compacted, strict=True))]
        if len(value) == 1:
            item = _normalise(value[0], compacted, (*path, 0), contexts, loader)
            keep = isinstance(item, dict) or (path and path[-1] in _KEEP_SPELLING)
            return [item] if keep else item
        raise _differs(path, "is an array where compaction gives one value")
    if value is None:
        raise _differs(path, "is null, which states nothing that was signed")
    if not _same_scalar(value, compacted):
        raise _differs(path, "is not the value compaction gives (another type or spelling)")
    return value


def _normalise_object(value: JSONObject, compacted: JSONObject, path: tuple[Any, ...], contexts: list[Any],
                      loader: DocumentLoader) -> JSONObject:
    for key, item in value.items():
        if item is None:
            raise _differs((*path, key), "is null, which states nothing that was signed")
        if item == []:
            raise _differs((*path, key), "is an empty array, which states nothing that was signed")
    missing = [k for k in value if k not in compacted]
    extra = [k for k in compacted if k not in value]
    if missing or extra:
        found = f"key {', '.join(map(repr, missing))}" if missing else "a key spelled otherwise"
        hint = f" where compaction writes {', '.join(map(repr, extra))}" if extra else ""
        raise _differs(path, f"has {found}{hint}")
    return {k: _normalise(v, compacted[k], (*path, k), contexts, loader) for k, v in value.items()}


def _nested(value: JSONObject, path: tuple[Any, ...], contexts: list[Any], loader: DocumentLoader) -> JSONObject:
    """An object with its own ``@context``: rule 1 under the contexts in force plus its own."""
    local = value["@context"]
    inner = [*contexts, *(local if isinstance(local, list) else [local])]
    body = {k: v for k, v in value.items() if k != "@context"}
    _, normalised = _round_trip(body, inner, loader, path)
    return {"@context": local, **normalised}


def _base_contexts(contexts: list[Any]) -> list[str] | None:
    """The bundled, protected contexts the core terms come from: the VC context and Data Integrity's."""
    if not contexts or contexts[0] not in (VC_V2, VC_V1):
        return None
    return [contexts[0], *(c for c in contexts[1:] if c in _DATA_INTEGRITY_CONTEXTS)]


def _check_core(document: JSONObject, expanded: list[Any], contexts: list[Any], loader: DocumentLoader) -> None:
    """Rule 2: each core term present in the document exactly where the base contexts alone place it."""
    base = _base_contexts(contexts)
    if base is None or base == contexts:
        return  # the base contexts are all there is: rule 1 already compared under them
    reference = _compact(expanded, base, loader)
    _compare_terms(document, reference, _TOP, ())


def _compare_terms(value: Any, reference: Any, terms: Sequence[str], path: tuple[Any, ...]) -> None:
    if not isinstance(value, dict) or not isinstance(reference, dict):
        return
    # an object with its own @context is compared all the same (an alias "i" for @id there would hide
    # the subject's id); only embedded credentials are left to their own verification
    for term in terms:
        if (term in value) != (term in reference):
            where = _where((*path, term))
            raise ProofError(NOT_COMPACTED, f"{where} is {'absent' if term not in value else 'present'} here but "
                             f"{'present' if term in reference else 'absent'} under the base contexts alone: "
                             "another term spells it", path=where)
    for term in terms:
        if term in ("id", "type", "verifiableCredential") or term not in value:
            continue
        items, refs = _as_list(value[term]), _as_list(reference[term])
        if len(items) != len(refs):
            raise ProofError(NOT_COMPACTED, f"{_where((*path, term))} has another number of values under the base "
                             "contexts alone", path=_where((*path, term)))
        for index, (item, ref) in enumerate(zip(items, refs, strict=True)):
            _compare_terms(item, ref, _INSIDE.get(term, _NODE), (*path, term, index))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


__all__ = ["check_compacted"]
