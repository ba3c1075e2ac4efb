"""The bitstring of a W3C Bitstring Status List v1.0 and its ``encodedList`` form.

https://www.w3.org/TR/vc-bitstring-status-list/ §4 (algorithms): index 0 is the left-most bit of the
first byte; the bitstring is GZIP-compressed (RFC 1952) and written as a multibase base64url string
without padding (prefix ``u``). Privacy (§6): a list SHOULD hold at least 131,072 entries so that one
credential's index hides among many.
"""

from __future__ import annotations

import gzip
import zlib

from .._encoding import b64url_decode, b64url_encode
from ..errors import STATUS_LIST_INVALID, StatusError

MIN_ENTRIES = 131_072
"""The spec's minimum list length (16 KiB of 1-bit entries), used as our default and our floor."""

MAX_DECODED_BYTES = 16 * 1024 * 1024
"""Refuse an ``encodedList`` that expands beyond this many bytes (a GZIP bomb)."""


class BitstringStatusList:
    """A fixed-length list of ``status_size``-bit entries, all zero at first."""

    __slots__ = ("_bits", "length", "status_size")

    def __init__(self, length: int = MIN_ENTRIES, *, status_size: int = 1) -> None:
        if not 1 <= status_size <= 8:
            raise StatusError(STATUS_LIST_INVALID, "statusSize must be between 1 and 8 bits")
        if length < 1 or (length * status_size) % 8:
            raise StatusError(STATUS_LIST_INVALID, "the list must be a whole number of bytes long")
        self.length = length
        self.status_size = status_size
        self._bits = bytearray(length * status_size // 8)

    def _check(self, index: int) -> None:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < self.length:
            raise StatusError(STATUS_LIST_INVALID, f"status index {index!r} is outside the list (0..{self.length - 1})",
                              index=index if isinstance(index, int) else None, length=self.length)

    def get(self, index: int) -> int:
        """The status value at ``index`` (0 or 1 for 1-bit lists)."""
        self._check(index)
        value = 0
        start = index * self.status_size
        for bit in range(start, start + self.status_size):
            value = (value << 1) | ((self._bits[bit >> 3] >> (7 - (bit & 7))) & 1)
        return value

    def set(self, index: int, value: int | bool = 1) -> None:
        """Set the status value at ``index`` (a ``status_size``-bit unsigned integer)."""
        self._check(index)
        value = int(value)
        if not 0 <= value < (1 << self.status_size):
            raise StatusError(STATUS_LIST_INVALID, f"status value {value} does not fit in {self.status_size} bit(s)")
        start = index * self.status_size
        for offset in range(self.status_size):
            bit = start + offset
            mask = 1 << (7 - (bit & 7))
            if (value >> (self.status_size - 1 - offset)) & 1:
                self._bits[bit >> 3] |= mask
            else:
                self._bits[bit >> 3] &= ~mask & 0xFF

    def set_indices(self, indices: object, value: int = 1) -> None:
        """Set ``value`` at every index of an iterable (faster than calling :meth:`set` in a loop for 1-bit lists)."""
        for index in indices:  # type: ignore[attr-defined]
            self.set(index, value)

    def count(self) -> int:
        """How many entries are non-zero."""
        if self.status_size == 1:
            return int.from_bytes(self._bits, "big").bit_count()
        return sum(1 for i in range(self.length) if self.get(i))

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    def encode(self) -> str:
        """The ``encodedList`` value: ``u`` + base64url(GZIP(bitstring)), no padding (§4.1 generation)."""
        # mtime=0 keeps the encoding a pure function of the bits (same list, same string)
        return "u" + b64url_encode(gzip.compress(bytes(self._bits), compresslevel=9, mtime=0))

    @classmethod
    def decode(cls, encoded: str, *, status_size: int = 1, min_entries: int = MIN_ENTRIES) -> BitstringStatusList:
        """Read an ``encodedList`` (§4.2 expansion); raise ``StatusError(kaga:status-list-invalid)`` if malformed.

        A list shorter than ``min_entries`` entries is refused, as the spec's STATUS_LIST_LENGTH_ERROR.
        """
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusError(STATUS_LIST_INVALID, "encodedList must be a multibase base64url string (prefix 'u')")
        try:
            compressed = b64url_decode(encoded[1:])
        except ValueError:
            raise StatusError(STATUS_LIST_INVALID, "encodedList is not base64url") from None
        try:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing only
            raw = inflater.decompress(compressed, MAX_DECODED_BYTES + 1)
            if len(raw) > MAX_DECODED_BYTES or inflater.unconsumed_tail:
                raise StatusError(STATUS_LIST_INVALID, "encodedList expands beyond the size limit")
            if not inflater.eof or inflater.unused_data:
                raise StatusError(STATUS_LIST_INVALID, "encodedList is not a single complete GZIP stream")
        except zlib.error:
            raise StatusError(STATUS_LIST_INVALID, "encodedList is not GZIP data") from None
        if not 1 <= status_size <= 8:
            raise StatusError(STATUS_LIST_INVALID, "statusSize must be between 1 and 8 bits")
        length = len(raw) * 8 // status_size
        if length < min_entries:
            raise StatusError(STATUS_LIST_INVALID, f"the status list has {length} entries, fewer than {min_entries}",
                              length=length)
        lst = cls.__new__(cls)
        lst.length = length
        lst.status_size = status_size
        lst._bits = bytearray(raw)
        return lst
