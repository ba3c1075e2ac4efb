"""The access log's JCS (RFC 8785) fast path gives the bytes of the RFC 8785 package, on any JSON."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from kaga_vc.accesslog._entry import canonical
from kaga_vc.errors import InputError

_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
            | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
            | st.sampled_from(["\x00\x1f\x7f\"\\\b\f\n\r\t", "\u2028\u2029", "😀", "ｶﾞ", "é"]))
_keys = st.text() | st.sampled_from(["a", "b", "\u00e9", "\U0001f600", "\uff61", "Z", ""])
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_keys, inner, max_size=5),
                     max_leaves=30)


@given(_json)
@settings(max_examples=400, deadline=None)
def test_canonical_is_rfc8785(value: Any) -> None:
    try:
        expected = bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        with pytest.raises(InputError):
            canonical(value)
        return
    assert canonical(value) == expected


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    value = {"\U0001f600": 1, "\uff61": 2}  # UTF-16: D83D… before FF61; code points: FF61 first
    assert canonical(value) == bytes(rfc8785.dumps(value))
    assert canonical(value).index("\U0001f600".encode()) < canonical(value).index("\uff61".encode())


def test_a_lone_surrogate_is_refused_with_a_code() -> None:
    with pytest.raises(InputError) as refused:
        canonical({"a": "\ud800"})
    assert refused.value.code == "MALFORMED_VALUE_ERROR"
