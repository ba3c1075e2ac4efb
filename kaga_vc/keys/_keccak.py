"""Keccak-256 as Ethereum uses it (the original padding, not SHA3-256).

From safe-pysha3's C extension, which imports in about a millisecond. ``eth_hash.auto`` is the
fallback only: at import it reads package metadata (``importlib.metadata``) and has pycryptodome
parse its C declarations with pycparser, which costs a cold ``kaga-vc verify`` more than the
verification itself (README "Cold start").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _c_keccak() -> Callable[[bytes], Any] | None:
    try:
        from sha3 import keccak_256  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - safe-pysha3 is a dependency
        return None
    return keccak_256  # type: ignore[no-any-return,unused-ignore]


_keccak_256 = _c_keccak()


def keccak256(data: bytes) -> bytes:
    """The 32-byte Keccak-256 digest of ``data``."""
    if _keccak_256 is not None:
        return bytes(_keccak_256(data).digest())
    from eth_hash.auto import keccak  # pragma: no cover

    return bytes(keccak(data))  # pragma: no cover
