"""strict_json_loads (issue 16 made it cheaper) gives what json.loads with the same rules gives, code for code."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kaga_vc.errors import DUPLICATE_JSON_KEY, PARSING_ERROR, InputError
from kaga_vc.proofs.jose._jws import strict_json_loads

FRAGMENTS = ['{', '}', '[', ']', '"a"', '"b"', ':', ',', '1', ' ', '\n', 'NaN', '-Infinity', 'true', 'null', '"é"',
             '"\\u00e9"', '-', '0', '.5', '{"a":1,"a":2}', '\ufeff', '"', '\\']


class Duplicate(Exception):
    pass


def reference(data: str | bytes) -> tuple[str, Any]:
    """json.loads with a hook per rule: the verdict and the code strict_json_loads must give."""
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in items}) != len(items):
            raise Duplicate
        return dict(items)

    def constant(name: str) -> Any:
        raise ValueError(name)

    try:
        return "ok", json.loads(data, object_pairs_hook=pairs, parse_constant=constant)
    except Duplicate:
        return "error", DUPLICATE_JSON_KEY
    except (ValueError, UnicodeDecodeError):
        return "error", PARSING_ERROR


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=10).map("".join), st.sampled_from(["str", "utf-8", "utf-16"]))
def test_strict_json_loads_agrees_with_json_loads(text: str, encoding: str) -> None:
    data: str | bytes = text if encoding == "str" else text.encode(encoding)
    try:
        got: tuple[str, Any] = ("ok", strict_json_loads(data))
    except InputError as error:
        got = ("error", error.code)
    assert got == reference(data)
