"""The one exception tree of kaga_vc.

Every error the library raises on purpose derives from :class:`KagaError` and carries a stable
``code`` that callers and tests branch on (never the message) plus a human ``detail``::

    KagaError(code, detail)
    ├── InputError (also ValueError)   PARSING_ERROR, MALFORMED_VALUE_ERROR
    ├── UnsupportedError               unknown suite, key type, DID method, algorithm
    ├── ResolutionError                invalidDid, notFound, methodNotSupported, representationNotSupported
    ├── DocumentLoadError              context not bundled and network not allowed
    ├── KeystoreError                  wrong password, corrupted or unreadable keystore file
    ├── ProofError                     PROOF_GENERATION_ERROR, PROOF_VERIFICATION_ERROR, INVALID_CHALLENGE_ERROR …
    ├── StatusError                    status list unavailable / invalid / full, refused status transition
    ├── RecordsError                   issuance records store unreachable or unwritable
    ├── RegistryError                  node unreachable, history missing, transaction failed
    ├── ProtocolError                  an OpenID4VCI / OpenID4VP message refused (with its OAuth error)
    ├── AccessLogError                 log unavailable or tampered, anchor missing, challenge refused
    └── AuthError                      the HTTP service: unauthenticated, forbidden, rate-limited

Codes reuse the specifications' names where one exists (VCDM 2.0 problem details, Data Integrity,
DID Resolution); project codes look like ``kaga:credential-expired``. A detail never contains key
material: error constructors take descriptions, not secrets.
"""

from __future__ import annotations

from typing import Any

# VC Data Model 2.0 §7.1 / VC Data Integrity problem-details codes.
PARSING_ERROR = "PARSING_ERROR"
MALFORMED_VALUE_ERROR = "MALFORMED_VALUE_ERROR"
CRYPTOGRAPHIC_SECURITY_ERROR = "CRYPTOGRAPHIC_SECURITY_ERROR"
PROOF_GENERATION_ERROR = "PROOF_GENERATION_ERROR"
PROOF_VERIFICATION_ERROR = "PROOF_VERIFICATION_ERROR"
PROOF_TRANSFORMATION_ERROR = "PROOF_TRANSFORMATION_ERROR"
INVALID_DOMAIN_ERROR = "INVALID_DOMAIN_ERROR"
INVALID_CHALLENGE_ERROR = "INVALID_CHALLENGE_ERROR"
INVALID_VERIFICATION_METHOD = "INVALID_VERIFICATION_METHOD"
MALFORMED_PROOF_ERROR = "MALFORMED_PROOF_ERROR"
MISMATCHED_PROOF_PURPOSE_ERROR = "MISMATCHED_PROOF_PURPOSE_ERROR"
INVALID_PROOF_CONFIGURATION = "INVALID_PROOF_CONFIGURATION"

# DID Resolution error codes.
INVALID_DID = "invalidDid"
INVALID_DID_URL = "invalidDidUrl"
NOT_FOUND = "notFound"
METHOD_NOT_SUPPORTED = "methodNotSupported"
REPRESENTATION_NOT_SUPPORTED = "representationNotSupported"
INVALID_OPTIONS = "invalidOptions"
UNKNOWN_NETWORK = "unknownNetwork"

# Project codes.
UNSUPPORTED_KEY_TYPE = "kaga:unsupported-key-type"
INVALID_KEY = "kaga:invalid-key"
CONTEXT_NOT_BUNDLED = "kaga:context-not-bundled"
CONTEXT_DIGEST_MISMATCH = "kaga:context-digest-mismatch"
CONTEXT_LOAD_FAILED = "kaga:context-load-failed"
KEYSTORE_WRONG_PASSWORD = "kaga:keystore-wrong-password"
KEYSTORE_CORRUPTED = "kaga:keystore-corrupted"
KEYSTORE_UNREADABLE = "kaga:keystore-unreadable"
KEYSTORE_EXISTS = "kaga:keystore-exists"
#: scrypt / pbkdf2 parameters beyond what a keystore may ask (memory or time exhaustion), or a KDF we do not run
KEYSTORE_KDF_OUT_OF_RANGE = "kaga:keystore-kdf-out-of-range"
FILESYSTEM_ERROR = "kaga:filesystem-error"  # a file or directory could not be read, created or written
NETWORK_ERROR = "kaga:network-error"  # a connection failed outside the typed clients
USAGE_ERROR = "kaga:usage-error"  # the command line itself is wrong (exit 2)
INTERNAL_ERROR = "kaga:internal-error"  # a bug (exit 5)
NODE_UNREACHABLE = "kaga:node-unreachable"
HISTORY_MISSING = "kaga:history-missing"
TRANSACTION_FAILED = "kaga:transaction-failed"

# Project codes: credentials and Data Integrity (issue 3).
UNSUPPORTED_FORMAT = "kaga:unsupported-format"
#: a securing format outside the caller's accepted set (VerifyParameters.formats), issue 11
FORMAT_NOT_ACCEPTED = "kaga:format-not-accepted"
UNSUPPORTED_CRYPTOSUITE = "kaga:unsupported-cryptosuite"
PROOF_SET_UNSUPPORTED = "kaga:proof-set-unsupported"
PROOF_MISSING = "kaga:proof-missing"
PROOF_EXPIRED = "kaga:proof-expired"
UNDEFINED_TERM = "kaga:undefined-term"
RELATED_RESOURCE_DIGEST_MISMATCH = "kaga:related-resource-digest-mismatch"  # VCDM 2.0 §5.3
CREDENTIAL_EXPIRED = "kaga:credential-expired"
CREDENTIAL_NOT_YET_VALID = "kaga:credential-not-yet-valid"
ISSUER_MISMATCH = "kaga:issuer-mismatch"
HOLDER_MISMATCH = "kaga:holder-mismatch"
DOCUMENT_TOO_LARGE = "kaga:document-too-large"
DOCUMENT_TOO_DEEP = "kaga:document-too-deep"
DUPLICATE_JSON_KEY = "kaga:duplicate-json-key"
VERIFICATION_METHOD_NOT_FOUND = "kaga:verification-method-not-found"
CANONICALIZATION_TOO_COMPLEX = "kaga:canonicalization-too-complex"
#: a secured JSON-LD document not in compacted form under its own @context (a full-IRI key, a typed
#: @value, a null, an alias of a core term ...): its JSON could say other than what was signed (issue 11)
NOT_COMPACTED = "kaga:not-compacted"

# JOSE, JWT and SD-JWT (issue 4).
ALGORITHM_NOT_ALLOWED = "kaga:algorithm-not-allowed"
ALGORITHM_KEY_MISMATCH = "kaga:algorithm-key-mismatch"
UNSUPPORTED_CRITICAL_HEADER = "kaga:unsupported-critical-header"
INVALID_TYP = "kaga:invalid-typ"
INVALID_KID = "kaga:invalid-kid"
KID_ISSUER_MISMATCH = "kaga:kid-issuer-mismatch"
SUBJECT_MISMATCH = "kaga:subject-mismatch"
ISSUED_IN_FUTURE = "kaga:issued-in-future"
SD_HASH_ALGORITHM_NOT_ALLOWED = "kaga:sd-hash-algorithm-not-allowed"
SD_DISCLOSURE_INVALID = "kaga:sd-disclosure-invalid"
SD_DISCLOSURE_UNREFERENCED = "kaga:sd-disclosure-unreferenced"
SD_DISCLOSURE_DUPLICATE = "kaga:sd-disclosure-duplicate"
SD_DIGEST_DUPLICATE = "kaga:sd-digest-duplicate"
KB_JWT_MISSING = "kaga:kb-jwt-missing"
KB_JWT_INVALID = "kaga:kb-jwt-invalid"
KB_JWT_SD_HASH_MISMATCH = "kaga:kb-jwt-sd-hash-mismatch"
KB_JWT_EXPIRED = "kaga:kb-jwt-expired"
ISSUER_NOT_A_DID = "kaga:issuer-not-a-did"
RESOLVER_FAILED = "kaga:resolver-failed"

# Status lists and issuance records (issue 6).
CREDENTIAL_REVOKED = "kaga:credential-revoked"
CREDENTIAL_SUSPENDED = "kaga:credential-suspended"
STATUS_LIST_UNAVAILABLE = "kaga:status-list-unavailable"
STATUS_LIST_INVALID = "kaga:status-list-invalid"
STATUS_LIST_ROLLBACK = "kaga:status-list-rollback"  # older than a list this verifier already saw (issue 13)
STATUS_NOT_CHECKED = "kaga:status-not-checked"
STATUS_LIST_FULL = "kaga:status-list-full"
STATUS_TRANSITION_INVALID = "kaga:status-transition-invalid"
CREDENTIAL_UNKNOWN = "kaga:credential-unknown"
CREDENTIAL_ALREADY_RECORDED = "kaga:credential-already-recorded"
RECORDS_UNAVAILABLE = "kaga:records-unavailable"
BATCH_IN_PROGRESS = "kaga:batch-in-progress"  # another run of the same batch, or into the same --out
BATCH_OUT_MISMATCH = "kaga:batch-out-mismatch"  # --out holds another batch's credentials

# Access log (issue 8).
LOG_TAMPERED = "kaga:log-tampered"
LOG_CORRUPTED = "kaga:log-corrupted"
LOG_KEY_MISMATCH = "kaga:log-key-mismatch"
LOG_UNAVAILABLE = "kaga:log-unavailable"
ANCHOR_NOT_FOUND = "kaga:anchor-not-found"
ANCHOR_MISMATCH = "kaga:anchor-mismatch"
NOTHING_TO_ANCHOR = "kaga:nothing-to-anchor"
INCLUSION_PROOF_INVALID = "kaga:inclusion-proof-invalid"
CHALLENGE_INVALID = "kaga:challenge-invalid"
CHALLENGE_EXPIRED = "kaga:challenge-expired"
CHALLENGE_REPLAYED = "kaga:challenge-replayed"
# Access log held by the chain (issue 12): what `log verify` names when the chain's tree heads disagree.
LOG_TRUNCATED = "kaga:log-truncated"  # the chain anchored more entries than the log still holds
LOG_REWRITTEN = "kaga:log-rewritten"  # the entries are not the ones a chain head anchored, or a head forks
LOG_IDENTITY_MISMATCH = "kaga:log-identity-mismatch"  # the chain committed another identity for this log
LOG_SIGNER_MISMATCH = "kaga:log-signer-mismatch"  # an entry not signed by the log's own key
#: an entry naming another verifier than the log's identity: a log is one verifier's (issue 12)
LOG_VERIFIER_MISMATCH = "kaga:log-verifier-mismatch"
ANCHOR_RECORD_MISSING = "kaga:anchor-record-missing"  # a head on chain the log's anchors table lost
SUBJECT_KEY_UNUSABLE = "kaga:subject-key-unusable"
DECRYPTION_FAILED = "kaga:decryption-failed"


# Wallet, presentation requests, trust bundles and the offline verifier (issue 7).
REQUEST_INVALID = "kaga:request-invalid"
REQUEST_SIGNATURE_INVALID = "kaga:request-signature-invalid"
REQUEST_VERIFIER_MISMATCH = "kaga:request-verifier-mismatch"
REQUEST_EXPIRED = "kaga:request-expired"
REQUEST_NOT_SATISFIABLE = "kaga:request-not-satisfiable"
RESPONSE_INVALID = "kaga:response-invalid"
QR_TOO_LARGE = "kaga:qr-too-large"
QR_UNREADABLE = "kaga:qr-unreadable"  # an image with no readable QR code in it
NONCE_REPLAYED = "kaga:nonce-replayed"
HOLDER_NOT_SUBJECT = "kaga:holder-not-subject"
ISSUER_NOT_TRUSTED = "kaga:issuer-not-trusted"
CREDENTIAL_TYPE_NOT_ACCEPTED = "kaga:credential-type-not-accepted"
CLAIM_NOT_DISCLOSED = "kaga:claim-not-disclosed"
MULTIPLE_SUBJECTS = "kaga:multiple-subjects"  # one response carries credentials of more than one person
PURPOSE_NOT_ACCEPTED = "kaga:purpose-not-accepted"
SCHEMA_INVALID = "kaga:schema-invalid"
BUNDLE_INVALID = "kaga:bundle-invalid"
BUNDLE_SIGNATURE_INVALID = "kaga:bundle-signature-invalid"
BUNDLE_SIGNER_NOT_TRUSTED = "kaga:bundle-signer-not-trusted"
BUNDLE_STALE = "kaga:bundle-stale"
#: an online fetch (did:web, bundle fetch) to a host on a loopback, private or link-local address
ADDRESS_NOT_ALLOWED = "kaga:address-not-allowed"
#: an online fetch that could not be completed before its deadline, or failed on the wire
FETCH_FAILED = "kaga:fetch-failed"
URL_NOT_ALLOWED = "kaga:url-not-allowed"
#: the bundle is past its expiresAt (plus the policy's grace)
BUNDLE_EXPIRED = "kaga:bundle-expired"
#: the bundle is older than (or forks) the newest bundle of its city this verifier has seen
BUNDLE_ROLLBACK = "kaga:bundle-rollback"
#: no trusted city is configured (a refusal unless any city is trusted explicitly)
BUNDLE_SIGNER_NOT_PINNED = "kaga:bundle-signer-not-pinned"
#: a did:ethr city's bundle not signed by a bundle key its owner (identity) key certified for that time
BUNDLE_KEY_NOT_CERTIFIED = "kaga:bundle-key-not-certified"
#: a bundle signed by an older bundle-key generation than one this verifier has already seen (rotated out)
BUNDLE_KEY_RETIRED = "kaga:bundle-key-retired"
WALLET_NOT_FOUND = "kaga:wallet-not-found"
WALLET_EXISTS = "kaga:wallet-exists"

# OpenID4VCI issuance and OpenID4VP presentation (issue 15). Over HTTP each also names its OAuth
# error code (``ProtocolError.oauth_error``); callers and tests branch on these stable codes.
OFFER_UNKNOWN = "kaga:offer-unknown"  # no offer has this pre-authorized code
OFFER_TX_CODE_WRONG = "kaga:offer-tx-code-wrong"  # the transaction code (PIN) is wrong or missing
OFFER_LOCKED = "kaga:offer-locked"  # too many wrong transaction codes
OFFER_USED = "kaga:offer-used"  # the offer's credential was already issued
OFFER_EXPIRED = "kaga:offer-expired"
ACCESS_TOKEN_INVALID = "kaga:access-token-invalid"  # unknown, expired or spent access token
KEY_PROOF_INVALID = "kaga:key-proof-invalid"  # openid4vci-proof+jwt malformed or not signed by its key
KEY_PROOF_NONCE_INVALID = "kaga:key-proof-nonce-invalid"  # the key proof's nonce is not a live c_nonce
CREDENTIAL_REQUEST_INVALID = "kaga:credential-request-invalid"
CREDENTIAL_CONFIGURATION_UNKNOWN = "kaga:credential-configuration-unknown"
OPENID4VP_REQUEST_UNKNOWN = "kaga:openid4vp-request-unknown"  # no pending request for this id / state
OPENID4VP_RESPONSE_INVALID = "kaga:openid4vp-response-invalid"  # vp_token / state malformed


# The HTTP service (issue 14).
UNAUTHORIZED = "kaga:unauthorized"  # no or an unknown admin credential (HTTP 401)
FORBIDDEN = "kaga:forbidden"  # authenticated, but not allowed this (HTTP 403)
RATE_LIMITED = "kaga:rate-limited"  # too many requests from one client (HTTP 429)
NOT_FOUND_HTTP = "kaga:not-found"  # no such resource on this server (HTTP 404)
METHOD_NOT_ALLOWED = "kaga:method-not-allowed"  # HTTP 405
UNSUPPORTED_MEDIA_TYPE = "kaga:unsupported-media-type"  # a body that is not application/json (HTTP 415)
ISSUER_UNKNOWN = "kaga:issuer-unknown"  # no configured issuer of that name or DID
ADMIN_TOKENS_INVALID = "kaga:admin-tokens-invalid"  # the admin tokens file is unreadable or malformed

# Codes raised in one place each, declared here so that this module lists them all (the registry's
# codes are in kaga_vc/registry/_errors.py, the Kaga claim rules' in kaga_vc/credentials/kaga/_validate.py;
# tests/test_error_codes.py checks that every code the library spells is declared and tested).
CHALLENGE_NOT_CHECKED = "kaga:challenge-not-checked"  # warning: no challenge given, replay not ruled out
KB_JWT_NOT_BOUND = "kaga:kb-jwt-not-bound"  # warning: a KB-JWT was present but no audience / nonce was asked for
REQUIREMENT_NOT_MET = "kaga:requirement-not-met"  # a response does not satisfy the request's credential queries
VERIFICATION_FAILED = "kaga:verification-failed"  # an access-log entry's reason when a refusal named no code
FULL_DISCLOSURE = "kaga:full-disclosure"  # the wallet presents a whole credential (a format without selective disclosure)
BUNDLE_UNAVAILABLE = "kaga:bundle-unavailable"  # a trust bundle could not be fetched (the fetch error's default)
DID_WEB_UNREACHABLE = "kaga:did-web-unreachable"  # a did:web document could not be fetched
UNSUPPORTED_PUBLIC_KEY_FORMAT = "kaga:unsupported-public-key-format"  # did:key publicKeyFormat not offered
JSONLD_PROCESSOR_UNSUPPORTED = "kaga:jsonld-processor-unsupported"  # the installed pyld cannot report dropped terms
HTTP_ERROR = "kaga:http-error"  # an HTTP exchange failed (a wallet's OpenID4VC call, a server error page)
PASSWORD_REQUIRED = "kaga:password-required"  # a keystore password is needed and none was given
CITY_EXISTS = "kaga:city-exists"  # city init over an existing city home
CITY_NOT_INITIALISED = "kaga:city-not-initialised"  # no city in this home yet
CITY_SETUP_FAILED = "kaga:city-setup-failed"  # city init could not write its DID to the registry
# signed by a key the issuer's DID no longer lists (revoked, expired delegate, deactivated DID) and no
# issuance anchor made while the key was valid includes it: possibly backdated (docs/key-rotation.md)
KEY_NO_LONGER_VALID = "kaga:key-no-longer-valid"
ERROR = "kaga:error"  # KagaError's default code
UNSUPPORTED = "kaga:unsupported"  # UnsupportedError's default code
UNAVAILABLE = "kaga:unavailable"  # UnavailableError's default code


class KagaError(Exception):
    """Root of every error kaga_vc raises on purpose."""

    default_code = ERROR

    def __init__(self, code: str | None = None, detail: str = "", **context: Any) -> None:
        self.code = code or self.default_code
        self.detail = detail
        self.context = context
        super().__init__(f"{self.code}: {detail}" if detail else self.code)

    def to_dict(self) -> dict[str, Any]:
        """Problem-details style mapping used by the CLI's ``--json`` error output."""
        out: dict[str, Any] = {"code": self.code, "detail": self.detail}
        if self.context:
            out["context"] = {k: v for k, v in self.context.items() if _is_jsonable(v)}
        return out


def _is_jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))


class InputError(KagaError, ValueError):
    """The caller's data is unreadable or malformed."""

    default_code = MALFORMED_VALUE_ERROR


class UnsupportedError(KagaError):
    """A suite, key type, DID method or algorithm this library does not support (or refuses)."""

    default_code = UNSUPPORTED


class ResolutionError(KagaError):
    """A DID or DID URL could not be resolved; ``code`` is a DID Resolution error code."""

    default_code = NOT_FOUND


class DocumentLoadError(KagaError):
    """A JSON-LD document (context) could not be loaded without breaking the offline rule."""

    default_code = CONTEXT_NOT_BUNDLED


class KeystoreError(KagaError):
    """An encrypted keystore could not be opened: wrong password, corruption, unreadable file."""

    default_code = KEYSTORE_CORRUPTED


class ProofError(KagaError):
    """A proof could not be created or did not verify."""

    default_code = PROOF_VERIFICATION_ERROR


class StatusError(KagaError):
    """A status list could not be read, allocated from or changed; a status transition was refused."""

    default_code = STATUS_LIST_INVALID


class RecordsError(KagaError):
    """The issuance records store could not be opened or written."""

    default_code = RECORDS_UNAVAILABLE


class UnavailableError(KagaError):
    """A source needed to check something (a bundle URL, a server) could not be read: "could not check"."""

    default_code = UNAVAILABLE


class RegistryError(KagaError):
    """The Ethereum registry could not be read or written."""

    default_code = TRANSACTION_FAILED


class ProtocolError(KagaError):
    """An OpenID4VCI / OpenID4VP protocol message refused; ``oauth_error`` and ``status`` are its HTTP form."""

    default_code = CREDENTIAL_REQUEST_INVALID

    def __init__(self, code: str | None = None, detail: str = "", *, oauth_error: str = "invalid_request",
                 status: int = 400, **context: Any) -> None:
        super().__init__(code, detail, **context)
        self.oauth_error = oauth_error
        self.status = status

    def to_oauth(self) -> dict[str, Any]:
        """The OAuth 2.0 error response body (RFC 6749 §5.2), with the stable code beside it."""
        return {"error": self.oauth_error, "error_description": self.detail, "kaga_code": self.code}


class AccessLogError(KagaError):
    """The access log could not be opened, written, proved or read as asked."""

    default_code = LOG_UNAVAILABLE


class AuthError(KagaError):
    """An HTTP caller without the right to do what it asked (unauthenticated, forbidden, rate-limited)."""

    default_code = UNAUTHORIZED


__all__ = [name for name in dir() if name.isupper() or name.endswith("Error")]
