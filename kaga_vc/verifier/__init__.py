"""The offline verifier: presentation requests, trust bundles, policy, nonces, verification.

Importing it loads no Ethereum code and no QR library; ``kaga_vc.verifier.qr`` loads segno.
"""

from __future__ import annotations

from ._verify import RESPONSE_FORMAT, credential_types, disclosed_claims, issuance_of, verify_response
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
