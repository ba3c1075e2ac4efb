"""kaga_vc: W3C Verifiable Credentials for the city of Kaga.

The public surface is short (STYLE.md §2); everything else comes from its subpackage.
"""

from __future__ import annotations

from .errors import KagaError

__version__ = "0.1.0"

__all__ = ["KagaError", "__version__"]
