"""The trust bundle: everything an offline verifier needs, signed by the city.

A bundle is a compact JWS (header ``typ`` ``kaga-bundle+jwt``; for a did:ethr city ``kid``
``<city>#bundle-key-<generation>``, signed EdDSA with the city's dedicated bundle key, see
:mod:`kaga_vc.verifier.bundle_key`; for a did:key city its own key) whose payload is::

    {"format": "kaga-vc/trust-bundle/1", "city": <city DID>, "createdAt": <ISO 8601>,
     "sequence": <int, strictly increasing per city>, "expiresAt": <ISO 8601>,
     "chain": {"chainId", "block", "blockTimestamp"},
     "issuers": [{"did", "types": [...], "name"}],            # who is trusted for what
     "histories": [<kaga-vc/did-ethr-history/1>, ...],        # full did:ethr histories (issuers, city)
     "statusLists": {<status list credential URL>: <credential as issued>},
     "schemas": {<credential type>: <JSON Schema or {}>},      # the accepted types
     "contexts": {<context URL>: <sha256 hex>},
     "bundleKey": <the owner's bundle-key certificate (did:ethr cities)>,
     "didDocuments": {<did:web issuer>: <its DID document, fetched at sync>},  # only with did:web issuers
     "issuanceAnchors": {<retired city verification method>: <sorted 16-byte digests, base64url>}}

Integrity is the city's signature over the whole payload: changing any byte fails with
``kaga:bundle-signature-invalid``. The signature is checked against what the city's DID string
itself commits to — for a did:ethr the identity address, which must have signed the certificate of
the bundle key (``kaga:bundle-key-not-certified`` otherwise, the owner key signing the bundle itself
included), for a did:key the key — and never against a document built from the histories the bundle
carries: those events cannot be authenticated offline, and anyone could append a "key added" event
and sign with that key. A bundle of an older key generation than one already seen is
``kaga:bundle-key-retired``. Verifiers pin the city's DID (``trusted_city``); a bundle of another city is
``kaga:bundle-signer-not-trusted``. The price: a city that hands its DID to another owner on the
registry must still sign bundles with the original identity key, or verifiers must pin a new DID.

Rollback: every bundle carries a ``sequence`` that only grows and an ``expiresAt``. A verifier keeps
the newest bundle it has seen per city (:class:`BundleMemory`) and refuses an older one
(``kaga:bundle-rollback``: a revocation cannot be undone by replaying the bundle from before it), and
refuses an expired one (``kaga:bundle-expired``, with an optional grace). Both checks, and the pinning
of the city (no trusted city is a refusal, ``kaga:bundle-signer-not-pinned``, unless the policy
explicitly trusts any city), are in :func:`check_bundle`, the one function the verifier calls.

Offline resolution: :meth:`TrustBundle.resolver` resolves did:ethr from the histories with the
DID Resolution ``versionTime`` of each credential's issuance, so a credential signed before a key
rotation still verifies and one signed after a key's revocation does not. One signed with a key the
city's latest document no longer accepts, but dated inside its old window, must also be listed in
``issuanceAnchors`` (anchored while the key was valid): :mod:`kaga_vc.verifier.anchors`.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from .._sqlite import use_wal
from ..did import DID, DIDURL, KeyMethod, ResolutionOptions, ResolutionResult, Resolver
from ..errors import (
    BUNDLE_EXPIRED,
    BUNDLE_INVALID,
    BUNDLE_KEY_NOT_CERTIFIED,
    BUNDLE_KEY_RETIRED,
    BUNDLE_ROLLBACK,
    BUNDLE_SIGNATURE_INVALID,
    BUNDLE_SIGNER_NOT_PINNED,
    BUNDLE_SIGNER_NOT_TRUSTED,
    BUNDLE_STALE,
    InputError,
    KagaError,
    ProofError,
)
from ..keys import Signer
from .bundle_key import BundleKeyCertificate, BundleKeySigner

if TYPE_CHECKING:
    from ..results import Problem

JSONObject = dict[str, Any]
FORMAT = "kaga-vc/trust-bundle/1"
BUNDLE_TYP = "kaga-bundle+jwt"
#: bundles carry whole histories and status lists: far above the 64 KiB of a credential JWT
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
#: how long a bundle is valid unless the city says otherwise: a business syncs at least weekly
DEFAULT_BUNDLE_VALIDITY = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An issuer the city vouches for, and the credential types it may issue (empty: any)."""

    did: str
    types: tuple[str, ...] = ()
    name: str | None = None

    def to_json(self) -> JSONObject:
        out: JSONObject = {"did": self.did, "types": list(self.types)}
        if self.name:
            out["name"] = self.name
        return out

    def accepts(self, credential_types: Iterable[str]) -> bool:
        return not self.types or any(t in self.types for t in credential_types)


@dataclass(frozen=True, slots=True)
class TrustBundle:
    """A read (and, unless built here, signature-checked) trust bundle."""

    city: str
    created: datetime
    issuers: Mapping[str, TrustedIssuer]
    histories: Mapping[str, Any]  # DID -> DIDHistory
    status_lists: Mapping[str, Any] = field(default_factory=dict)
    schemas: Mapping[str, JSONObject] = field(default_factory=dict)
    contexts: Mapping[str, str] = field(default_factory=dict)
    chain: Mapping[str, Any] = field(default_factory=dict)
    token: str = ""
    sequence: int = 0
    expires: datetime | None = None
    key_certificate: BundleKeyCertificate | None = None
    did_documents: Mapping[str, JSONObject] = field(default_factory=dict)  # did:web DID -> its DID document
    issuance_anchors: Mapping[str, bytes] = field(default_factory=dict)
    """Retired city verification method -> the sorted 16-byte digests anchored while it was valid."""

    FORMAT: ClassVar[str] = FORMAT

    @property
    def key_generation(self) -> int:
        """The bundle key's generation (0 for a did:key city, which signs with its own key)."""
        return self.key_certificate.generation if self.key_certificate is not None else 0

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or datetime.now(UTC)) - self.created

    def is_expired(self, now: datetime | None = None, grace: timedelta = timedelta(0)) -> bool:
        return self.expires is None or (now or datetime.now(UTC)) > self.expires + grace

    @property
    def digest(self) -> str:
        """SHA-256 of the signed bundle: what a verifier records as "the bundle I used"."""
        return hashlib.sha256(self.token.encode("ascii")).hexdigest()

    def resolver(self, version_times: Mapping[str, datetime] | None = None) -> Resolver:
        """An offline resolver: did:key, did:ethr from the histories (pinned per DID if given), and did:web
        from the DID documents the city synced (a did:web has no history: the document as synced)."""
        methods: dict[str, Any] = {"key": KeyMethod()}
        ethr = _ethr_method(self.histories.values())
        if ethr is not None:
            methods["ethr"] = PinnedTimeMethod(ethr, version_times or {}) if version_times else ethr
        if self.did_documents:
            from ..did.web import WebMethod

            methods["web"] = WebMethod(allow_network=False, documents=self.did_documents)
        return Resolver(methods)

    def fetch(self, url: str) -> Any:
        """The status list credential at ``url`` as the city synced it (a ``StatusListSource``)."""
        from ..errors import STATUS_LIST_UNAVAILABLE, StatusError

        document = self.status_lists.get(url)
        if document is None:
            raise StatusError(STATUS_LIST_UNAVAILABLE, f"status list {url} is not in the trust bundle", url=url)
        return document

    def to_payload(self) -> JSONObject:
        return {
            "format": FORMAT,
            "city": self.city,
            "createdAt": self.created.isoformat().replace("+00:00", "Z"),
            "sequence": self.sequence,
            "expiresAt": _iso(self.expires),
            "chain": dict(self.chain),
            "issuers": [i.to_json() for i in self.issuers.values()],
            "histories": [h.to_json() for h in self.histories.values()],
            "statusLists": dict(self.status_lists),
            "schemas": dict(self.schemas),
            "contexts": dict(self.contexts),
            **({"bundleKey": self.key_certificate.token} if self.key_certificate is not None else {}),
            **({"didDocuments": dict(self.did_documents)} if self.did_documents else {}),
            **({"issuanceAnchors": {m: _encoded(raw) for m, raw in self.issuance_anchors.items()}}
               if self.issuance_anchors else {}),
        }

    def summary(self, now: datetime | None = None) -> JSONObject:
        """What ``kaga-vc bundle show`` prints: no histories or status list bits, just the facts."""
        return {
            "city": self.city,
            "createdAt": self.created.isoformat(),
            "sequence": self.sequence,
            "expiresAt": self.expires.isoformat() if self.expires else None,
            "ageSeconds": int(self.age(now).total_seconds()),
            "digest": self.digest,
            "chain": dict(self.chain),
            "issuers": [i.to_json() for i in self.issuers.values()],
            "histories": {did: len(h.events) for did, h in self.histories.items()},
            "didDocuments": sorted(self.did_documents),
            "statusLists": sorted(self.status_lists),
            "types": sorted(self.schemas),
            "contexts": len(self.contexts),
            "bundleKey": self.key_certificate.summary() if self.key_certificate is not None else None,
            "issuanceAnchors": {m: len(raw) // 16 for m, raw in self.issuance_anchors.items()},
        }


class PinnedTimeMethod:
    """did:ethr resolution at a fixed ``versionTime`` per DID, when the caller asks for no version."""

    method: ClassVar[str] = "ethr"

    def __init__(self, base: Any, version_times: Mapping[str, datetime]) -> None:
        self._base = base
        self._times = dict(version_times)

    def resolve(self, did: DID, options: ResolutionOptions) -> ResolutionResult:
        at = self._times.get(str(did))
        if at is not None and options.version_id is None and options.version_time is None:
            options = ResolutionOptions(accept=options.accept, version_time=at, properties=options.properties)
        result: ResolutionResult = self._base.resolve(did, options)
        return result


def _encoded(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _checked_anchors(value: Any, city: str) -> dict[str, bytes]:
    """``issuanceAnchors`` read: city verification method -> decoded digests (``kaga:bundle-invalid`` otherwise)."""
    from .anchors import decode_digests

    if not isinstance(value, Mapping):
        raise InputError(BUNDLE_INVALID, "issuanceAnchors is an object: verification method -> digests")
    out: dict[str, bytes] = {}
    for method, digests in value.items():
        if not isinstance(method, str) or not method.startswith(city + "#"):
            raise InputError(BUNDLE_INVALID, "issuanceAnchors names verification methods of the bundle's city only")
        out[method] = decode_digests(digests)
    return out


def _ethr_method(histories: Iterable[Any]) -> Any:
    from ..did.ethr import EthrMethod, HistorySource, network_key, parse_ethr_did

    by_network: dict[str, list[Any]] = {}
    for history in histories:
        by_network.setdefault(network_key(parse_ethr_did(history.did).network), []).append(history)
    if not by_network:
        return None
    return EthrMethod({network: HistorySource(*items) for network, items in by_network.items()})


def context_digests(urls: Iterable[str] | None = None) -> dict[str, str]:
    """The SHA-256 of each bundled JSON-LD context (all of them by default)."""
    from ..contexts import bundled_contexts

    contexts = bundled_contexts()
    return {url: contexts.digest(url) for url in (urls if urls is not None else contexts.urls())}


def build_bundle(
    *,
    signer: Signer,
    issuers: Sequence[TrustedIssuer],
    histories: Sequence[Any],
    status_lists: Mapping[str, Any] | None = None,
    schemas: Mapping[str, JSONObject] | None = None,
    contexts: Mapping[str, str] | None = None,
    chain: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    sequence: int | None = None,
    valid_for: timedelta = DEFAULT_BUNDLE_VALIDITY,
    did_documents: Mapping[str, JSONObject] | None = None,
    issuance_anchors: Mapping[str, str] | None = None,
) -> TrustBundle:
    """Assemble and sign a bundle with the city's bundle key (``signer``; its DID is the bundle's ``city``).

    For a did:ethr city ``signer`` is a :class:`~kaga_vc.verifier.bundle_key.BundleKeySigner` (the bundle
    key with the owner's certificate, which must cover ``now``); the owner key itself no longer signs
    routine bundles. A did:key city signs with its own key.
    ``sequence`` must grow with every bundle the city signs (default: the wall clock in milliseconds;
    :class:`BundleSequence` keeps it strictly increasing across clock steps); the bundle expires
    ``valid_for`` after its creation. ``did_documents``: the DID documents of did:web issuers (signed with
    the rest, so a verifier resolves them offline), each under its own DID. ``issuance_anchors``: per
    retired verification method of the city, the compact digests anchored while it was valid
    (:func:`kaga_vc.verifier.anchors.retired_key_digests`).
    """
    from ..proofs.jose import alg_for_key_type, sign_compact

    if not issuers:
        raise InputError(BUNDLE_INVALID, "a bundle needs at least one trusted issuer")
    try:
        city = str(DIDURL.parse(signer.key_id).did)
    except KagaError:
        raise InputError(BUNDLE_INVALID, f"signer key_id {signer.key_id!r} is not a DID URL") from None
    if valid_for <= timedelta(0):
        raise InputError(BUNDLE_INVALID, "a bundle's validity must be positive")
    sequence = time.time_ns() // 1_000_000 if sequence is None else sequence
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        raise InputError(BUNDLE_INVALID, "a bundle's sequence is a positive integer")
    schemas = dict(schemas or {})
    for issuer in issuers:
        for kind in issuer.types:
            schemas.setdefault(kind, {})
    created = (now or datetime.now(UTC)).replace(microsecond=0)
    certificate = _signer_certificate(signer, city, created)
    bundle = TrustBundle(
        city=city,
        created=created,
        issuers={i.did: i for i in issuers},
        histories={h.did: h for h in histories},
        status_lists=dict(status_lists or {}),
        schemas=schemas,
        contexts=dict(contexts if contexts is not None else context_digests()),
        chain=dict(chain or {}),
        sequence=sequence,
        expires=created + valid_for,
        key_certificate=certificate,
        did_documents=_checked_documents(did_documents or {}),
        issuance_anchors=_checked_anchors(dict(issuance_anchors or {}), city),
    )
    header = {"alg": alg_for_key_type(signer.key_type), "typ": BUNDLE_TYP, "kid": signer.key_id}
    token = sign_compact(header, bundle.to_payload(), signer)
    return _replace_token(bundle, token)


def _signer_certificate(signer: Signer, city: str, created: datetime) -> BundleKeyCertificate | None:
    """The certificate ``signer`` signs ``city``'s bundle under (None for a did:key city); InputError otherwise."""
    if DID.parse(city).method != "ethr":
        if signer.key_id != city_signing_method(city):
            raise InputError(BUNDLE_INVALID, f"a did:key city signs its bundles with {city_signing_method(city)}, "
                                             f"not {signer.key_id}")
        return None
    if not isinstance(signer, BundleKeySigner):
        raise InputError(BUNDLE_INVALID, f"a bundle of {city} is signed with its certified bundle key "
                                         f"(kaga-vc city bundle-key --rotate), not with {signer.key_id}")
    certificate = signer.certificate
    if certificate.city != city or not certificate.covers(created):
        raise InputError(BUNDLE_INVALID, f"the bundle key {certificate.key_id} is certified from "
                                         f"{_iso(certificate.valid_from)} to {_iso(certificate.valid_until)}, "
                                         f"not for a bundle created {_iso(created)}: rotate it")
    return certificate


def _replace_token(bundle: TrustBundle, token: str) -> TrustBundle:
    return replace(bundle, token=token)


def _checked_documents(documents: Any) -> dict[str, JSONObject]:
    """did:web DID -> its DID document, each well formed and naming its own DID (InputError ``kaga:bundle-invalid``)."""
    from ..did import DIDDocument

    if not isinstance(documents, Mapping):
        raise InputError(BUNDLE_INVALID, "didDocuments is an object: DID -> DID document")
    out: dict[str, JSONObject] = {}
    for did, document in documents.items():
        if not isinstance(did, str) or not did.startswith("did:web:") or not isinstance(document, dict):
            raise InputError(BUNDLE_INVALID, "didDocuments holds DID documents of did:web DIDs only")
        try:
            DID.parse(did)
            DIDDocument(document).verification_methods()
        except KagaError as error:
            raise InputError(BUNDLE_INVALID, f"the DID document of {did[:100]} is malformed: {error.detail}") from None
        if document.get("id") != did:
            raise InputError(BUNDLE_INVALID, f"the DID document given for {did[:100]} is the document of another DID")
        out[did] = document
    return out


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment is not None else None


def sync_bundle(
    ethr: Any,
    *,
    signer: Signer,
    issuers: Sequence[TrustedIssuer],
    status_lists: Mapping[str, Any] | None = None,
    schemas: Mapping[str, JSONObject] | None = None,
    now: datetime | None = None,
    sequence: int | None = None,
    valid_for: timedelta = DEFAULT_BUNDLE_VALIDITY,
    web: Any = None,
    anchored: Mapping[str, Sequence[tuple[bytes, datetime, datetime | None]]] | None = None,
) -> TrustBundle:
    """Read the full did:ethr histories of the issuers (and the city) through ``ethr`` and sign a bundle.

    ``ethr`` is an :class:`~kaga_vc.did.ethr.EthrMethod` over a chain (``kaga_vc.registry.ethr_method``);
    this module never imports the registry itself. did:key issuers need no history. The DID document of
    each did:web issuer is fetched now through ``web`` (a did:web method; default
    :class:`~kaga_vc.did.web.WebMethod`, HTTPS, public addresses only) and carried in the bundle.
    ``anchored``: the city's anchored issuances per signing method (``(digest, earliest anchor time,
    stated issuance)``, from its issuance records); the ones of methods the city no longer lists,
    anchored while they were valid, go into ``issuanceAnchors`` (:mod:`kaga_vc.verifier.anchors`).
    """
    city = str(DIDURL.parse(signer.key_id).did)
    histories: list[Any] = []
    chain: JSONObject = {}
    for did in dict.fromkeys([*(i.did for i in issuers), city]):
        if not did.startswith("did:ethr:"):
            continue
        history = ethr.history(did)
        histories.append(history)
        if history.block >= int(chain.get("block", -1)):
            chain = {"chainId": history.chain_id, "registry": history.registry, "block": history.block,
                     "blockTimestamp": history.block_timestamp}
    documents: dict[str, JSONObject] = {}
    for did in dict.fromkeys(i.did for i in issuers):
        if did.startswith("did:web:"):
            if web is None:
                from ..did.web import WebMethod

                web = WebMethod()
            documents[did] = Resolver({"web": web}).resolve(did).did_document
    retired: dict[str, str] = {}
    if anchored:
        from .anchors import retired_key_digests

        ethr_histories = _ethr_method(histories)
        if ethr_histories is not None or not city.startswith("did:ethr:"):
            offline = Resolver({"key": KeyMethod(), **({"ethr": ethr_histories} if ethr_histories else {})})
            retired = retired_key_digests(offline, {m: v for m, v in anchored.items() if m.startswith(city + "#")})
    return build_bundle(signer=signer, issuers=issuers, histories=histories, status_lists=status_lists,
                        schemas=schemas, chain=chain, now=now, sequence=sequence, valid_for=valid_for,
                        did_documents=documents, issuance_anchors=retired)


def read_bundle(
    token: str | bytes,
    *,
    trusted_city: str | Iterable[str] | None = None,
) -> TrustBundle:
    """Decode a bundle and check the city's signature (and, if given, that the city is the pinned one).

    Raises InputError ``kaga:bundle-invalid`` (not a bundle), ProofError ``kaga:bundle-signature-invalid``
    (tampered, or not signed by the key it names), ProofError ``kaga:bundle-key-not-certified`` (a
    did:ethr city's bundle whose key the city's identity key did not certify for ``createdAt``, or one
    the owner key signed itself), ProofError ``kaga:bundle-signer-not-trusted`` (another city than
    ``trusted_city``).
    """
    from ..did.ethr import DIDHistory
    from ..proofs.jose import JOSELimits, parse_compact

    if isinstance(token, bytes):
        token = token.decode("ascii", "replace")
    token = token.strip()
    try:
        jws = parse_compact(token, limits=JOSELimits(max_token_bytes=MAX_BUNDLE_BYTES, max_depth=64))
    except KagaError as error:
        raise InputError(BUNDLE_INVALID, f"not a trust bundle: {error.detail}") from None
    payload = jws.payload
    if jws.header.get("typ") != BUNDLE_TYP or payload.get("format") != FORMAT:
        raise InputError(BUNDLE_INVALID, f"not a {FORMAT} bundle")
    try:
        created = datetime.fromisoformat(str(payload["createdAt"]))
        expires = datetime.fromisoformat(str(payload["expiresAt"]))
        if created.tzinfo is None or expires.tzinfo is None:
            raise ValueError("createdAt / expiresAt without a time zone")
        sequence = payload["sequence"]
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
            raise ValueError("sequence")
        histories = [DIDHistory.from_json(h) for h in payload.get("histories", [])]
        issuers = [
            TrustedIssuer(str(i["did"]), tuple(str(t) for t in i.get("types", [])), i.get("name"))
            for i in payload["issuers"]
        ]
        bundle = TrustBundle(
            city=str(payload["city"]),
            created=created.astimezone(UTC),
            issuers={i.did: i for i in issuers},
            histories={h.did: h for h in histories},
            status_lists=dict(payload.get("statusLists", {})),
            schemas=dict(payload.get("schemas", {})),
            contexts={str(k): str(v) for k, v in dict(payload.get("contexts", {})).items()},
            chain=dict(payload.get("chain", {})),
            token=token,
            sequence=sequence,
            expires=expires.astimezone(UTC),
            did_documents=_checked_documents(payload.get("didDocuments", {})),
            issuance_anchors=_checked_anchors(payload.get("issuanceAnchors", {}), str(payload["city"])),
        )
    except KagaError as error:
        raise InputError(BUNDLE_INVALID, f"malformed bundle: {error.detail}") from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InputError(BUNDLE_INVALID, "malformed bundle: members missing or of the wrong type") from None
    if trusted_city is not None:
        pinned = {trusted_city} if isinstance(trusted_city, str) else set(trusted_city)
        if bundle.city not in pinned:
            raise ProofError(BUNDLE_SIGNER_NOT_TRUSTED, f"the bundle is signed by {bundle.city}, not a trusted city",
                             city=bundle.city)
    certificate = verify_city_signature(jws, bundle.city, bundle.created)
    return bundle if certificate is None else replace(bundle, key_certificate=certificate)


def city_signing_method(city: str) -> str:
    """The ``kid`` a did:key city signs its bundles with: the DID's own key.

    A did:ethr city signs with a certified bundle key instead (``<city>#bundle-key-<n>``, see
    :mod:`kaga_vc.verifier.bundle_key`). Other methods cannot sign bundles.
    """
    parsed = DID.parse(city)
    if parsed.method == "ethr":
        return f"{city}#bundle-key"
    if parsed.method == "key":
        return f"{city}#{parsed.method_specific_id.rsplit(':', 1)[-1]}"
    raise ProofError(BUNDLE_SIGNATURE_INVALID, f"a bundle must be signed by a did:ethr or did:key city, not {city}")


def verify_city_signature(jws: Any, city: str, created: datetime) -> BundleKeyCertificate | None:
    """Check a bundle JWS against what ``city``'s DID string commits to; the certificate it rests on.

    did:key: the key of the DID. did:ethr: the bundle's ``bundleKey`` certificate must be signed by the
    identity address, be for ``city`` and cover ``created``; the bundle's ``kid`` must be the
    certified key's and its signature verify with that key. A bundle signed by the owner key itself
    (``#controller``) is refused: routine bundles are the bundle key's job.
    """
    from ..did.key import public_key_from_did_key
    from ..proofs.jose import verify_with_public_key
    from .bundle_key import read_certificate

    def check(public_key: Any) -> None:
        try:
            verify_with_public_key(jws, public_key)
        except KagaError as error:
            raise ProofError(BUNDLE_SIGNATURE_INVALID, f"the bundle's signature does not verify: {error.detail}"
                             ) from None

    if DID.parse(city).method != "ethr":
        expected_kid = city_signing_method(city)
        if jws.header.get("kid") != expected_kid:
            raise ProofError(BUNDLE_SIGNATURE_INVALID, f"a bundle must be signed with {expected_kid}")
        check(public_key_from_did_key(city))
        return None
    if jws.header.get("kid") == f"{city}#controller":
        raise ProofError(BUNDLE_KEY_NOT_CERTIFIED, "the bundle is signed by the city's owner key itself; routine "
                                                   "bundles are signed by its certified bundle key")
    certificate = read_certificate(jws.payload.get("bundleKey"), city)
    if jws.header.get("kid") != certificate.key_id:
        raise ProofError(BUNDLE_KEY_NOT_CERTIFIED, f"the bundle names {jws.header.get('kid')!r}, but its "
                                                   f"certificate is for {certificate.key_id}")
    if not certificate.covers(created):
        raise ProofError(BUNDLE_KEY_NOT_CERTIFIED, f"{certificate.key_id} is certified from "
                                                   f"{_iso(certificate.valid_from)} to {_iso(certificate.valid_until)}, "
                                                   f"not for a bundle created {_iso(created)}")
    check(certificate.public_key)
    return certificate


# --- freshness, rollback and pinning: the one check the verifier runs on a bundle ------------------


class BundleMemory:
    """The newest bundle this verifier has seen, per city, in an SQLite file (WAL, ``synchronous=FULL``).

    Bundles are ordered by (bundle-key generation, sequence). :meth:`remember` refuses a bundle signed
    by an older key generation than one seen (``kaga:bundle-key-retired``: a rotated-out key), one
    older than the newest seen within a generation (a lower ``sequence``) or another bundle under the
    same sequence (``kaga:bundle-rollback``), and records a newer one atomically. A newer generation
    wins over any sequence of an older one: a stolen key that signed a huge sequence is cured by a rotation.
    """

    _SCHEMA = ("CREATE TABLE IF NOT EXISTS newest_bundles (city TEXT PRIMARY KEY, sequence INTEGER NOT NULL, "
               "digest TEXT NOT NULL, created TEXT NOT NULL, seen_at INTEGER NOT NULL)")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from .._files import ensure_private_file

        self.path = Path(path)
        ensure_private_file(self.path)
        self._conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        use_wal(self._conn)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(self._SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(newest_bundles)")}
        if "key_generation" not in columns:  # a memory from before bundle keys
            self._conn.execute("ALTER TABLE newest_bundles ADD COLUMN key_generation INTEGER NOT NULL DEFAULT 0")

    @classmethod
    def beside(cls, nonce_store: Any) -> BundleMemory:
        """The memory kept next to a :class:`~kaga_vc.verifier.NonceStore` (the verifier's own state)."""
        return cls(Path(nonce_store.path).with_name("bundles.sqlite3"))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def newest(self, city: str) -> tuple[int, str] | None:
        row = self._conn.execute("SELECT sequence, digest FROM newest_bundles WHERE city = ?", (city,)).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def generation(self, city: str) -> int:
        """The newest bundle-key generation seen for ``city`` (0: none, or a did:key city)."""
        row = self._conn.execute("SELECT key_generation FROM newest_bundles WHERE city = ?", (city,)).fetchone()
        return int(row[0]) if row else 0

    def _newest(self, city: str) -> tuple[int, int, str] | None:
        row = self._conn.execute("SELECT key_generation, sequence, digest FROM newest_bundles WHERE city = ?",
                                 (city,)).fetchone()
        return (int(row[0]), int(row[1]), str(row[2])) if row else None

    def check(self, bundle: TrustBundle) -> None:
        """ProofError ``kaga:bundle-rollback`` / ``kaga:bundle-key-retired`` if ``bundle`` is older than
        (or forks) the newest one seen."""
        _refuse_rollback(bundle, self._newest(bundle.city))

    def remember(self, bundle: TrustBundle) -> None:
        """Check ``bundle`` and, when it is the newest seen, record it (one transaction)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            newest = self._newest(bundle.city)
            _refuse_rollback(bundle, newest)
            if newest is None or (bundle.key_generation, bundle.sequence) > newest[:2]:
                self._conn.execute(
                    "INSERT INTO newest_bundles (city, sequence, digest, created, seen_at, key_generation) "
                    "VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(city) DO UPDATE SET sequence = excluded.sequence, digest = excluded.digest, "
                    "created = excluded.created, seen_at = excluded.seen_at, "
                    "key_generation = excluded.key_generation",
                    (bundle.city, bundle.sequence, bundle.digest, bundle.created.isoformat(), int(time.time()),
                     bundle.key_generation))
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise


def next_bundle_sequence(path: str | os.PathLike[str]) -> int:
    """The city's next bundle sequence, kept in ``path``: the wall clock in ms, but always above the last one.

    An exclusive lock on the file serialises concurrent syncs; the file is replaced atomically.
    """
    import fcntl

    from .._files import write_atomically

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            last = int(target.read_text(encoding="ascii").strip() or 0)
        except FileNotFoundError:
            last = 0
        except ValueError:
            raise InputError(BUNDLE_INVALID, f"{target} does not hold a bundle sequence") from None
        sequence = max(last + 1, time.time_ns() // 1_000_000)
        write_atomically(target, f"{sequence}\n", mode=0o600)
        return sequence


def default_bundle_memory_path(home: str | os.PathLike[str] | None = None) -> Path:
    """``$KAGA_VC_HOME/verifier/bundles.sqlite3``, beside the nonce store."""
    from .nonces import default_nonce_path

    return default_nonce_path(home).with_name("bundles.sqlite3")


def _refuse_rollback(bundle: TrustBundle, newest: tuple[int, int, str] | None) -> None:
    if newest is None:
        return
    generation, sequence, digest = newest
    if bundle.key_generation < generation:
        raise ProofError(BUNDLE_KEY_RETIRED, f"this bundle is signed by bundle key generation {bundle.key_generation}, "
                                             f"but this verifier already saw generation {generation}: the key "
                                             "was rotated out", generation=bundle.key_generation, newest=generation)
    if bundle.key_generation > generation:
        return
    if bundle.sequence < sequence:
        raise ProofError(BUNDLE_ROLLBACK, f"this bundle (sequence {bundle.sequence}) is older than one this verifier "
                                          f"already saw (sequence {sequence}): refusing a rollback",
                         sequence=bundle.sequence, newest=sequence)
    if bundle.sequence == sequence and bundle.digest != digest:
        raise ProofError(BUNDLE_ROLLBACK, f"another bundle with the same sequence {sequence} was already seen",
                         sequence=bundle.sequence, newest=sequence)


def check_bundle(
    bundle: TrustBundle,
    *,
    trusted_cities: Sequence[str],
    trust_any_city: bool = False,
    grace: timedelta = timedelta(0),
    max_age: timedelta | None = None,
    stale_action: str = "warn",
    memory: BundleMemory | None = None,
    now: datetime | None = None,
) -> tuple[list[Problem], list[Problem]]:
    """``(problems, warnings)`` for a signature-checked bundle: pinning, expiry, rollback, age.

    * no trusted city: a refusal ``kaga:bundle-signer-not-pinned`` — unless ``trust_any_city``,
      then a warning with the same code; a city not pinned: ``kaga:bundle-signer-not-trusted``;
    * past ``expiresAt`` + ``grace``: a refusal ``kaga:bundle-expired`` (within the grace: a warning);
    * older than the newest bundle ``memory`` saw for this city: ``kaga:bundle-rollback`` (a newer
      one is remembered);
    * older than ``max_age``: ``kaga:bundle-stale``, a warning or (``stale_action="refuse"``) a refusal.
    """
    from ..results import Problem

    now = now or datetime.now(UTC)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if trusted_cities:
        if bundle.city not in trusted_cities:
            problems.append(Problem(BUNDLE_SIGNER_NOT_TRUSTED, f"the bundle is signed by {bundle.city}, "
                                                               "not a trusted city", None, {"city": bundle.city}))
    elif trust_any_city:
        warnings.append(Problem(BUNDLE_SIGNER_NOT_PINNED, "no trusted city is configured and any city is trusted "
                                                          "explicitly: any validly signed bundle is accepted",
                                None, {"city": bundle.city}))
    else:
        problems.append(Problem(BUNDLE_SIGNER_NOT_PINNED, "no trusted city is configured: pin the city "
                                                          "(--city, $KAGA_VC_TRUSTED_CITY, Policy.trusted_cities)",
                                None, {"city": bundle.city}))
    expires = bundle.expires
    if bundle.is_expired(now):
        context = {"expires": _iso(expires), "now": _iso(now)}
        if bundle.is_expired(now, grace):
            problems.append(Problem(BUNDLE_EXPIRED, f"the trust bundle expired at {_iso(expires)}", None, context))
        else:
            warnings.append(Problem(BUNDLE_EXPIRED, f"the trust bundle expired at {_iso(expires)} (within the grace)",
                                    None, context))
    if memory is not None and not problems:
        try:
            memory.remember(bundle)
        except KagaError as error:
            problems.append(Problem.from_error(error))
    age = bundle.age(now)
    if max_age is not None and age > max_age:
        detail = (f"the trust bundle is {int(age.total_seconds())} s old "
                  f"(policy: at most {int(max_age.total_seconds())} s)")
        stale = Problem(BUNDLE_STALE, detail, None, {"created": bundle.created.isoformat(),
                                                     "age_seconds": int(age.total_seconds())})
        (problems if stale_action == "refuse" else warnings).append(stale)
    return problems, warnings


__all__ = [
    "BUNDLE_TYP",
    "DEFAULT_BUNDLE_VALIDITY",
    "FORMAT",
    "BundleMemory",
    "PinnedTimeMethod",
    "TrustBundle",
    "TrustedIssuer",
    "build_bundle",
    "check_bundle",
    "context_digests",
    "default_bundle_memory_path",
    "next_bundle_sequence",
    "read_bundle",
    "sync_bundle",
]
