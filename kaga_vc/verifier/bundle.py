"""The trust bundle: everything an offline verifier needs, signed by the city.

A bundle is a compact JWS (header ``typ`` ``kaga-bundle+jwt``, ``kid`` the city's identity key:
``<city>#controller`` for a did:ethr city, signed ES256K with its owner key) whose payload is::

    {"format": "kaga-vc/trust-bundle/1", "city": <city DID>, "createdAt": <ISO 8601>,
     "chain": {"chainId", "block", "blockTimestamp"},
     "issuers": [{"did", "types": [...], "name"}],            # who is trusted for what
     "histories": [<kaga-vc/did-ethr-history/1>, ...],        # full did:ethr histories (issuers, city)
     "statusLists": {<status list credential URL>: <credential as issued>},
     "schemas": {<credential type>: <JSON Schema or {}>},      # the accepted types
     "contexts": {<context URL>: <sha256 hex>}}

Integrity is the city's signature over the whole payload: changing any byte fails with
``kaga:bundle-signature-invalid``. The signature is checked against what the city's DID string
itself commits to — the identity address of a did:ethr (the ES256K signature must recover to it),
the key of a did:key — and never against a document built from the histories the bundle carries:
those events cannot be authenticated offline, and anyone could append a "key added" event and sign
with that key. Verifiers pin the city's DID (``trusted_city``); a bundle of another city is
``kaga:bundle-signer-not-trusted``. The price: a city that hands its DID to another owner on the
registry must still sign bundles with the original identity key, or verifiers must pin a new DID.

Offline resolution: :meth:`TrustBundle.resolver` resolves did:ethr from the histories with the
DID Resolution ``versionTime`` of each credential's issuance, so a credential signed before a key
rotation still verifies and one signed after a key's revocation does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from ..did import DIDURL, KeyMethod, ResolutionOptions, ResolutionResult, Resolver
from ..did._syntax import DID
from ..errors import (
    BUNDLE_INVALID,
    BUNDLE_SIGNATURE_INVALID,
    BUNDLE_SIGNER_NOT_TRUSTED,
    InputError,
    KagaError,
    ProofError,
)
from ..keys import Signer

JSONObject = dict[str, Any]
FORMAT = "kaga-vc/trust-bundle/1"
BUNDLE_TYP = "kaga-bundle+jwt"
#: bundles carry whole histories and status lists: far above the 64 KiB of a credential JWT
MAX_BUNDLE_BYTES = 32 * 1024 * 1024


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

    FORMAT: ClassVar[str] = FORMAT

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or datetime.now(UTC)) - self.created

    @property
    def digest(self) -> str:
        """SHA-256 of the signed bundle: what a verifier records as "the bundle I used"."""
        return hashlib.sha256(self.token.encode("ascii")).hexdigest()

    def resolver(self, version_times: Mapping[str, datetime] | None = None) -> Resolver:
        """An offline resolver: did:key, and did:ethr from the histories (pinned per DID if given)."""
        methods: dict[str, Any] = {"key": KeyMethod()}
        ethr = _ethr_method(self.histories.values())
        if ethr is not None:
            methods["ethr"] = PinnedTimeMethod(ethr, version_times or {}) if version_times else ethr
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
            "chain": dict(self.chain),
            "issuers": [i.to_json() for i in self.issuers.values()],
            "histories": [h.to_json() for h in self.histories.values()],
            "statusLists": dict(self.status_lists),
            "schemas": dict(self.schemas),
            "contexts": dict(self.contexts),
        }

    def summary(self, now: datetime | None = None) -> JSONObject:
        """What ``kaga-vc bundle show`` prints: no histories or status list bits, just the facts."""
        return {
            "city": self.city,
            "createdAt": self.created.isoformat(),
            "ageSeconds": int(self.age(now).total_seconds()),
            "digest": self.digest,
            "chain": dict(self.chain),
            "issuers": [i.to_json() for i in self.issuers.values()],
            "histories": {did: len(h.events) for did, h in self.histories.items()},
            "statusLists": sorted(self.status_lists),
            "types": sorted(self.schemas),
            "contexts": len(self.contexts),
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
) -> TrustBundle:
    """Assemble and sign a bundle with the city's identity key (``signer``; its DID is the bundle's ``city``).

    For a did:ethr city that is the owner key at ``#controller`` (see :func:`city_signing_method`).
    """
    from ..proofs.jose._jws import alg_for_key_type, sign_compact

    if not issuers:
        raise InputError(BUNDLE_INVALID, "a bundle needs at least one trusted issuer")
    try:
        city = str(DIDURL.parse(signer.key_id).did)
    except KagaError:
        raise InputError(BUNDLE_INVALID, f"signer key_id {signer.key_id!r} is not a DID URL") from None
    schemas = dict(schemas or {})
    for issuer in issuers:
        for kind in issuer.types:
            schemas.setdefault(kind, {})
    bundle = TrustBundle(
        city=city,
        created=(now or datetime.now(UTC)).replace(microsecond=0),
        issuers={i.did: i for i in issuers},
        histories={h.did: h for h in histories},
        status_lists=dict(status_lists or {}),
        schemas=schemas,
        contexts=dict(contexts if contexts is not None else context_digests()),
        chain=dict(chain or {}),
    )
    if signer.key_id != city_signing_method(city):
        raise InputError(BUNDLE_INVALID, f"a bundle is signed with the city's identity key {city_signing_method(city)}, "
                                         f"not {signer.key_id}")
    header = {"alg": alg_for_key_type(signer.key_type), "typ": BUNDLE_TYP, "kid": signer.key_id}
    token = sign_compact(header, bundle.to_payload(), signer)
    return _replace_token(bundle, token)


def _replace_token(bundle: TrustBundle, token: str) -> TrustBundle:
    return TrustBundle(bundle.city, bundle.created, bundle.issuers, bundle.histories, bundle.status_lists,
                       bundle.schemas, bundle.contexts, bundle.chain, token)


def sync_bundle(
    ethr: Any,
    *,
    signer: Signer,
    issuers: Sequence[TrustedIssuer],
    status_lists: Mapping[str, Any] | None = None,
    schemas: Mapping[str, JSONObject] | None = None,
    now: datetime | None = None,
) -> TrustBundle:
    """Read the full did:ethr histories of the issuers (and the city) through ``ethr`` and sign a bundle.

    ``ethr`` is an :class:`~kaga_vc.did.ethr.EthrMethod` over a chain (``kaga_vc.registry.ethr_method``);
    this module never imports the registry itself. did:key issuers need no history.
    """
    city = str(DIDURL.parse(signer.key_id).did)
    histories = []
    chain: JSONObject = {}
    for did in dict.fromkeys([*(i.did for i in issuers), city]):
        if not did.startswith("did:ethr:"):
            continue
        history = ethr.history(did)
        histories.append(history)
        if history.block >= int(chain.get("block", -1)):
            chain = {"chainId": history.chain_id, "registry": history.registry, "block": history.block,
                     "blockTimestamp": history.block_timestamp}
    return build_bundle(signer=signer, issuers=issuers, histories=histories, status_lists=status_lists,
                        schemas=schemas, chain=chain, now=now)


def read_bundle(
    token: str | bytes,
    *,
    trusted_city: str | Iterable[str] | None = None,
) -> TrustBundle:
    """Decode a bundle and check the city's signature (and, if given, that the city is the pinned one).

    Raises InputError ``kaga:bundle-invalid`` (not a bundle), ProofError ``kaga:bundle-signature-invalid``
    (tampered, or not signed by a key of the city's DID at ``createdAt``), ProofError
    ``kaga:bundle-signer-not-trusted`` (another city than ``trusted_city``).
    """
    from ..did.ethr import DIDHistory
    from ..proofs.jose._jws import JOSELimits, parse_compact

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
        if created.tzinfo is None:
            raise ValueError("createdAt without a time zone")
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
    try:
        verify_city_signature(jws, bundle.city)
    except KagaError as error:
        raise ProofError(BUNDLE_SIGNATURE_INVALID, f"the bundle's signature does not verify: {error.detail}") from None
    return bundle


def city_signing_method(city: str) -> str:
    """The verification method a bundle of ``city`` must be signed with: the DID's own identity key.

    A bundle carries the DID histories a verifier will trust, so its signature cannot be checked
    against a document built from those same histories (anyone can append a "key added" event and
    sign with that key). It is checked against what the DID string itself commits to instead: for
    did:ethr the identity address (``#controller``, ES256K recovered to that address), for did:key
    the key. Other methods cannot sign bundles.
    """
    parsed = DID.parse(city)
    if parsed.method == "ethr":
        return f"{city}#controller"
    if parsed.method == "key":
        return f"{city}#{parsed.method_specific_id.rsplit(':', 1)[-1]}"
    raise ProofError(BUNDLE_SIGNATURE_INVALID, f"a bundle must be signed by a did:ethr or did:key city, not {city}")


def verify_city_signature(jws: Any, city: str) -> None:
    """Check a bundle JWS against the key ``city``'s DID string commits to (see :func:`city_signing_method`)."""
    from ..did.ethr import parse_ethr_did
    from ..did.key import public_key_from_did_key
    from ..proofs.jose._jws import verify_with_account, verify_with_public_key

    expected_kid = city_signing_method(city)
    if jws.header.get("kid") != expected_kid:
        raise ProofError(BUNDLE_SIGNATURE_INVALID, f"a bundle must be signed with {expected_kid}")
    if DID.parse(city).method == "ethr":
        verify_with_account(jws, f"eip155:0:{parse_ethr_did(city).address}")
    else:
        verify_with_public_key(jws, public_key_from_did_key(city))


__all__ = [
    "BUNDLE_TYP",
    "FORMAT",
    "PinnedTimeMethod",
    "TrustBundle",
    "TrustedIssuer",
    "build_bundle",
    "context_digests",
    "read_bundle",
    "sync_bundle",
]
