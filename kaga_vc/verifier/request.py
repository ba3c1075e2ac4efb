"""Presentation requests: what a verifier asks a wallet for, signed so the wallet can check who asks.

A request is a compact JWS (header ``typ`` ``kaga-pr+jwt``, ``kid`` a DID URL of the verifier) whose
payload carries::

    {"iss": <verifier DID>, "jti": <request id>, "nonce": <random, single use>,
     "purpose": "...", "credentials": [{"type": "KycCredential", "claims": ["ageOver18"]}],
     "name": "<the shop's name>", "location": "...", "service": "...", "iat": <seconds>, "exp": <seconds>}

The verifier's DID is the presentation's ``domain`` / ``aud``; the nonce its ``challenge`` / ``nonce``.
The compact string is the serialisation (and what a QR code carries). :func:`read_request` checks
the signature, that the signing key belongs to the DID the request names, and the expiry.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .._encoding import b64url_encode
from ..did import DIDURL, Resolver
from ..errors import (
    REQUEST_EXPIRED,
    REQUEST_INVALID,
    REQUEST_SIGNATURE_INVALID,
    REQUEST_VERIFIER_MISMATCH,
    InputError,
    KagaError,
    ProofError,
    ResolutionError,
)
from ..keys import Signer

REQUEST_TYP = "kaga-pr+jwt"
DEFAULT_LIFETIME = timedelta(minutes=5)
DEFAULT_MAX_CLOCK_SKEW = timedelta(minutes=5)
ANY_TYPE = "*"


@dataclass(frozen=True, slots=True)
class CredentialQuery:
    """One requested credential: its type (``*`` for any) and the claims to disclose from it."""

    type: str = ANY_TYPE
    claims: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "claims": list(self.claims)}

    @classmethod
    def parse(cls, text: str) -> CredentialQuery:
        """``"KycCredential:ageOver18,residentOfKaga"`` or ``"ageOver18,residentOfKaga"`` (any type)."""
        kind, _, claims = text.rpartition(":")
        names = tuple(c.strip() for c in claims.split(",") if c.strip())
        if not names:
            raise InputError(REQUEST_INVALID, f"no claim named in {text!r}")
        return cls(kind.strip() or ANY_TYPE, names)


@dataclass(frozen=True, slots=True)
class PresentationRequest:
    """A verified (or just created) presentation request; ``token`` is its compact serialisation."""

    id: str
    verifier: str
    nonce: str
    purpose: str
    credentials: tuple[CredentialQuery, ...]
    created: datetime
    expires: datetime
    token: str
    location: str | None = None
    service: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    """The verifier's name as the resident should see it (a shop, a ryokan), beside its DID."""

    @property
    def requested_claims(self) -> list[str]:
        return [claim for query in self.credentials for claim in query.claims]

    def is_expired(self, now: datetime | None = None, max_clock_skew: timedelta = timedelta(0)) -> bool:
        return (now or datetime.now(UTC)) - max_clock_skew > self.expires

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "verifier": self.verifier,
            "nonce": self.nonce,
            "purpose": self.purpose,
            "credentials": [q.to_json() for q in self.credentials],
            "name": self.name,
            "location": self.location,
            "service": self.service,
            "created": self.created.isoformat(),
            "expires": self.expires.isoformat(),
        }


MAX_NAME = 100
"""The longest verifier name a request carries (it is shown to the resident and logged)."""


def _signer_did(signer: Signer) -> str:
    try:
        return str(DIDURL.parse(signer.key_id).did)
    except KagaError:
        raise InputError(REQUEST_INVALID, f"signer key_id {signer.key_id!r} is not a DID URL") from None


def create_request(
    *,
    signer: Signer,
    purpose: str,
    credentials: Sequence[CredentialQuery],
    location: str | None = None,
    service: str | None = None,
    name: str | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
    randbytes: Callable[[int], bytes] = secrets.token_bytes,
) -> PresentationRequest:
    """Create and sign a presentation request with a fresh 128-bit nonce; the signer's DID is the verifier.

    Raises InputError ``kaga:request-invalid`` (no purpose, no claim, a non-positive lifetime).
    """
    from ..proofs.jose import alg_for_key_type, sign_compact

    if not purpose or not purpose.strip():
        raise InputError(REQUEST_INVALID, "a request needs a purpose")
    if not credentials or not any(q.claims for q in credentials):
        raise InputError(REQUEST_INVALID, "a request needs at least one claim")
    if lifetime <= timedelta(0):
        raise InputError(REQUEST_INVALID, "a request's lifetime must be positive")
    verifier = _signer_did(signer)
    created = (now or datetime.now(UTC)).replace(microsecond=0)
    expires = created + lifetime
    request_id = "urn:uuid:" + _uuid4(randbytes(16))
    nonce = b64url_encode(randbytes(16))
    payload: dict[str, Any] = {
        "iss": verifier,
        "jti": request_id,
        "nonce": nonce,
        "purpose": purpose,
        "credentials": [q.to_json() for q in credentials],
        "iat": int(created.timestamp()),
        "exp": int(expires.timestamp()),
    }
    if name is not None and (not name.strip() or len(name) > MAX_NAME):
        raise InputError(REQUEST_INVALID, f"a verifier name is 1 to {MAX_NAME} characters")
    if name:
        payload["name"] = name.strip()
    if location:
        payload["location"] = location
    if service:
        payload["service"] = service
    header = {"alg": alg_for_key_type(signer.key_type), "typ": REQUEST_TYP, "kid": signer.key_id}
    token = sign_compact(header, payload, signer)
    return PresentationRequest(request_id, verifier, nonce, purpose, tuple(credentials), created, expires, token,
                               location, service, name=payload.get("name"))


def _uuid4(raw: bytes) -> str:
    b = bytearray(raw)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def parse_request(token: str) -> tuple[PresentationRequest, Any]:
    """Decode a request without checking its signature (returns the request and the parsed JWS)."""
    from ..proofs.jose import parse_compact

    if not isinstance(token, str):
        raise InputError(REQUEST_INVALID, "a request is a compact JWS string")
    token = token.strip()
    try:
        jws = parse_compact(token)
    except KagaError as error:
        raise InputError(REQUEST_INVALID, f"not a presentation request: {error.detail}") from None
    header, payload = jws.header, jws.payload
    if header.get("typ") != REQUEST_TYP:
        raise InputError(REQUEST_INVALID, f"header typ must be {REQUEST_TYP!r}")
    try:
        queries = tuple(
            CredentialQuery(str(q.get("type", ANY_TYPE)), tuple(str(c) for c in q["claims"]))
            for q in payload["credentials"]
        )
        request = PresentationRequest(
            id=str(payload["jti"]),
            verifier=str(payload["iss"]),
            nonce=str(payload["nonce"]),
            purpose=str(payload["purpose"]),
            credentials=queries,
            created=datetime.fromtimestamp(int(payload["iat"]), UTC),
            expires=datetime.fromtimestamp(int(payload["exp"]), UTC),
            token=token,
            location=payload.get("location") if isinstance(payload.get("location"), str) else None,
            service=payload.get("service") if isinstance(payload.get("service"), str) else None,
            name=payload.get("name") if isinstance(payload.get("name"), str) else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError):
        raise InputError(REQUEST_INVALID, "the request payload is missing members or malformed") from None
    if not request.nonce or len(request.nonce) < 16:
        raise InputError(REQUEST_INVALID, "the request's nonce is too short")
    if not queries or not request.requested_claims:
        raise InputError(REQUEST_INVALID, "the request asks for no claim")
    return request, jws


def read_request(
    token: str,
    *,
    resolver: Resolver,
    expected_verifier: str | Iterable[str] | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    check_expiry: bool = True,
) -> PresentationRequest:
    """Decode a request and check who asks: signature, signer = claimed verifier, expiry.

    ``expected_verifier``: the DID (or DIDs) the holder expects to talk to (e.g. from the shop's
    signage); another verifier is refused. Raises InputError ``kaga:request-invalid``,
    ProofError ``kaga:request-signature-invalid`` / ``kaga:request-verifier-mismatch`` /
    ``kaga:request-expired``, ResolutionError when the verifier's DID cannot be resolved.
    """
    from ..proofs.jose import verify_jws_with_did

    request, jws = parse_request(token)
    kid = jws.header.get("kid")
    try:
        kid_did = str(DIDURL.parse(kid).did) if isinstance(kid, str) else None
    except KagaError:
        kid_did = None
    if kid_did is None:
        raise InputError(REQUEST_INVALID, "the request's kid is not a DID URL")
    if kid_did != request.verifier:
        raise ProofError(REQUEST_VERIFIER_MISMATCH,
                         f"the request claims to come from {request.verifier} but was signed by {kid_did}")
    if expected_verifier is not None:
        expected = {expected_verifier} if isinstance(expected_verifier, str) else set(expected_verifier)
        if request.verifier not in expected:
            raise ProofError(REQUEST_VERIFIER_MISMATCH,
                             f"the request comes from {request.verifier}, not from the expected verifier",
                             verifier=request.verifier)
    try:
        verify_jws_with_did(jws, resolver=resolver, expected_did=request.verifier, relationship="authentication",
                            require_kid=True)
    except ResolutionError:
        raise
    except KagaError as error:
        raise ProofError(REQUEST_SIGNATURE_INVALID, f"the request's signature does not verify: {error.detail}") from None
    if check_expiry and request.is_expired(now, max_clock_skew):
        raise ProofError(REQUEST_EXPIRED, f"the request expired at {request.expires.isoformat()}",
                         expires=request.expires.isoformat())
    return request


__all__ = [
    "ANY_TYPE",
    "CredentialQuery",
    "PresentationRequest",
    "create_request",
    "parse_request",
    "read_request",
]
