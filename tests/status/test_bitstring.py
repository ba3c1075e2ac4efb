"""The bitstring and its encodedList form (Bitstring Status List v1.0 §4)."""

from __future__ import annotations

import base64
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaga_vc.errors import STATUS_LIST_INVALID, StatusError
from kaga_vc.status import MIN_ENTRIES, BitstringStatusList


def test_default_length_is_the_spec_minimum_and_all_zero() -> None:
    bits = BitstringStatusList()
    assert bits.length == MIN_ENTRIES == 131_072
    assert len(bits.to_bytes()) == 16 * 1024
    assert bits.count() == 0 and bits.get(0) == 0 and bits.get(MIN_ENTRIES - 1) == 0


def test_index_zero_is_the_leftmost_bit() -> None:
    bits = BitstringStatusList()
    bits.set(0)
    bits.set(9)
    raw = bits.to_bytes()
    assert raw[0] == 0b1000_0000 and raw[1] == 0b0100_0000
    bits.set(0, 0)
    assert bits.to_bytes()[0] == 0 and bits.get(9) == 1


def test_encoded_list_is_multibase_base64url_gzip() -> None:
    bits = BitstringStatusList()
    bits.set(94567)
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw == bits.to_bytes()
    assert encoded == bits.encode()  # deterministic (no timestamp in the GZIP header)


def test_decodes_a_list_written_by_another_implementation() -> None:
    """A list made with the standard library alone (gzip + base64url), as any implementation would."""
    raw = bytearray(16 * 1024)
    raw[5] = 0b0010_0000  # index 42
    encoded = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(raw))).rstrip(b"=").decode()
    bits = BitstringStatusList.decode(encoded)
    assert bits.get(42) == 1 and bits.count() == 1


@settings(max_examples=50, deadline=None)
@given(st.sets(st.integers(0, MIN_ENTRIES - 1), max_size=200))
def test_round_trip(indices: set[int]) -> None:
    bits = BitstringStatusList()
    for i in indices:
        bits.set(i)
    back = BitstringStatusList.decode(bits.encode())
    assert back.count() == len(indices)
    assert all(back.get(i) == 1 for i in indices)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 8), st.dictionaries(st.integers(0, 1023), st.integers(0, 255), max_size=50))
def test_multi_bit_entries(size: int, values: dict[int, int]) -> None:
    bits = BitstringStatusList(MIN_ENTRIES, status_size=size)
    expected = {i: v % (1 << size) for i, v in values.items()}
    for i, v in expected.items():
        bits.set(i, v)
    back = BitstringStatusList.decode(bits.encode(), status_size=size)
    assert all(back.get(i) == v for i, v in expected.items())
    assert back.get(2000) == 0


@pytest.mark.parametrize("encoded", [
    "zabc",                                                   # another multibase
    "u!!!",                                                   # not base64url
    "u" + base64.urlsafe_b64encode(b"not gzip").rstrip(b"=").decode(),
    "u" + base64.urlsafe_b64encode(gzip.compress(bytes(1024))).rstrip(b"=").decode(),  # too short
    "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16384)) + b"trailing").rstrip(b"=").decode(),
    "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16384))[:-6]).rstrip(b"=").decode(),  # truncated
])
def test_malformed_lists_are_refused(encoded: str) -> None:
    with pytest.raises(StatusError) as caught:
        BitstringStatusList.decode(encoded)
    assert caught.value.code == STATUS_LIST_INVALID


def test_gzip_bomb_is_refused() -> None:
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(17 * 1024 * 1024))).rstrip(b"=").decode()
    with pytest.raises(StatusError) as caught:
        BitstringStatusList.decode(bomb)
    assert caught.value.code == STATUS_LIST_INVALID


@pytest.mark.parametrize("index", [-1, MIN_ENTRIES, True, 1.5])
def test_out_of_range_index(index: object) -> None:
    with pytest.raises(StatusError):
        BitstringStatusList().get(index)  # type: ignore[arg-type]
