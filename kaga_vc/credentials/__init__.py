"""Verifiable Credentials Data Model 2.0 (and 1.1): models, issuing, presenting, verifying."""

from __future__ import annotations

from ._issue import create_presentation, issue_credential
from ._json import parse_json
from ._model import VC_V1, VC_V2, Credential, Presentation, is_presentation
from ._result import Problem, VerificationResult
from ._verify_di import verify_presentation_di
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
    "detect_format",
    "is_presentation",
    "issue_credential",
    "parse_json",
    "verify_credential",
    "verify_presentation",
    "verify_presentation_checked",
    "verify_presentation_di",
]
