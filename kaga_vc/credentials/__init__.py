"""Verifiable Credentials Data Model 2.0 (and 1.1): models, issuing, presenting, verifying."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_namespace

if TYPE_CHECKING:
    from ._issue import create_presentation, issue_credential
    from ._json import parse_json
    from ._model import Credential, Presentation
    from ._result import Problem, VerificationResult
    from ._rules import VC_V1, VC_V2, is_presentation
    from ._verify_di import verify_presentation_di
    from .digest import credential_digest, signing_method
    from .formats import Format
    from .parameters import VerifyParameters
    from .verify import (
        DATA_INTEGRITY,
        FORMATS,
        JWT_VC11,
        SD_JWT,
        VC_JWT,
        PresentationCheck,
        detect_format,
        verify_credential,
        verify_presentation,
        verify_presentation_checked,
    )

__all__ = [
    "DATA_INTEGRITY",
    "FORMATS",
    "JWT_VC11",
    "SD_JWT",
    "VC_JWT",
    "VC_V1",
    "VC_V2",
    "Credential",
    "Format",
    "Presentation",
    "PresentationCheck",
    "Problem",
    "VerificationResult",
    "VerifyParameters",
    "create_presentation",
    "credential_digest",
    "detect_format",
    "is_presentation",
    "issue_credential",
    "parse_json",
    "signing_method",
    "verify_credential",
    "verify_presentation",
    "verify_presentation_checked",
    "verify_presentation_di",
]

# a public name's module is imported on first use (PEP 562): the offline verify loads only what it runs
_LAZY: dict[str, str] = {
    "create_presentation": "._issue",
    "issue_credential": "._issue",
    "parse_json": "._json",
    "VC_V1": "._rules",
    "VC_V2": "._rules",
    "Credential": "._model",
    "Presentation": "._model",
    "is_presentation": "._rules",
    "Problem": "._result",
    "VerificationResult": "._result",
    "verify_presentation_di": "._verify_di",
    "credential_digest": ".digest",
    "signing_method": ".digest",
    "Format": ".formats",
    "VerifyParameters": ".parameters",
    "DATA_INTEGRITY": ".verify",
    "FORMATS": ".verify",
    "JWT_VC11": ".verify",
    "SD_JWT": ".verify",
    "VC_JWT": ".verify",
    "PresentationCheck": ".verify",
    "detect_format": ".verify",
    "verify_credential": ".verify",
    "verify_presentation": ".verify",
    "verify_presentation_checked": ".verify",
}


__getattr__, __dir__ = lazy_namespace(__name__, _LAZY, globals())
