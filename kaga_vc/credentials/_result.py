"""Re-export of :mod:`kaga_vc.results` (the result types live at the bottom layer, beside errors)."""

from __future__ import annotations

from ..results import PROBLEM_TYPES, Problem, VerificationResult

__all__ = ["PROBLEM_TYPES", "Problem", "VerificationResult"]
