"""JOSE securing: VC-JOSE-COSE (``vc+jwt``/``vp+jwt``), the VC 1.1 JWT encoding, SD-JWT VC (``dc+sd-jwt``)."""

from __future__ import annotations

from ._jws import ALGORITHMS, DEFAULT_LIMITS, CompactJWS, JOSELimits, parse_compact, sign_compact
from .jwt_vc11 import sign_jwt_vc11, sign_jwt_vp11, verify_jwt_vc11, verify_jwt_vp11
from .sd_jwt import Decoys, issue_sd_jwt, present_sd_jwt, sd_jwt_vc_claims, verify_sd_jwt
from .vc_jose import envelope, sign_vc_jwt, sign_vp_jwt, verify_vc_jwt, verify_vp_jwt

__all__ = [
    "ALGORITHMS",
    "DEFAULT_LIMITS",
    "CompactJWS",
    "Decoys",
    "JOSELimits",
    "envelope",
    "issue_sd_jwt",
    "parse_compact",
    "present_sd_jwt",
    "sd_jwt_vc_claims",
    "sign_compact",
    "sign_jwt_vc11",
    "sign_jwt_vp11",
    "sign_vc_jwt",
    "sign_vp_jwt",
    "verify_jwt_vc11",
    "verify_jwt_vp11",
    "verify_sd_jwt",
    "verify_vc_jwt",
    "verify_vp_jwt",
]
