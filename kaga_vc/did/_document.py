"""Read-only views of a DID document: verification methods, relationships, key material.

The document stays the JSON dict it was resolved as (so it can be hashed, bundled and compared);
these helpers only look things up, resolving relative ids (``#key-1``) against the document id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._encoding import multibase_decode
from ..errors import INVALID_VERIFICATION_METHOD, NOT_FOUND, KagaError, ProofError, ResolutionError
from ..keys import KeyType, PublicKey

JSONObject = dict[str, Any]

RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "keyAgreement",
    "capabilityInvocation",
    "capabilityDelegation",
)

# Legacy verification method types and the key type their raw key material holds.
_LEGACY_TYPES: dict[str, KeyType] = {
    "Ed25519VerificationKey2018": KeyType.ED25519,
    "Ed25519VerificationKey2020": KeyType.ED25519,
    "X25519KeyAgreementKey2019": KeyType.X25519,
    "X25519KeyAgreementKey2020": KeyType.X25519,
    "EcdsaSecp256k1VerificationKey2019": KeyType.SECP256K1,
    "EcdsaSecp256r1VerificationKey2019": KeyType.P256,
}


@dataclass(frozen=True, slots=True)
class VerificationMethod:
    """One verification method: id, type, controller and the raw JSON it came from."""

    id: str
    type: str
    controller: str
    raw: JSONObject = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any, base: str) -> VerificationMethod:
        if not isinstance(data, dict):
            raise ResolutionError(INVALID_VERIFICATION_METHOD, "verification method is not an object")
        vm_id, vm_type, controller = data.get("id"), data.get("type"), data.get("controller")
        if not isinstance(vm_id, str) or not isinstance(vm_type, str) or not isinstance(controller, str):
            raise ResolutionError(INVALID_VERIFICATION_METHOD, "verification method lacks id, type or controller")
        return cls(_absolute(vm_id, base), vm_type, controller, data)

    @property
    def blockchain_account_id(self) -> str | None:
        value = self.raw.get("blockchainAccountId")
        return value if isinstance(value, str) else None

    def public_key(self) -> PublicKey:
        """The key this method holds, whatever the representation; ProofError if none usable."""
        raw = self.raw
        try:
            if "publicKeyMultibase" in raw:
                value = raw["publicKeyMultibase"]
                if self.type in _LEGACY_TYPES and self.type != "Multikey":
                    # Ed25519VerificationKey2020 / X25519KeyAgreementKey2020 carry a multicodec
                    # header; the older types may carry a bare key.
                    try:
                        return PublicKey.from_multikey(value)
                    except KagaError:
                        return PublicKey.from_raw(_LEGACY_TYPES[self.type], multibase_decode(value))
                return PublicKey.from_multikey(value)
            if "publicKeyJwk" in raw:
                return PublicKey.from_jwk(raw["publicKeyJwk"])
            if self.type in _LEGACY_TYPES:
                key_type = _LEGACY_TYPES[self.type]
                if "publicKeyBase58" in raw:
                    return PublicKey.from_raw(key_type, multibase_decode("z" + str(raw["publicKeyBase58"])))
                if "publicKeyHex" in raw:
                    return PublicKey.from_raw(key_type, bytes.fromhex(str(raw["publicKeyHex"]).removeprefix("0x")))
        except KagaError as exc:
            raise ProofError(INVALID_VERIFICATION_METHOD, f"unusable key in {self.id}: {exc.detail}") from None
        except ValueError:
            raise ProofError(INVALID_VERIFICATION_METHOD, f"unusable key in {self.id}") from None
        raise ProofError(INVALID_VERIFICATION_METHOD, f"{self.id} carries no public key material")


class DIDDocument:
    """A resolved DID document (the JSON dict) with lookups by verification relationship.

    A read-only view: the methods and the relationships are read from ``raw`` on the first lookup and
    kept (a verify looks one method up and checks one relationship; a remembered document — a
    :class:`~kaga_vc.did.DocumentCache` entry, a did:key or implicit did:ethr document, see
    :meth:`Resolver.resolve_document` — is then looked up without reading its JSON again). ``raw`` must
    not be changed after the first lookup. A malformed method is never remembered: every lookup raises.
    """

    __slots__ = ("_by_id", "_relationships", "id", "raw")

    def __init__(self, raw: JSONObject) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise ResolutionError(NOT_FOUND, "DID document has no id")
        self.raw = raw
        self.id: str = raw["id"]
        self._by_id: dict[str, VerificationMethod] | None = None
        self._relationships: dict[str, tuple[str, ...]] = {}

    def _methods(self) -> dict[str, VerificationMethod]:
        by_id = self._by_id
        if by_id is None:
            # every method: those in ``verificationMethod``, then those embedded in relationships; the
            # first one of an id wins
            found: dict[str, VerificationMethod] = {}
            for item in _as_list(self.raw.get("verificationMethod")):
                vm = VerificationMethod.from_json(item, self.id)
                found.setdefault(vm.id, vm)
            for rel in RELATIONSHIPS:
                for item in _as_list(self.raw.get(rel)):
                    if isinstance(item, dict):
                        vm = VerificationMethod.from_json(item, self.id)
                        found.setdefault(vm.id, vm)
            self._by_id = by_id = found
        return by_id

    def verification_methods(self) -> list[VerificationMethod]:
        """Every method: those in ``verificationMethod`` and those embedded in relationships."""
        return list(self._methods().values())

    def verification_method(self, method_id: str) -> VerificationMethod | None:
        return self._methods().get(_absolute(method_id, self.id))

    def relationship(self, name: str) -> list[str]:
        """The absolute ids of the methods listed under a verification relationship."""
        return list(self._relationship(name))

    def _relationship(self, name: str) -> tuple[str, ...]:
        ids = self._relationships.get(name)
        if ids is None:
            found = []
            for item in _as_list(self.raw.get(name)):
                if isinstance(item, str):
                    found.append(_absolute(item, self.id))
                elif isinstance(item, dict) and isinstance(item.get("id"), str):
                    found.append(_absolute(item["id"], self.id))
            self._relationships[name] = ids = tuple(found)
        return ids

    def has_relationship(self, method_id: str, name: str) -> bool:
        return _absolute(method_id, self.id) in self._relationship(name)

    def controllers(self) -> list[str]:
        value = self.raw.get("controller", self.id)
        return [v for v in _as_list(value) if isinstance(v, str)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _absolute(method_id: str, base: str) -> str:
    return base + method_id if method_id.startswith("#") else method_id
