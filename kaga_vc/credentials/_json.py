"""Strict JSON reading for credentials: size and depth limits, no duplicate keys, no NaN.

A credential is signed over its JSON-LD meaning, so two spellings of one key (``{"a": 1, "a": 2}``)
would let a verifier and a relying application read different claims: refused. Limits keep a
hostile document from exhausting memory or the stack before any signature is checked.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..errors import DOCUMENT_TOO_DEEP, DOCUMENT_TOO_LARGE, DUPLICATE_JSON_KEY, PARSING_ERROR, InputError

MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_DEPTH = 64


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(DUPLICATE_JSON_KEY, f"duplicate key {key!r} in JSON object", key=key)
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise InputError(PARSING_ERROR, f"{name} is not JSON")


def parse_json(data: str | bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text strictly; InputError with a specific code when it cannot be accepted."""
    if isinstance(data, bytes):
        if len(data) > max_bytes:
            raise InputError(DOCUMENT_TOO_LARGE, f"document is larger than {max_bytes} bytes", limit=max_bytes)
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(PARSING_ERROR, "input is not UTF-8 text") from None
    if not isinstance(data, str):
        raise InputError(PARSING_ERROR, "JSON input must be text")
    if len(data) > max_bytes or len(data.encode("utf-8")) > max_bytes:
        raise InputError(DOCUMENT_TOO_LARGE, f"document is larger than {max_bytes} bytes", limit=max_bytes)
    _check_text_depth(data, max_depth)
    try:
        parsed = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except InputError:
        raise
    except (ValueError, RecursionError) as exc:
        raise InputError(PARSING_ERROR, f"not valid JSON: {exc}") from None
    if "\\u" in data or not data.isascii():  # only escapes or non-ASCII text can hold a lone surrogate
        check_structure(parsed, max_depth=max_depth)
    return parsed


def _check_text_depth(text: str, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` before the parser recurses into it."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise InputError(DOCUMENT_TOO_DEEP, f"JSON is nested deeper than {max_depth} levels", limit=max_depth)
        elif char in "]}":
            depth -= 1


def _check_text(text: str) -> None:
    """Refuse a string that is not Unicode text: a lone surrogate (``"\\ud800"``) has no UTF-8 form.

    JSON allows the escape, but RFC 8259 §8.2 leaves its meaning open and the signed (canonical)
    form is UTF-8: such a document cannot be signed or verified, and must not crash either.
    """
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(PARSING_ERROR, "a string holds a lone surrogate (not Unicode text)") from None


def check_structure(value: Any, *, max_depth: int = MAX_DEPTH, max_items: int = MAX_DOCUMENT_BYTES // 4) -> None:
    """Apply the depth and size limits to an already parsed value (a dict passed by a caller)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    items = 0
    while stack:
        current, depth = stack.pop()
        items += 1
        if items > max_items:
            raise InputError(DOCUMENT_TOO_LARGE, "document has too many values", limit=max_items)
        if isinstance(current, dict):
            if depth > max_depth:
                raise InputError(DOCUMENT_TOO_DEEP, f"document is nested deeper than {max_depth} levels", limit=max_depth)
            for key, item in current.items():
                if not isinstance(key, str):
                    raise InputError(PARSING_ERROR, "object keys must be strings")
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(current, list):
            if depth > max_depth:
                raise InputError(DOCUMENT_TOO_DEEP, f"document is nested deeper than {max_depth} levels", limit=max_depth)
            stack.extend((item, depth + 1) for item in current)
        elif isinstance(current, str):
            _check_text(current)
        elif isinstance(current, float) and not math.isfinite(current):
            raise InputError(PARSING_ERROR, "NaN and infinities are not JSON")
        elif not (current is None or isinstance(current, (str, int, float, bool))):
            raise InputError(PARSING_ERROR, f"{type(current).__name__} is not a JSON value")
