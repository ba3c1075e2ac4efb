"""Bundled JSON-LD contexts and the offline document loader (no network unless asked)."""

from __future__ import annotations

from ._loader import BundledContexts, OfflineLoader, bundled_contexts, default_loader, kaga_contexts

__all__ = ["BundledContexts", "OfflineLoader", "bundled_contexts", "default_loader", "kaga_contexts"]
