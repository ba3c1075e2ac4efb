"""The offline verifier: presentation requests, trust bundles, policy, nonces, verification.

Importing it loads no Ethereum code and no QR library; ``kaga_vc.verifier.qr`` loads segno.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_namespace

if TYPE_CHECKING:
    from ._verify import (
        RESPONSE_FORMAT,
        bundle_parameters,
        credential_types,
        disclosed_claims,
        issuance_of,
        verify_response,
    )
    from .bundle import (
        BundleMemory,
        TrustBundle,
        TrustedIssuer,
        build_bundle,
        check_bundle,
        default_bundle_memory_path,
        read_bundle,
        sync_bundle,
    )
    from .nonces import NonceStore, default_nonce_path
    from .policy import Policy, PurposePolicy
    from .request import (
        ANY_TYPE,
        CredentialQuery,
        PresentationRequest,
        create_request,
        parse_request,
        read_request,
    )
    from .response import PresentationResponse, decode_response, encode_response

__all__ = [
    "ANY_TYPE",
    "RESPONSE_FORMAT",
    "BundleMemory",
    "CredentialQuery",
    "NonceStore",
    "Policy",
    "PresentationRequest",
    "PresentationResponse",
    "PurposePolicy",
    "TrustBundle",
    "TrustedIssuer",
    "build_bundle",
    "bundle_parameters",
    "check_bundle",
    "create_request",
    "credential_types",
    "decode_response",
    "default_bundle_memory_path",
    "default_nonce_path",
    "disclosed_claims",
    "encode_response",
    "issuance_of",
    "parse_request",
    "read_bundle",
    "read_request",
    "sync_bundle",
    "verify_response",
]

# a public name's module is imported on first use (PEP 562): the offline verify loads only what it runs
_LAZY: dict[str, str] = {
    "RESPONSE_FORMAT": "._verify",
    "bundle_parameters": "._verify",
    "credential_types": "._verify",
    "disclosed_claims": "._verify",
    "issuance_of": "._verify",
    "verify_response": "._verify",
    "BundleMemory": ".bundle",
    "TrustBundle": ".bundle",
    "TrustedIssuer": ".bundle",
    "build_bundle": ".bundle",
    "check_bundle": ".bundle",
    "default_bundle_memory_path": ".bundle",
    "read_bundle": ".bundle",
    "sync_bundle": ".bundle",
    "NonceStore": ".nonces",
    "default_nonce_path": ".nonces",
    "Policy": ".policy",
    "PurposePolicy": ".policy",
    "ANY_TYPE": ".request",
    "CredentialQuery": ".request",
    "PresentationRequest": ".request",
    "create_request": ".request",
    "parse_request": ".request",
    "read_request": ".request",
    "PresentationResponse": ".response",
    "decode_response": ".response",
    "encode_response": ".response",
}


__getattr__, __dir__ = lazy_namespace(__name__, _LAZY, globals())
