"""base64url decoding (issue 16 made it cheaper): it accepts exactly the canonical unpadded strings."""

from __future__ import annotations

import base64
import binascii
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaga_vc._encoding import b64url_decode, b64url_encode
from kaga_vc.errors import InputError

_URLSAFE = re.compile(r"[A-Za-z0-9_-]*")


def reference(text: str) -> bytes | None:
    """The straightforward definition: URL-safe alphabet only, no padding, re-encodes to itself."""
    if not _URLSAFE.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if b64url_encode(data) == text else None


alphabet = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
hostile = st.sampled_from("+/= \n\r\t.\x00é~!")  # "!": what the decoder turns "+", "/", "=" into
texts = st.lists(st.one_of(alphabet, alphabet, alphabet, hostile), max_size=16).map("".join)


@settings(max_examples=2000, deadline=None)
@given(texts)
def test_decode_accepts_exactly_the_canonical_strings(text: str) -> None:
    expected = reference(text)
    if expected is None:
        with pytest.raises(InputError):
            b64url_decode(text)
    else:
        assert b64url_decode(text) == expected


@given(st.binary(max_size=40))
def test_round_trip(data: bytes) -> None:
    assert b64url_decode(b64url_encode(data)) == data


def test_second_spellings_and_other_alphabets_are_refused() -> None:
    for text in ("QR", "QUF", "QUE=", "ab+c", "ab/c", "QQ\n", "QUE\n", "QQ==", "Q"):
        with pytest.raises(InputError):
            b64url_decode(text)
    assert b64url_decode("QQ") == b"A" and b64url_decode("QUE") == b"AA"
