"""The city's dedicated bundle-signing key, and the owner's certificate that makes it checkable offline.

Routine trust bundles are signed by a *bundle key* (Ed25519), not by the city's owner key: the owner
key controls the DID and can stay offline, used only when a bundle key is rotated. The problem a
dedicated key raises is how an offline verifier learns it is genuine. The DID histories a bundle
carries cannot tell it: they are unauthenticated JSON, and anyone could append a "bundle key added"
event. So the owner (identity) key — the one the city's DID string commits to — signs a *bundle-key
certificate*, a compact JWS ``typ`` ``kaga-bundle-key+jwt`` (``kid`` ``<city>#controller``, ES256K,
checked by recovering the identity address)::

    {"format": "kaga-vc/bundle-key/1", "city": <city DID>, "generation": <int, +1 per rotation>,
     "publicKeyMultibase": <Ed25519 Multikey>, "validFrom": <ISO 8601>, "validUntil": <ISO 8601>}

Every bundle carries its certificate (``bundleKey``) and is signed with ``kid``
``<city>#bundle-key-<generation>``. A verifier accepts it only if the certificate verifies against the
identity address of the pinned DID, names the same city, covers the bundle's ``createdAt`` and the
bundle's signature verifies with the certified key. Rotation raises the generation: a verifier that
has seen a bundle of generation *n* refuses any bundle of a lower one (``kaga:bundle-key-retired``,
kept by :class:`~kaga_vc.verifier.bundle.BundleMemory`), so a rotated-out key stops signing for it;
one that never saw the new generation is protected by the certificate's ``validUntil``.

The key is also published on the city's did:ethr as a service of type ``KagaBundleKey`` (ERC-1056
attribute ``did/svc/KagaBundleKey``, endpoint ``{"publicKeyMultibase", "generation"}``) and revoked
there on rotation, so anyone online sees the current key (:func:`published_bundle_keys`). A service,
not a ``did/pub/...`` key: every ``pub`` attribute becomes an ``assertionMethod`` of the city in
ethr-did-resolver's document (it could then sign credentials *as the city*), and its id is the
positional ``#delegate-N``; a service grants no signing authority and its type names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..did import DID
from ..errors import BUNDLE_KEY_NOT_CERTIFIED, InputError, KagaError, ProofError
from ..keys import KeyType, PublicKey, Signer

if TYPE_CHECKING:  # an annotation only: verifying a bundle imports no private-key machinery
    from ..keys import PrivateKey

JSONObject = dict[str, Any]
CERTIFICATE_TYP = "kaga-bundle-key+jwt"
CERTIFICATE_FORMAT = "kaga-vc/bundle-key/1"
#: the did:ethr service type that publishes the bundle key
SERVICE_TYPE = "KagaBundleKey"
#: how long a certificate (and the on-chain attribute) is valid unless the city says otherwise
DEFAULT_BUNDLE_KEY_VALIDITY = timedelta(days=365)
_FRAGMENT = "#bundle-key-"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class BundleKeyCertificate:
    """The owner key's statement: this Ed25519 key signs the city's bundles from ``valid_from`` to ``valid_until``."""

    city: str
    generation: int
    public_key: PublicKey
    valid_from: datetime
    valid_until: datetime
    token: str = ""

    @property
    def key_id(self) -> str:
        """The ``kid`` of the bundles this key signs: ``<city>#bundle-key-<generation>``."""
        return f"{self.city}{_FRAGMENT}{self.generation}"

    def covers(self, moment: datetime) -> bool:
        return self.valid_from <= moment <= self.valid_until

    def to_payload(self) -> JSONObject:
        return {"format": CERTIFICATE_FORMAT, "city": self.city, "generation": self.generation,
                "publicKeyMultibase": self.public_key.to_multikey(), "validFrom": _iso(self.valid_from),
                "validUntil": _iso(self.valid_until)}

    def summary(self) -> JSONObject:
        return {"keyId": self.key_id, "generation": self.generation,
                "publicKeyMultibase": self.public_key.to_multikey(), "validFrom": _iso(self.valid_from),
                "validUntil": _iso(self.valid_until)}

    def service_endpoint(self) -> JSONObject:
        """What the ``KagaBundleKey`` service on the city's did:ethr says."""
        return {"publicKeyMultibase": self.public_key.to_multikey(), "generation": self.generation}


def owner_method(city: str) -> str:
    """``<city>#controller``: the identity key of a did:ethr city, the only one that certifies bundle keys."""
    if DID.parse(city).method != "ethr":
        raise InputError(BUNDLE_KEY_NOT_CERTIFIED, f"only a did:ethr city has bundle keys, not {city}")
    return f"{city}#controller"


def certify_bundle_key(
    owner: Signer,
    public_key: PublicKey,
    *,
    generation: int,
    valid_from: datetime | None = None,
    valid_for: timedelta = DEFAULT_BUNDLE_KEY_VALIDITY,
) -> BundleKeyCertificate:
    """Sign a certificate for ``public_key`` (Ed25519) with the city's owner signer (``<city>#controller``)."""
    from ..proofs.jose import sign_compact

    city = owner.key_id.split("#", 1)[0]
    if owner.key_id != owner_method(city) or owner.key_type is not KeyType.SECP256K1:
        raise InputError(BUNDLE_KEY_NOT_CERTIFIED, f"a bundle key is certified by the owner key {owner_method(city)}")
    if public_key.key_type is not KeyType.ED25519:
        raise InputError(BUNDLE_KEY_NOT_CERTIFIED, "a bundle key is an Ed25519 key")
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 1:
        raise InputError(BUNDLE_KEY_NOT_CERTIFIED, "a bundle key's generation is a positive integer")
    if valid_for <= timedelta(0):
        raise InputError(BUNDLE_KEY_NOT_CERTIFIED, "a bundle key's validity must be positive")
    start = (valid_from or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    certificate = BundleKeyCertificate(city, generation, public_key, start, start + valid_for)
    header = {"alg": "ES256K", "typ": CERTIFICATE_TYP, "kid": owner.key_id}
    token = sign_compact(header, certificate.to_payload(), owner)
    return BundleKeyCertificate(city, generation, public_key, certificate.valid_from, certificate.valid_until, token)


def read_certificate(token: Any, city: str) -> BundleKeyCertificate:
    """Decode a certificate and check it was signed by ``city``'s identity key for ``city``.

    Raises ProofError ``kaga:bundle-key-not-certified`` for anything else (missing, malformed, signed by
    another key, for another city).
    """
    from ..did.ethr import parse_ethr_did
    from ..proofs.jose import parse_compact, verify_with_account

    def refuse(why: str) -> ProofError:
        return ProofError(BUNDLE_KEY_NOT_CERTIFIED, f"the bundle key is not certified by {city}: {why}")

    if not isinstance(token, str):
        raise refuse("the bundle carries no bundle-key certificate")
    try:
        jws = parse_compact(token, allowed_algs=("ES256K",))
    except KagaError as error:
        raise refuse(f"not a certificate ({error.detail})") from None
    payload = jws.payload
    if jws.header.get("typ") != CERTIFICATE_TYP or payload.get("format") != CERTIFICATE_FORMAT:
        raise refuse(f"not a {CERTIFICATE_FORMAT} certificate")
    if payload.get("city") != city or jws.header.get("kid") != owner_method(city):
        raise refuse("the certificate is for another city or names another signer")
    try:
        verify_with_account(jws, f"eip155:0:{parse_ethr_did(city).address}")
    except KagaError:
        raise refuse("the certificate's signature does not recover to the city's identity address") from None
    try:
        generation = payload["generation"]
        if isinstance(generation, bool) or not isinstance(generation, int) or generation < 1:
            raise ValueError("generation")
        public_key = PublicKey.from_multikey(str(payload["publicKeyMultibase"]))
        if public_key.key_type is not KeyType.ED25519:
            raise ValueError("key type")
        valid_from = datetime.fromisoformat(str(payload["validFrom"]))
        valid_until = datetime.fromisoformat(str(payload["validUntil"]))
        if valid_from.tzinfo is None or valid_until.tzinfo is None:
            raise ValueError("time zone")
    except (KagaError, KeyError, TypeError, ValueError):
        raise refuse("malformed certificate") from None
    return BundleKeyCertificate(city, generation, public_key, valid_from.astimezone(UTC),
                                valid_until.astimezone(UTC), token)


@dataclass(frozen=True, slots=True)
class BundleKeySigner:
    """A :class:`~kaga_vc.keys.Signer` for bundles: the bundle key with the owner's certificate for it."""

    key: PrivateKey
    certificate: BundleKeyCertificate

    def __post_init__(self) -> None:
        if self.key.public_key != self.certificate.public_key:
            raise InputError(BUNDLE_KEY_NOT_CERTIFIED, "the bundle key does not match its certificate")

    @property
    def key_id(self) -> str:
        return self.certificate.key_id

    @property
    def key_type(self) -> KeyType:
        return self.key.key_type

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)


def published_bundle_keys(document: Mapping[str, Any]) -> list[JSONObject]:
    """The ``KagaBundleKey`` service endpoints of a resolved did:ethr document (for online checks)."""
    return [dict(s["serviceEndpoint"]) for s in document.get("service", [])
            if s.get("type") == SERVICE_TYPE and isinstance(s.get("serviceEndpoint"), dict)]


def check_published(certificate: BundleKeyCertificate, document: Mapping[str, Any]) -> None:
    """ProofError ``kaga:bundle-key-retired`` unless the city's resolved DID document (``document``, read
    online) lists the certificate's key as a ``KagaBundleKey``: it was rotated out or revoked on chain."""
    from ..errors import BUNDLE_KEY_RETIRED

    key = certificate.public_key.to_multikey()
    if not any(e.get("publicKeyMultibase") == key for e in published_bundle_keys(document)):
        raise ProofError(BUNDLE_KEY_RETIRED, f"{certificate.key_id} is no longer a KagaBundleKey of {certificate.city} "
                                             "on the chain: it was rotated out or revoked")


__all__ = [
    "CERTIFICATE_TYP",
    "DEFAULT_BUNDLE_KEY_VALIDITY",
    "SERVICE_TYPE",
    "BundleKeyCertificate",
    "BundleKeySigner",
    "certify_bundle_key",
    "check_published",
    "owner_method",
    "published_bundle_keys",
    "read_certificate",
]
