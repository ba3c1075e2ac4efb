"""JOSE securing: VC-JOSE-COSE (``vc+jwt``/``vp+jwt``), the VC 1.1 JWT encoding, SD-JWT VC (``dc+sd-jwt``).

Also the compact-JWS calls other layers build on (bundles, requests, the access log, OpenID4VC):
:func:`sign_compact` / :func:`parse_compact`, :func:`alg_for_key_type`, :func:`verify_jws_with_did`
(the signer's key taken from its DID document) and the key-level checks ``verify_with_*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._lazy import lazy_namespace

if TYPE_CHECKING:
    from ._claims import DEFAULT_MAX_CLOCK_SKEW
    from ._common import id_of
    from ._did_keys import verify_jws_with_did
    from ._jws import (
        ALGORITHMS,
        DEFAULT_LIMITS,
        CompactJWS,
        JOSELimits,
        alg_for_key_type,
        json_object,
        parse_compact,
        sign_compact,
        verify_with_account,
        verify_with_public_key,
    )
    from .jwt_vc11 import sign_jwt_vc11, sign_jwt_vp11, verify_jwt_vc11, verify_jwt_vp11
    from .sd_jwt import Decoys, issue_sd_jwt, present_sd_jwt, sd_jwt_vc_claims, verify_sd_jwt
    from .vc_jose import envelope, sign_vc_jwt, sign_vp_jwt, verify_vc_jwt, verify_vp_jwt

__all__ = [
    "ALGORITHMS",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_CLOCK_SKEW",
    "CompactJWS",
    "Decoys",
    "JOSELimits",
    "alg_for_key_type",
    "envelope",
    "id_of",
    "issue_sd_jwt",
    "json_object",
    "parse_compact",
    "present_sd_jwt",
    "sd_jwt_vc_claims",
    "sign_compact",
    "sign_jwt_vc11",
    "sign_jwt_vp11",
    "sign_vc_jwt",
    "sign_vp_jwt",
    "verify_jws_with_did",
    "verify_jwt_vc11",
    "verify_jwt_vp11",
    "verify_sd_jwt",
    "verify_vc_jwt",
    "verify_vp_jwt",
    "verify_with_account",
    "verify_with_public_key",
]

# a public name's module is imported on first use (PEP 562): the offline verify loads only what it runs
_LAZY: dict[str, str] = {
    "DEFAULT_MAX_CLOCK_SKEW": "._claims",
    "id_of": "._common",
    "verify_jws_with_did": "._did_keys",
    "ALGORITHMS": "._jws",
    "DEFAULT_LIMITS": "._jws",
    "CompactJWS": "._jws",
    "JOSELimits": "._jws",
    "alg_for_key_type": "._jws",
    "json_object": "._jws",
    "parse_compact": "._jws",
    "sign_compact": "._jws",
    "verify_with_account": "._jws",
    "verify_with_public_key": "._jws",
    "sign_jwt_vc11": ".jwt_vc11",
    "sign_jwt_vp11": ".jwt_vc11",
    "verify_jwt_vc11": ".jwt_vc11",
    "verify_jwt_vp11": ".jwt_vc11",
    "Decoys": ".sd_jwt",
    "issue_sd_jwt": ".sd_jwt",
    "present_sd_jwt": ".sd_jwt",
    "sd_jwt_vc_claims": ".sd_jwt",
    "verify_sd_jwt": ".sd_jwt",
    "envelope": ".vc_jose",
    "sign_vc_jwt": ".vc_jose",
    "sign_vp_jwt": ".vc_jose",
    "verify_vc_jwt": ".vc_jose",
    "verify_vp_jwt": ".vc_jose",
}


__getattr__, __dir__ = lazy_namespace(__name__, _LAZY, globals())
