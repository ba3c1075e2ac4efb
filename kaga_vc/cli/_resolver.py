"""The resolver the CLI uses: every method this installation can resolve offline by default."""

from __future__ import annotations

from ..did import KeyMethod, Resolver


def cli_resolver() -> Resolver:
    """A resolver for the CLI (did:key; networked methods are added by their own options)."""
    return Resolver({"key": KeyMethod()})
