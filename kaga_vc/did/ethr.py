"""did:ethr: DID documents built from the events of an ERC-1056 registry.

This module is pure: it never talks to Ethereum. What it needs from a chain is the small
:class:`Erc1056Source` protocol (the block of an identity's last change, the registry events of one
block, block timestamps); :mod:`kaga_vc.registry` implements it against a node or the embedded chain,
:class:`HistorySource` implements it offline from an exported :class:`DIDHistory`.

Algorithm: the did:ethr method specification ("Read (Resolve)", "Enumerating Contract Events";
https://github.com/decentralized-identity/ethr-did-resolver/blob/master/doc/did-method-spec.md).
Two output profiles:

``current`` (default)
    the specification at its head: ``publicKeyJwk`` for secp256k1 keys, ``publicKeyMultibase`` for
    Ed25519 / X25519 / Multikey, a ``@context`` listing exactly the vocabularies used, ``versionTime``.
    One deliberate difference from the reference code: a change whose ``validTo`` is not later than
    its own block's timestamp (``revokeDelegate``, or a validity of 0 seconds) is a revocation and is
    never listed, not even when resolving at that very block (on chain ``validDelegate`` is false
    there too).
``legacy``
    byte for byte what the npm release ``ethr-did-resolver`` 11.1.3 returns (``publicKeyHex``,
    ``Ed25519VerificationKey2018`` …), for the tools deployed today. :func:`upgrade_legacy_document`
    turns such a document into the current key representations.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Protocol

from .._encoding import b64url_encode, multibase_decode, multibase_encode
from ..errors import (
    HISTORY_MISSING,
    INVALID_DID,
    INVALID_OPTIONS,
    NOT_FOUND,
    UNKNOWN_NETWORK,
    KagaError,
    RegistryError,
    ResolutionError,
)
from ..keys import KeyType, PublicKey, ethereum_address, to_checksum_address
from ._resolver import DID_LD_JSON, ResolutionOptions, ResolutionResult
from ._syntax import DID

JSONObject = dict[str, Any]
Profile = Literal["current", "legacy"]
PROFILES: tuple[Profile, ...] = ("current", "legacy")

NULL_ADDRESS = "0x" + "00" * 20
#: The spec asks for a limit on the length of an event history (DoS); raise it for long-lived DIDs.
DEFAULT_MAX_CHANGES = 10_000

_IDENTIFIER = re.compile(r"^(?:(.+):)?(0x[0-9a-fA-F]{40}|0x[0-9a-fA-F]{66})$")
_NETWORK = re.compile(r"^(?:[a-z0-9]+(?::[a-z0-9]+)?|0x[0-9a-fA-F]+)$")
_ATTRIBUTE = re.compile(r"^did/(pub|svc)/(\w+)(/(\w+))?(/(\w+))?$", re.ASCII)

# 11.1.3 src/helpers.ts legacyAttrTypes / legacyAlgoMap
_LEGACY_ATTR_TYPES = {"sigAuth": "SignatureAuthentication2018", "veriKey": "VerificationKey2018",
                      "enc": "KeyAgreementKey2019"}
_LEGACY_ALGO_MAP = {
    "Secp256k1VerificationKey2018": "EcdsaSecp256k1VerificationKey2019",
    "Ed25519SignatureAuthentication2018": "Ed25519VerificationKey2018",
    "Secp256k1SignatureAuthentication2018": "EcdsaSecp256k1VerificationKey2019",
    "RSAVerificationKey2018": "RSAVerificationKey2018",
    "Ed25519VerificationKey2018": "Ed25519VerificationKey2018",
    "X25519KeyAgreementKey2019": "X25519KeyAgreementKey2019",
}
# spec head: algorithm token -> verification method type
_ALGO_TO_VM = {"Secp256k1": "EcdsaSecp256k1VerificationKey2019", "Ed25519": "Ed25519VerificationKey2020",
               "X25519": "X25519KeyAgreementKey2020", "Multikey": "Multikey"}
_MULTICODEC = {"Ed25519VerificationKey2020": b"\xed\x01", "X25519KeyAgreementKey2020": b"\xec\x01"}

_CTX_DID = "https://www.w3.org/ns/did/v1"
_CTX_RECOVERY = "https://w3id.org/security/suites/secp256k1recovery-2020/v2"
_LEGACY_CONTEXT = [_CTX_DID, _CTX_RECOVERY, "https://w3id.org/security/v3-unstable"]
RECOVERY_2020 = "EcdsaSecp256k1RecoveryMethod2020"
SECP256K1_2019 = "EcdsaSecp256k1VerificationKey2019"

#: Known network names and their chain ids (the public deployments ethr-did-resolver knows).
KNOWN_NETWORKS: Mapping[str, int] = {
    "mainnet": 1, "sepolia": 11155111, "holesky": 17000, "gno": 100, "polygon": 137, "ewc": 246,
    "volta": 73799, "aurora": 1313161554, "linea:goerli": 59140, "polygon:test": 80001,
}


# --- events and sources -------------------------------------------------------------------------

EventName = Literal["DIDOwnerChanged", "DIDDelegateChanged", "DIDAttributeChanged"]


@dataclass(frozen=True, slots=True)
class Erc1056Event:
    """One registry event, as logged: bytes32 fields and values stay raw bytes."""

    event: EventName
    identity: str
    block_number: int
    log_index: int
    timestamp: int  # of the block holding the event
    previous_change: int
    owner: str | None = None  # DIDOwnerChanged
    name: bytes | None = None  # delegateType (DIDDelegateChanged) or attribute name (bytes32)
    delegate: str | None = None  # DIDDelegateChanged
    value: bytes | None = None  # DIDAttributeChanged
    valid_to: int = 0

    def to_json(self) -> JSONObject:
        out: JSONObject = {"event": self.event, "identity": self.identity, "blockNumber": self.block_number,
                           "logIndex": self.log_index, "timestamp": self.timestamp,
                           "previousChange": self.previous_change}
        if self.owner is not None:
            out["owner"] = self.owner
        if self.name is not None:
            out["name"] = "0x" + self.name.hex()
        if self.delegate is not None:
            out["delegate"] = self.delegate
        if self.value is not None:
            out["value"] = "0x" + self.value.hex()
        if self.event != "DIDOwnerChanged":
            out["validTo"] = str(self.valid_to)
        return out

    @classmethod
    def from_json(cls, data: Any) -> Erc1056Event:
        try:
            event = data["event"]
            if event not in ("DIDOwnerChanged", "DIDDelegateChanged", "DIDAttributeChanged"):
                raise ValueError(event)
            return cls(
                event=event,
                identity=str(data["identity"]),
                block_number=int(data["blockNumber"]),
                log_index=int(data["logIndex"]),
                timestamp=int(data["timestamp"]),
                previous_change=int(data["previousChange"]),
                owner=data.get("owner"),
                name=_hex_bytes(data["name"]) if "name" in data else None,
                delegate=data.get("delegate"),
                value=_hex_bytes(data["value"]) if "value" in data else None,
                valid_to=int(data.get("validTo", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResolutionError(INVALID_OPTIONS, f"malformed registry event in a history: {exc}") from None


def _hex_bytes(text: Any) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError("expected 0x-prefixed hex")
    return bytes.fromhex(text[2:])


class Erc1056Source(Protocol):
    """What did:ethr resolution needs from one chain's registry."""

    @property
    def chain_id(self) -> int: ...

    def changed(self, address: str) -> int:
        """``changed(address)`` of the registry at the latest block (0: never changed)."""
        ...

    def events_at(self, address: str, block: int) -> list[Erc1056Event]:
        """Every registry event of ``address`` in ``block``, in log order."""
        ...

    def block_timestamp(self, block: int) -> int: ...


def fetch_history(source: Erc1056Source, address: str, *, max_changes: int = DEFAULT_MAX_CHANGES) -> list[Erc1056Event]:
    """Walk ``changed`` and ``previousChange`` back to the first change; oldest event first.

    One ``events_at`` per block with changes, whatever the chain's length. Raises RegistryError
    ``kaga:history-missing`` when a block that ``previousChange`` names has no events (a pruned node).
    """
    history: list[Erc1056Event] = []
    block = source.changed(address)
    blocks = 0
    while block:
        blocks += 1
        if blocks > max_changes:
            raise ResolutionError(NOT_FOUND, f"{address} has more than {max_changes} changed blocks")
        events = source.events_at(address, block)
        if not events:
            raise RegistryError(
                HISTORY_MISSING,
                f"no registry events in block {block}, which previousChange points to: the node may have "
                "pruned its history (use an archive node)",
            )
        # the smallest pointer that goes strictly back guards against loops (11.1.3 logParser.ts)
        pointers = [e.previous_change for e in events if 0 < e.previous_change < block]
        history[0:0] = events
        block = min(pointers) if pointers else 0
    return history


# --- identifiers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EthrIdentifier:
    """The parts of a did:ethr: network (name or hex chain id), address, optional public key."""

    did: str
    network: str
    address: str  # EIP-55
    public_key: str | None = None  # 0x + 66 hex, as written in the DID

    @property
    def chain_id(self) -> int | None:
        if self.network.startswith("0x"):
            return int(self.network, 16)
        return KNOWN_NETWORKS.get(self.network)


def parse_ethr_did(did: str | DID) -> EthrIdentifier:
    """Split a did:ethr into network and identifier; ResolutionError ``invalidDid`` if malformed."""
    parsed = did if isinstance(did, DID) else DID.parse(did)
    if parsed.method != "ethr":
        raise ResolutionError(INVALID_DID, f"not a did:ethr: {str(parsed)[:100]}")
    match = _IDENTIFIER.match(parsed.method_specific_id)
    if not match:
        raise ResolutionError(INVALID_DID, f"not a valid did:ethr: {str(parsed)[:100]}")
    network, ident = match.group(1) or "mainnet", match.group(2)
    if not _NETWORK.match(network):
        raise ResolutionError(INVALID_DID, f"not a valid did:ethr network: {network[:60]!r}")
    if len(ident) == 68:
        try:
            key = PublicKey.from_raw(KeyType.SECP256K1, bytes.fromhex(ident[2:]))
        except (KagaError, ValueError):
            raise ResolutionError(INVALID_DID, "the public key of this did:ethr is not a secp256k1 point") from None
        return EthrIdentifier(str(parsed), network, ethereum_address(key), ident)
    return EthrIdentifier(str(parsed), network, to_checksum_address(ident))


def network_key(network: str) -> str:
    """Normalise a network reference: names as they are, hex chain ids without leading zeros."""
    if network.startswith("0x"):
        return hex(int(network, 16))
    return network


# --- the document -------------------------------------------------------------------------------


def _utf8_bytes32(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8").rstrip("\x00")
    except UnicodeDecodeError:
        return None


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _base58(raw: bytes) -> str:
    return multibase_encode(raw)[1:]


def _secp256k1_jwk(raw: bytes) -> JSONObject | None:
    try:
        key = PublicKey.from_raw(KeyType.SECP256K1, raw) if len(raw) == 33 else None
        if key is None and len(raw) == 65 and raw[0] == 4:
            import coincurve

            key = PublicKey.from_raw(KeyType.SECP256K1, coincurve.PublicKey(raw).format(compressed=True))
    except (KagaError, ValueError):
        return None
    if key is None:
        return None
    point = key.uncompressed()
    return {"kty": "EC", "crv": "secp256k1", "x": b64url_encode(point[1:33]), "y": b64url_encode(point[33:65])}


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_document(
    did: str,
    history: Sequence[Erc1056Event],
    *,
    chain_id: int,
    now: int,
    profile: Profile = "current",
    version_id: int | None = None,
    version_time: int | None = None,
    public_key: str | None = None,
    accept: str = DID_LD_JSON,
) -> tuple[JSONObject, JSONObject]:
    """Build the DID document and its metadata from a history (oldest first), as of ``now``.

    ``now`` (Unix seconds) decides which delegates and attributes are still valid: the wall clock,
    the timestamp of block ``version_id`` or the versionTime. Events in blocks after ``version_id``, or
    stamped after ``version_time``, are not applied; the first of them gives ``nextVersionId`` and
    ``nextUpdate``. The latest version applies every mined event, whatever the node's clock says.
    Returns ``(didDocument, didDocumentMetadata)``.
    """
    if profile not in PROFILES:
        raise ResolutionError(INVALID_OPTIONS, f"unknown did:ethr profile {profile!r}")
    ident = parse_ethr_did(did)
    legacy = profile == "legacy"
    controller = ident.address
    delegate_count = 0
    service_count = 0
    auth: dict[str, str] = {}
    key_agreement: dict[str, str] = {}
    signing: dict[str, str] = {}
    pks: dict[str, JSONObject] = {}
    services: dict[str, JSONObject] = {}
    version = 0
    next_version: tuple[int, int] | None = None  # (block, timestamp)
    version_ts = 0
    deactivated = False

    for event in history:
        name = _utf8_bytes32(event.name) if event.event != "DIDOwnerChanged" else ""
        if name is None:
            continue  # a bytes32 field that is not UTF-8: not a DID event (11.1.3 logParser.ts)
        if (version_id is not None and event.block_number > version_id) or (
            version_time is not None and event.timestamp > version_time
        ):
            if next_version is None or event.block_number < next_version[0]:
                next_version = (event.block_number, event.timestamp)
            continue
        if version < event.block_number:
            version, version_ts = event.block_number, event.timestamp
        if event.event == "DIDOwnerChanged":
            controller = to_checksum_address(event.owner or NULL_ADDRESS)
            if controller == NULL_ADDRESS:
                deactivated = True
                break
            continue
        if legacy:
            active = bool(event.valid_to) and event.valid_to >= now
        else:
            active = event.valid_to >= now and event.valid_to > event.timestamp
        if event.event == "DIDDelegateChanged":
            delegate = to_checksum_address(event.delegate or NULL_ADDRESS)
            index = f"DIDDelegateChanged-{name}-{delegate}"
            delegate_count += 1
            if active:
                vm_id = f"{did}#delegate-{delegate_count}"
                if name in ("sigAuth", "veriKey"):
                    if name == "sigAuth":
                        auth[index] = vm_id
                    pks[index] = {"id": vm_id, "type": RECOVERY_2020, "controller": did,
                                  "blockchainAccountId": f"eip155:{chain_id}:{delegate}"}
                    signing[index] = vm_id
            else:
                auth.pop(index, None)
                signing.pop(index, None)
                pks.pop(index, None)
                if legacy:
                    services.pop(index, None)
            continue
        # DIDAttributeChanged
        value = event.value or b""
        index = f"DIDAttributeChanged-{name}-0x{value.hex()}"
        match = _ATTRIBUTE.match(name)
        if legacy:
            if active:
                if not match:
                    continue
                if match.group(1) == "pub":
                    delegate_count += 1
                    pk = _legacy_key(did, delegate_count, match, value)
                    if pk is not None:
                        _add_key(pks, auth, signing, key_agreement, index, pk, match.group(4))
                else:
                    service_count += 1
                    _add_service(services, did, service_count, match.group(2), value, index)
            else:
                if name.startswith("did/pub/"):
                    delegate_count += 1
                elif name.startswith("did/svc/"):
                    service_count += 1
                for table in (auth, signing, pks, services):
                    table.pop(index, None)
            continue
        if name.startswith("did/pub/"):
            delegate_count += 1
        elif name.startswith("did/svc/"):
            service_count += 1
        if not match:
            continue
        if match.group(1) == "pub":
            if active:
                pk = _current_key(did, delegate_count, match, value)
                if pk is not None:
                    _add_key(pks, auth, signing, key_agreement, index, pk, match.group(4))
            else:
                for table in (pks, auth, signing, key_agreement):
                    table.pop(index, None)
        else:
            if _utf8(value) is None:
                continue
            if active:
                _add_service(services, did, service_count, match.group(2), value, index)
            else:
                services.pop(index, None)

    vms: list[JSONObject] = [{"id": f"{did}#controller", "type": RECOVERY_2020, "controller": did,
                              "blockchainAccountId": f"eip155:{chain_id}:{controller}"}]
    authentication = [f"{did}#controller"]
    assertion = [f"{did}#controller"]
    key = public_key or ident.public_key
    if key and controller == ident.address:
        if legacy:
            vms.append({"id": f"{did}#controllerKey", "type": SECP256K1_2019, "controller": did,
                        "publicKeyHex": key.removeprefix("0x")})
            authentication.append(f"{did}#controllerKey")
            assertion.append(f"{did}#controllerKey")
        else:
            jwk = _secp256k1_jwk(bytes.fromhex(key[2:]))
            if jwk is not None:
                vms.append({"id": f"{did}#controllerKey", "type": SECP256K1_2019, "controller": did,
                            "publicKeyJwk": jwk})
                authentication.append(f"{did}#controllerKey")
                assertion.append(f"{did}#controllerKey")

    document: JSONObject
    if deactivated:
        document = {"id": did, "verificationMethod": [], "authentication": [], "assertionMethod": []}
    else:
        document = {"id": did, "verificationMethod": vms + list(pks.values()),
                    "authentication": authentication + list(auth.values()),
                    "assertionMethod": assertion + list(signing.values())}
        if services:
            document["service"] = list(services.values())
        if key_agreement:
            document["keyAgreement"] = list(key_agreement.values())
    if accept == DID_LD_JSON:
        document["@context"] = list(_LEGACY_CONTEXT) if legacy else _current_context(document)

    metadata: JSONObject = {}
    if deactivated:
        metadata["deactivated"] = True
    if version:
        metadata["versionId"] = str(version)
        metadata["updated"] = _iso(version_ts)
    if next_version is not None and not deactivated:
        metadata["nextVersionId"] = str(next_version[0])
        metadata["nextUpdate"] = _iso(next_version[1])
    return document, metadata


def _add_key(pks: dict[str, JSONObject], auth: dict[str, str], signing: dict[str, str],
             key_agreement: dict[str, str], index: str, pk: JSONObject, purpose: str | None) -> None:
    pks[index] = pk
    if purpose == "sigAuth":
        auth[index] = pk["id"]
        signing[index] = pk["id"]
    elif purpose == "enc":
        key_agreement[index] = pk["id"]
    else:
        signing[index] = pk["id"]


def _add_service(services: dict[str, JSONObject], did: str, count: int, service_type: str, value: bytes,
                 index: str) -> None:
    text = _utf8(value)
    if text is None:
        return
    endpoint: Any
    try:
        endpoint = json.loads(text)
    except ValueError:
        endpoint = text
    services[index] = {"id": f"{did}#service-{count}", "type": service_type, "serviceEndpoint": endpoint}


def _legacy_key(did: str, count: int, match: re.Match[str], value: bytes) -> JSONObject | None:
    algorithm, purpose, encoding = match.group(2), match.group(4), match.group(6)
    vm_type = f"{algorithm}{_LEGACY_ATTR_TYPES.get(purpose, purpose) if purpose else 'undefined'}"
    pk: JSONObject = {"id": f"{did}#delegate-{count}", "type": _LEGACY_ALGO_MAP.get(vm_type, algorithm),
                      "controller": did}
    if encoding in (None, "hex"):
        pk["publicKeyHex"] = value.hex()
    elif encoding == "base64":
        pk["publicKeyBase64"] = base64.b64encode(value).decode("ascii")
    elif encoding == "base58":
        pk["publicKeyBase58"] = _base58(value)
    elif encoding == "pem":
        text = _utf8(value)
        if text is None:
            return None
        pk["publicKeyPem"] = text
    else:
        pk["value"] = value.hex()
    return pk


def _current_key(did: str, count: int, match: re.Match[str], value: bytes) -> JSONObject | None:
    algorithm, encoding = match.group(2), match.group(6)
    vm_type = _ALGO_TO_VM.get(algorithm, algorithm)
    pk: JSONObject = {"id": f"{did}#delegate-{count}", "type": vm_type, "controller": did}
    if vm_type == SECP256K1_2019:
        jwk = _secp256k1_jwk(value)
        if jwk is None:
            return None
        pk["publicKeyJwk"] = jwk
    elif vm_type in _MULTICODEC:
        pk["publicKeyMultibase"] = multibase_encode(_MULTICODEC[vm_type] + value)
    elif vm_type == "Multikey":
        pk["publicKeyMultibase"] = multibase_encode(value)
    elif encoding in (None, "hex"):
        pk["publicKeyHex"] = value.hex()
    elif encoding == "base64":
        pk["publicKeyBase64"] = base64.b64encode(value).decode("ascii")
    elif encoding == "base58":
        pk["publicKeyBase58"] = _base58(value)
    else:
        pk["value"] = value.hex()
    return pk


def _current_context(document: JSONObject) -> list[Any]:
    contexts: list[Any] = [_CTX_DID, _CTX_RECOVERY]
    vms = document.get("verificationMethod", [])
    types = {vm["type"] for vm in vms}
    has = {prop: any(prop in vm for vm in vms) for prop in
           ("publicKeyHex", "publicKeyJwk", "publicKeyBase58", "publicKeyBase64")}
    if SECP256K1_2019 in types or has["publicKeyBase58"]:
        contexts.append("https://w3id.org/security/v2")
    if "Ed25519VerificationKey2020" in types:
        contexts.append("https://w3id.org/security/suites/ed25519-2020/v1")
    if "X25519KeyAgreementKey2020" in types:
        contexts.append("https://w3id.org/security/suites/x25519-2020/v1")
    if "Multikey" in types:
        contexts.append("https://w3id.org/security/multikey/v1")
    inline: JSONObject = {}
    if has["publicKeyHex"]:
        inline["publicKeyHex"] = "https://w3id.org/security#publicKeyHex"
    if has["publicKeyJwk"]:
        inline["publicKeyJwk"] = {"@id": "https://w3id.org/security#publicKeyJwk", "@type": "@json"}
    if has["publicKeyBase58"] and "https://w3id.org/security/v2" not in contexts:
        inline["publicKeyBase58"] = "https://w3id.org/security#publicKeyBase58"
    if has["publicKeyBase64"]:
        inline["publicKeyBase64"] = "https://w3id.org/security#publicKeyBase64"
    if inline:
        contexts.append(inline)
    return contexts


def upgrade_legacy_document(document: JSONObject) -> JSONObject:
    """Convert a legacy-profile document's keys to the current representations.

    ``Ed25519VerificationKey2018`` + base58 becomes ``Ed25519VerificationKey2020`` + multibase,
    ``X25519KeyAgreementKey2019`` + base64 becomes the 2020 type + multibase, secp256k1 hex keys become
    JWKs and ``Multikey`` + hex becomes ``Multikey`` + multibase, so a Data Integrity verifier can use
    them. Ids and relationships are unchanged.
    """
    out = dict(document)
    vms = []
    for vm in document.get("verificationMethod", []):
        vm = dict(vm)
        try:
            if vm.get("type") == "Ed25519VerificationKey2018" and "publicKeyBase58" in vm:
                raw = multibase_decode("z" + vm.pop("publicKeyBase58"))
                vm["type"] = "Ed25519VerificationKey2020"
                vm["publicKeyMultibase"] = multibase_encode(b"\xed\x01" + raw)
            elif vm.get("type") == "X25519KeyAgreementKey2019" and "publicKeyBase64" in vm:
                raw = base64.b64decode(vm.pop("publicKeyBase64"))
                vm["type"] = "X25519KeyAgreementKey2020"
                vm["publicKeyMultibase"] = multibase_encode(b"\xec\x01" + raw)
            elif vm.get("type") == SECP256K1_2019 and "publicKeyHex" in vm:
                jwk = _secp256k1_jwk(bytes.fromhex(vm["publicKeyHex"]))
                if jwk is not None:
                    del vm["publicKeyHex"]
                    vm["publicKeyJwk"] = jwk
            elif vm.get("type") == "Multikey" and "publicKeyHex" in vm:
                vm["publicKeyMultibase"] = multibase_encode(bytes.fromhex(vm.pop("publicKeyHex")))
        except (KagaError, ValueError):
            pass  # leave a key we cannot read as it is
        vms.append(vm)
    out["verificationMethod"] = vms
    if "@context" in out:
        out["@context"] = _current_context(out)
    return out


# --- history export ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DIDHistory:
    """The complete registry history of one did:ethr, enough to resolve any version offline."""

    did: str
    chain_id: int
    registry: str
    events: tuple[Erc1056Event, ...]
    block: int  # the chain head the history was read at
    block_timestamp: int

    FORMAT: ClassVar[str] = "kaga-vc/did-ethr-history/1"

    def to_json(self) -> JSONObject:
        return {"format": self.FORMAT, "did": self.did, "chainId": self.chain_id, "registry": self.registry,
                "block": self.block, "blockTimestamp": self.block_timestamp,
                "events": [e.to_json() for e in self.events]}

    @classmethod
    def from_json(cls, data: Any) -> DIDHistory:
        if not isinstance(data, dict) or data.get("format") != cls.FORMAT:
            raise ResolutionError(INVALID_OPTIONS, f"not a {cls.FORMAT} document")
        try:
            parse_ethr_did(str(data["did"]))
            return cls(did=str(data["did"]), chain_id=int(data["chainId"]), registry=str(data["registry"]),
                       events=tuple(Erc1056Event.from_json(e) for e in data["events"]),
                       block=int(data["block"]), block_timestamp=int(data["blockTimestamp"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ResolutionError(INVALID_OPTIONS, f"malformed did:ethr history: {exc}") from None

    def resolve(self, options: ResolutionOptions | None = None, *, profile: Profile = "current",
                now: int | None = None) -> ResolutionResult:
        """Resolve this DID offline, at any version up to the block the history was read at."""
        method = EthrMethod({network_key(parse_ethr_did(self.did).network): HistorySource(self)},
                            profile=profile, clock=(lambda: float(now)) if now is not None else time.time)
        return method.resolve(DID.parse(self.did), options or ResolutionOptions())


class HistorySource:
    """An :class:`Erc1056Source` answering from exported histories, with no network."""

    def __init__(self, *histories: DIDHistory) -> None:
        if not histories:
            raise ResolutionError(INVALID_OPTIONS, "HistorySource needs at least one history")
        self._chain_id = histories[0].chain_id
        self._events: dict[str, list[Erc1056Event]] = {}
        self._timestamps: dict[int, int] = {}
        for history in histories:
            address = parse_ethr_did(history.did).address.lower()
            self._events[address] = list(history.events)
            self._timestamps[history.block] = history.block_timestamp
            for event in history.events:
                self._timestamps[event.block_number] = event.timestamp

    @property
    def chain_id(self) -> int:
        return self._chain_id

    def changed(self, address: str) -> int:
        events = self._events.get(address.lower())
        if events is None:
            raise ResolutionError(NOT_FOUND, f"no history of {address} is available offline")
        return events[-1].block_number if events else 0

    def events_at(self, address: str, block: int) -> list[Erc1056Event]:
        return [e for e in self._events.get(address.lower(), []) if e.block_number == block]

    def block_timestamp(self, block: int) -> int:
        if block not in self._timestamps:
            raise ResolutionError(NOT_FOUND, f"the timestamp of block {block} is not in the offline history")
        return self._timestamps[block]


# --- the DID method ------------------------------------------------------------------------------


class EthrMethod:
    """did:ethr resolution over the given networks (name or hex chain id -> source)."""

    method: ClassVar[str] = "ethr"

    def __init__(self, networks: Mapping[str, Erc1056Source], *, profile: Profile = "current",
                 clock: Callable[[], float] = time.time, max_changes: int = DEFAULT_MAX_CHANGES) -> None:
        if profile not in PROFILES:
            raise ResolutionError(INVALID_OPTIONS, f"unknown did:ethr profile {profile!r}")
        self._networks = {network_key(k): v for k, v in networks.items()}
        self.profile: Profile = profile
        self._clock = clock
        self._max_changes = max_changes

    def source_for(self, did: str | DID) -> tuple[EthrIdentifier, Erc1056Source]:
        ident = parse_ethr_did(did)
        source = self._networks.get(network_key(ident.network))
        if source is None:
            raise ResolutionError(UNKNOWN_NETWORK, f"no chain is configured for did:ethr network {ident.network!r}")
        return ident, source

    def history(self, did: str | DID) -> DIDHistory:
        """Export the full history of ``did`` for offline resolution (the trust bundle uses it)."""
        ident, source = self.source_for(did)
        events = fetch_history(source, ident.address, max_changes=self._max_changes)
        head = _head(source)
        registry = getattr(source, "registry", "")
        return DIDHistory(ident.did, source.chain_id, str(registry), tuple(events), head[0], head[1])

    def resolve(self, did: DID, options: ResolutionOptions, *, profile: Profile | None = None) -> ResolutionResult:
        profile = profile or options.properties.get("profile", self.profile)
        if profile not in PROFILES:
            raise ResolutionError(INVALID_OPTIONS, f"unknown did:ethr profile {profile!r}")
        ident, source = self.source_for(did)
        version_id: int | None = None
        now = int(self._clock())
        if options.version_id is not None:
            if not re.fullmatch(r"\d{1,18}", str(options.version_id)):
                raise ResolutionError(INVALID_OPTIONS, f"invalid versionId {options.version_id!r}: expected a block number")
            version_id = int(options.version_id)
            now = source.block_timestamp(version_id)
        version_time: int | None = None
        if options.version_time is not None:
            now = version_time = int(options.version_time.timestamp())
        history = fetch_history(source, ident.address, max_changes=self._max_changes)
        document, metadata = build_document(ident.did, history, chain_id=source.chain_id, now=now,
                                            profile=profile, version_id=version_id, version_time=version_time,
                                            accept=options.accept)
        return ResolutionResult(document, metadata, {"contentType": options.accept})


def _head(source: Erc1056Source) -> tuple[int, int]:
    head = getattr(source, "head", None)
    if callable(head):
        number, timestamp = head()
        return int(number), int(timestamp)
    return 0, 0


def known_chain_ids() -> Iterable[tuple[str, int]]:
    return KNOWN_NETWORKS.items()
