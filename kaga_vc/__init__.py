"""kaga_vc: W3C Verifiable Credentials for the city of Kaga.

The public surface is short (STYLE.md §2); everything else comes from its subpackage. Names other
than :class:`KagaError` are imported on first use, so ``import kaga_vc`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import KagaError

__version__ = "0.1.0"

__all__ = [
    "Credential",
    "KagaError",
    "Presentation",
    "Problem",
    "Resolver",
    "VerificationResult",
    "VerifyParameters",
    "__version__",
    "create_presentation",
    "issue_credential",
    "verify_credential",
    "verify_presentation",
]

_LAZY = {
    "Credential": "kaga_vc.credentials",
    "Presentation": "kaga_vc.credentials",
    "Problem": "kaga_vc.credentials",
    "VerificationResult": "kaga_vc.credentials",
    "VerifyParameters": "kaga_vc.credentials",
    "create_presentation": "kaga_vc.credentials",
    "issue_credential": "kaga_vc.credentials",
    "verify_credential": "kaga_vc.credentials",
    "verify_presentation": "kaga_vc.credentials",
    "Resolver": "kaga_vc.did",
}

if TYPE_CHECKING:
    from .credentials import (
        Credential,
        Presentation,
        Problem,
        VerificationResult,
        VerifyParameters,
        create_presentation,
        issue_credential,
        verify_credential,
        verify_presentation,
    )
    from .did import Resolver


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kaga_vc' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
