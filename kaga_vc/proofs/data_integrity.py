"""W3C VC Data Integrity 1.0: the ``DataIntegrityProof`` envelope, proof purposes, add and verify.

https://www.w3.org/TR/vc-data-integrity/ — §4.2 "Add Proof" and §4.4 "Verify Proof". The suites
(``eddsa_rdfc_2022``, ``ecdsa_rdfc_2019``) do the transformation, hashing and signing; this
module checks the proof object, the purpose against the verification relationships of the
resolved DID document, ``challenge``, ``domain`` and ``expires``, and hands the suite the key.

Proof sets (several proofs) and proof chains (``previousProof``) are verified as VC-DI §4.5 says:
every proof must hold, each over the document with the proofs it names as previous.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, ClassVar, Protocol

from .._encoding import multibase_decode, multibase_encode
from ..did import DIDURL, Resolver, VerificationMethod
from ..errors import (
    INVALID_CHALLENGE_ERROR,
    INVALID_DOMAIN_ERROR,
    INVALID_PROOF_CONFIGURATION,
    INVALID_VERIFICATION_METHOD,
    MALFORMED_PROOF_ERROR,
    MISMATCHED_PROOF_PURPOSE_ERROR,
    PROOF_EXPIRED,
    PROOF_MISSING,
    PROOF_VERIFICATION_ERROR,
    UNSUPPORTED_CRYPTOSUITE,
    VERIFICATION_METHOD_NOT_FOUND,
    InputError,
    KagaError,
    ProofError,
    ResolutionError,
    UnsupportedError,
)
from ..keys import PublicKey, Signer
from ..results import is_could_not_check
from ._compacted import check_compacted
from ._jsonld import DocumentLoader, canonize

JSONObject = dict[str, Any]
DATA_INTEGRITY_PROOF = "DataIntegrityProof"


class ProofPurpose(str, Enum):
    """Proof purposes, each naming the DID document relationship that authorises the key."""

    ASSERTION_METHOD = "assertionMethod"
    AUTHENTICATION = "authentication"
    CAPABILITY_INVOCATION = "capabilityInvocation"
    CAPABILITY_DELEGATION = "capabilityDelegation"


@dataclass(frozen=True, slots=True)
class ProofOptions:
    """The options a proof is created with (VC-DI §2.1 "Proofs")."""

    verification_method: str
    proof_purpose: ProofPurpose = ProofPurpose.ASSERTION_METHOD
    created: datetime | None = None
    challenge: str | None = None
    domain: str | None = None
    expires: datetime | None = None
    nonce: str | None = None
    id: str | None = None
    previous_proof: str | tuple[str, ...] | None = None

    def to_json(self, cryptosuite: str) -> JSONObject:
        created = self.created or datetime.now(UTC)
        proof: JSONObject = {"id": self.id} if self.id is not None else {}
        proof |= {
            "type": DATA_INTEGRITY_PROOF,
            "cryptosuite": cryptosuite,
            "created": format_datetime(created),
            "verificationMethod": self.verification_method,
            "proofPurpose": ProofPurpose(self.proof_purpose).value,
        }
        if self.expires is not None:
            proof["expires"] = format_datetime(self.expires)
        if self.challenge is not None:
            proof["challenge"] = self.challenge
        if self.domain is not None:
            proof["domain"] = self.domain
        if self.nonce is not None:
            proof["nonce"] = self.nonce
        if self.previous_proof is not None:
            proof["previousProof"] = self.previous_proof if isinstance(self.previous_proof, str) else list(self.previous_proof)
        return proof


class Cryptosuite(Protocol):
    """A Data Integrity cryptosuite (STYLE.md §3)."""

    name: ClassVar[str]

    def create_proof(self, document: JSONObject, options: ProofOptions, signer: Signer, loader: DocumentLoader) -> JSONObject:
        """Return ``document`` with a new ``proof``; the input is not modified."""
        ...

    def verify_proof(self, document: JSONObject, proof: JSONObject, public_key: PublicKey, loader: DocumentLoader) -> None:
        """Verify ``proof`` over the unsecured ``document``; raise ProofError if it does not hold."""
        ...


def format_datetime(value: datetime) -> str:
    """An XML Schema ``dateTimeStamp`` in UTC with second precision (``2024-01-01T00:00:00Z``)."""
    if value.tzinfo is None:
        raise InputError("MALFORMED_VALUE_ERROR", "datetimes must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: Any, name: str, *, code: str = "MALFORMED_VALUE_ERROR") -> datetime:
    """Parse an XML Schema ``dateTimeStamp`` (an offset is required); InputError otherwise."""
    if not isinstance(value, str) or len(value) < 20 or "T" not in value:
        raise InputError(code, f"{name} must be a dateTimeStamp string", property=name)
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(code, f"{name} is not a valid dateTimeStamp: {value!r}", property=name) from None
    if parsed.tzinfo is None:
        raise InputError(code, f"{name} needs a time zone offset: {value!r}", property=name)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 at +14:00, year 9999 at -14:00: no UTC instant in Python's range
        raise InputError(code, f"{name} is out of the representable range: {value!r}", property=name) from None


# -- the proof value ------------------------------------------------------------------------------
def encode_proof_value(signature: bytes) -> str:
    """Multibase base58btc (``z``), as eddsa-rdfc-2022 §3.2.? and ecdsa-rdfc-2019 require."""
    return multibase_encode(signature)


def decode_proof_value(value: Any) -> bytes:
    """Decode a ``proofValue``; MALFORMED_PROOF_ERROR unless it is base58btc multibase."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError(MALFORMED_PROOF_ERROR, "proofValue must be a base58btc multibase string ('z…')")
    try:
        return multibase_decode(value)
    except (KagaError, ValueError):
        raise ProofError(MALFORMED_PROOF_ERROR, "proofValue is not valid base58btc") from None


# -- steps shared by the RDFC suites ------------------------------------------------------------
def proof_configuration(proof_options: JSONObject, document: JSONObject, cryptosuite: str, loader: DocumentLoader) -> str:
    """The canonical proof configuration (eddsa-rdfc-2022 §3.2.5 / ecdsa-rdfc-2019 §3.2.5)."""
    config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    # step 2: type and cryptosuite must name this suite
    if config.get("type") != DATA_INTEGRITY_PROOF or config.get("cryptosuite") != cryptosuite:
        raise ProofError(INVALID_PROOF_CONFIGURATION, f"proof is not a {DATA_INTEGRITY_PROOF} of {cryptosuite}")
    # step 3: created, when present, must be a valid dateTimeStamp
    if "created" in config:
        parse_datetime(config["created"], "proof.created", code=INVALID_PROOF_CONFIGURATION)
    # step 4: the proof configuration takes the document's context
    config["@context"] = document.get("@context")
    return canonize(config, loader)


def transform(document: JSONObject, loader: DocumentLoader) -> str:
    """The transformed (canonical) document (§3.2.3): RDFC-1.0 N-Quads."""
    return canonize(document, loader)


def unsecured(document: JSONObject) -> JSONObject:
    """A shallow copy of ``document`` without its ``proof``."""
    return {k: v for k, v in document.items() if k != "proof"}


# -- add proof (VC-DI §4.2, §4.3 proof sets and chains) ---------------------------------------
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
_CONTEXTS_DEFINING_DI = (DATA_INTEGRITY_CONTEXT, "https://www.w3.org/ns/credentials/v2")


def with_data_integrity_context(document: JSONObject) -> JSONObject:
    """``document`` with the Data Integrity context appended when no context of it defines the terms.

    VC-DI 1.0 §2.4.2 (context injection): a document whose contexts do not map the Data Integrity
    terms — a VCDM 1.1 credential under ``https://www.w3.org/2018/credentials/v1`` — gets
    ``https://w3id.org/security/data-integrity/v2`` appended before it is secured, so that the
    document, and with it the proof configuration (which takes the document's ``@context``),
    defines ``DataIntegrityProof``, ``cryptosuite`` and ``proofValue``.
    """
    context = document.get("@context")
    items = context if isinstance(context, list) else [context] if context is not None else []
    if any(item in _CONTEXTS_DEFINING_DI for item in items):
        return document
    return {**document, "@context": [*items, DATA_INTEGRITY_CONTEXT]}


def add_proof(
    document: JSONObject,
    *,
    suite: Cryptosuite,
    signer: Signer,
    proof_purpose: ProofPurpose = ProofPurpose.ASSERTION_METHOD,
    created: datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    expires: datetime | None = None,
    proof_id: str | None = None,
    previous_proof: str | Sequence[str] | None = None,
    loader: DocumentLoader,
) -> JSONObject:
    """Return a copy of ``document`` secured with one more proof by ``signer`` (VC-DI §4.2, §4.3).

    A document that already has proofs gets the new proof added to its proof set; with
    ``previous_proof`` (the ``id`` s of proofs already there) the new proof is a link of a proof
    chain and signs the document together with those proofs (§4.3 "Add Proof Set/Chain").
    """
    if not isinstance(document, dict):
        raise InputError("MALFORMED_VALUE_ERROR", "only a JSON object can be secured")
    existing = all_proofs(document) if "proof" in document else []
    previous: str | tuple[str, ...] | None = None
    if previous_proof is not None:
        previous = previous_proof if isinstance(previous_proof, str) else tuple(previous_proof)
    options = ProofOptions(
        verification_method=signer.key_id,
        proof_purpose=ProofPurpose(proof_purpose),
        created=created,
        challenge=challenge,
        domain=domain,
        expires=expires,
        id=proof_id,
        previous_proof=previous,
    )
    if proof_id is not None and any(item.get("id") == proof_id for item in existing):
        raise InputError("MALFORMED_VALUE_ERROR", f"the document already has a proof with id {proof_id!r}")
    base = with_data_integrity_context(copy.deepcopy(unsecured(document)))
    if previous is not None:
        # §4.3 step 3: the new proof signs the document with the proofs it names
        base["proof"] = _previous_proofs({"previousProof": options.to_json("")["previousProof"]}, existing)
    secured = suite.create_proof(base, options, signer, loader)
    if not existing:
        return secured
    return {**unsecured(base), "proof": [*copy.deepcopy(existing), secured["proof"]]}


# -- verify proof (VC-DI §4.4) --------------------------------------------------------------------
@dataclass(slots=True)
class ProofCheck:
    """What verifying one proof found: the method used and every problem (as errors)."""

    proof: JSONObject | None = None
    verification_method: VerificationMethod | None = None
    controller: str | None = None
    cryptosuite: str | None = None
    errors: list[KagaError] = field(default_factory=list)
    could_not_check: list[KagaError] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    proofs: list[ProofCheck] = field(default_factory=list)  # one per proof of a set or chain
    #: the document normalised by :func:`~kaga_vc.proofs.check_compacted` (what a verdict reads), once checked
    document: JSONObject | None = None

    @property
    def verified(self) -> bool:
        return not self.errors and not self.could_not_check

    @property
    def controllers(self) -> tuple[str, ...]:
        """The DIDs whose keys made the proofs (one for a single proof)."""
        items = self.proofs or [self]
        return tuple(dict.fromkeys(item.controller for item in items if item.controller is not None))


_REQUIRED = ("type", "verificationMethod", "proofPurpose", "proofValue")
MAX_PROOFS = 10  # each proof costs a canonicalisation of the document: bound the work a sender can ask for


def all_proofs(document: JSONObject) -> list[JSONObject]:
    """Every proof of ``document`` (a proof set is a list); PROOF_MISSING / MALFORMED_PROOF_ERROR otherwise."""
    proof = document.get("proof")
    if proof is None:
        raise ProofError(PROOF_MISSING, "the document has no proof")
    proofs = proof if isinstance(proof, list) else [proof]
    if not proofs:
        raise ProofError(PROOF_MISSING, "the document's proof set is empty")
    if not all(isinstance(item, dict) for item in proofs):
        raise ProofError(MALFORMED_PROOF_ERROR, "every proof must be a JSON object")
    if len(proofs) > MAX_PROOFS:
        raise ProofError(MALFORMED_PROOF_ERROR, f"more than {MAX_PROOFS} proofs", proofs=len(proofs))
    return proofs


def _previous_proofs(proof: JSONObject, proofs: Sequence[JSONObject]) -> list[JSONObject]:
    """VC-DI §4.5 step 3.2: the proofs of the set that ``proof.previousProof`` names."""
    if "previousProof" not in proof:
        return []
    previous = proof["previousProof"]
    ids = [previous] if isinstance(previous, str) else previous
    if not isinstance(ids, list) or not ids or not all(isinstance(item, str) for item in ids):
        raise ProofError(MALFORMED_PROOF_ERROR, "proof.previousProof must be a string or a list of strings")
    matching: list[JSONObject] = []
    for proof_id in ids:
        found = [item for item in proofs if item.get("id") == proof_id and item is not proof]
        if not found:
            raise ProofError(PROOF_VERIFICATION_ERROR, f"previousProof {proof_id!r} names no other proof of the document",
                             previous_proof=proof_id)
        matching.extend(item for item in found if not any(item is m for m in matching))
    return matching


def verify_proof(
    document: JSONObject,
    *,
    suites: Mapping[str, Cryptosuite],
    resolver: Resolver,
    expected_purpose: ProofPurpose,
    loader: DocumentLoader,
    challenge: str | None = None,
    domain: str | Sequence[str] | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = timedelta(minutes=5),
) -> ProofCheck:
    """Verify every Data Integrity proof of ``document``: one proof, a proof set or a proof chain.

    VC-DI 1.0 §4.5 "Verify Proof Sets and Chains": each proof is verified over the unsecured
    document with, as its ``proof``, the proofs its ``previousProof`` names (none otherwise), and
    the document verifies only if every proof does. Every problem goes in the result, each with
    the index of its proof when there are several; ``controllers`` lists the DIDs of all signers.

    The document must first be in compacted form under its own ``@context``
    (:func:`~kaga_vc.proofs.check_compacted`, ``kaga:not-compacted``): a proof covers the RDF, and a
    respelling that keeps the RDF must not change what a reader of the JSON sees. ``document`` of
    the result is the normalised document; read the verdict's facts from it.
    """
    try:
        proofs = all_proofs(document)
        inputs = [(proof, _previous_proofs(proof, proofs)) for proof in proofs]
    except KagaError as error:
        check = ProofCheck()
        check.errors.append(error)
        return check
    ids = [proof["id"] for proof in proofs if isinstance(proof.get("id"), str)]
    if len(ids) != len(set(ids)):
        check = ProofCheck()
        check.errors.append(ProofError(MALFORMED_PROOF_ERROR, "two proofs of the set have the same id"))
        return check
    at = now or datetime.now(UTC)
    checks: list[ProofCheck] = []
    for proof, previous in inputs:
        input_document = unsecured(document)
        if previous:
            input_document["proof"] = previous
        checks.append(_verify_one(input_document, proof, suites=suites, resolver=resolver, expected_purpose=expected_purpose,
                                  loader=loader, challenge=challenge, domain=domain, now=at, max_clock_skew=max_clock_skew))
    if len(checks) == 1:
        return _compacted(checks[0], document, loader)
    combined = ProofCheck(proof=checks[0].proof, verification_method=checks[0].verification_method,
                          controller=checks[0].controller, cryptosuite=checks[0].cryptosuite, proofs=checks)
    for index, item in enumerate(checks):
        combined.errors.extend(_in_proof(error, index) for error in item.errors)
        combined.could_not_check.extend(_in_proof(error, index) for error in item.could_not_check)
        combined.checks.extend(name for name in item.checks if name not in combined.checks)
    if len(proofs) > 1:
        combined.checks.append("proofSet" if not any(previous for _, previous in inputs) else "proofChain")
    return _compacted(combined, document, loader)


_PROOF_REFUSED = (UNSUPPORTED_CRYPTOSUITE, MALFORMED_PROOF_ERROR)


def _compacted(check: ProofCheck, document: JSONObject, loader: DocumentLoader) -> ProofCheck:
    """Add the compaction rule's verdict (``kaga:not-compacted``) and the normalised document to ``check``.

    Skipped when a proof is of a kind this library refuses anyway (its own code says more).
    """
    if any(error.code in _PROOF_REFUSED for error in check.errors):
        return check
    try:
        check.document = check_compacted(document, loader)
        check.checks.append("compacted")
    except KagaError as error:
        if not any(seen.code == error.code for seen in (*check.errors, *check.could_not_check)):
            # (an expansion error the signature step already reported is not reported twice)
            (check.could_not_check if is_could_not_check(error.code) else check.errors).append(error)
    return check


def _in_proof(error: KagaError, index: int) -> KagaError:
    error.context.setdefault("proof", index)
    return error


def _verify_one(
    document: JSONObject,
    proof: JSONObject,
    *,
    suites: Mapping[str, Cryptosuite],
    resolver: Resolver,
    expected_purpose: ProofPurpose,
    loader: DocumentLoader,
    challenge: str | None,
    domain: str | Sequence[str] | None,
    now: datetime,
    max_clock_skew: timedelta,
) -> ProofCheck:
    """VC-DI §4.4 for one ``proof`` over ``document`` (unsecured, or holding the previous proofs)."""
    check = ProofCheck()
    check.proof = proof

    # §4.4 step 3: required members, and the proof type
    if "type" in proof and proof.get("type") != DATA_INTEGRITY_PROOF:
        # e.g. Ed25519Signature2018 / 2020 (Linked Data Signatures): refused, never half-checked
        check.errors.append(
            UnsupportedError(UNSUPPORTED_CRYPTOSUITE, f"proof type {proof.get('type')!r} is not supported", proof_type=proof.get("type"))
        )
        return check
    missing = [name for name in _REQUIRED if name not in proof]
    if missing:
        check.errors.append(ProofError(MALFORMED_PROOF_ERROR, f"proof lacks {', '.join(missing)}", missing=missing))
        return check
    name = proof.get("cryptosuite")
    check.cryptosuite = name if isinstance(name, str) else None
    suite = suites.get(name) if isinstance(name, str) else None
    if suite is None:
        check.errors.append(UnsupportedError(UNSUPPORTED_CRYPTOSUITE, f"cryptosuite {name!r} is not accepted here"))
        return check
    for member in ("verificationMethod", "proofPurpose"):
        if not isinstance(proof.get(member), str):
            check.errors.append(ProofError(MALFORMED_PROOF_ERROR, f"proof.{member} must be a string"))
            return check

    # the expected purpose (VC-DI §4.4: MISMATCHED_PROOF_PURPOSE_ERROR)
    purpose = proof["proofPurpose"]
    if purpose != expected_purpose.value:
        check.errors.append(
            ProofError(
                MISMATCHED_PROOF_PURPOSE_ERROR,
                f"proof purpose is {purpose!r}, expected {expected_purpose.value!r}",
                expected=expected_purpose.value,
                actual=purpose,
            )
        )
    check.checks.append("proofPurpose")

    # challenge / domain / expires
    _check_binding(proof, challenge, domain, check)
    if "expires" in proof:
        try:
            expires = parse_datetime(proof["expires"], "proof.expires", code=MALFORMED_PROOF_ERROR)
            if now - max_clock_skew > expires:
                check.errors.append(ProofError(PROOF_EXPIRED, "the proof has expired", expires=expires.isoformat(), now=now.isoformat()))
        except KagaError as error:
            check.errors.append(error)
        check.checks.append("proofExpires")

    # proof @context (§4.4: the document's context must start with the proof's)
    if "@context" in proof:
        proof_ctx = proof["@context"] if isinstance(proof["@context"], list) else [proof["@context"]]
        doc_ctx = document.get("@context")
        doc_ctx = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        if doc_ctx[: len(proof_ctx)] != proof_ctx:
            check.errors.append(ProofError(PROOF_VERIFICATION_ERROR, "proof @context does not match the document's"))
            return check

    # the verification method, through the resolver, and the purpose's relationship
    vm_id = proof["verificationMethod"]
    try:
        url = DIDURL.parse(vm_id)
    except KagaError:
        check.errors.append(ProofError(INVALID_VERIFICATION_METHOD, f"verificationMethod {vm_id!r} is not a DID URL"))
        return check
    if not url.fragment:
        check.errors.append(ProofError(INVALID_VERIFICATION_METHOD, f"verificationMethod {vm_id!r} has no fragment"))
        return check
    check.controller = str(url.did)
    try:
        did_document = resolver.resolve_document(url.did)
    except ResolutionError as error:
        # the DID could not be resolved here: not the same as "checked and wrong" (the one table)
        (check.could_not_check if is_could_not_check(error.code) else check.errors).append(error)
        return check
    except KagaError as error:
        check.errors.append(error)
        return check
    except Exception as exc:  # noqa: BLE001 - a resolver plug-in failing in its own way: could not check
        check.could_not_check.append(ResolutionError("kaga:resolver-failed", f"resolving {url.did} failed: {type(exc).__name__}"))
        return check
    try:
        method = did_document.verification_method(str(url))
    except KagaError as error:
        check.errors.append(ProofError(INVALID_VERIFICATION_METHOD, f"{vm_id}: {error.detail}"))
        return check
    if method is None:
        check.errors.append(ProofError(VERIFICATION_METHOD_NOT_FOUND, f"{vm_id} is not in the DID document"))
        return check
    check.verification_method = method
    if method.controller != did_document.id:
        check.errors.append(ProofError(INVALID_VERIFICATION_METHOD, "the verification method's controller is not the DID"))
    if not did_document.has_relationship(method.id, purpose):
        check.errors.append(
            ProofError(
                MISMATCHED_PROOF_PURPOSE_ERROR,
                f"{vm_id} is not authorised for {purpose} in the DID document",
                relationship=purpose,
            )
        )
    check.checks.append("verificationRelationship")

    # the signature: the suite's transformation, hashing and verification
    try:
        public_key = method.public_key()
        proof_options = {k: v for k, v in proof.items() if k != "proofValue"}
        suite.verify_proof(document, {**proof_options, "proofValue": proof["proofValue"]}, public_key, loader)
        check.checks.append("signature")
    except KagaError as error:
        (check.could_not_check if is_could_not_check(error.code) else check.errors).append(error)
    return check


def _check_binding(proof: JSONObject, challenge: str | None, domain: str | Sequence[str] | None, check: ProofCheck) -> None:
    if challenge is not None:
        if proof.get("challenge") != challenge:
            check.errors.append(ProofError(INVALID_CHALLENGE_ERROR, "the proof's challenge is not the one expected"))
        check.checks.append("challenge")
    if domain is not None:
        expected = [domain] if isinstance(domain, str) else list(domain)
        actual = proof.get("domain")
        actual_list = actual if isinstance(actual, list) else [actual]
        if not any(item in expected for item in actual_list if isinstance(item, str)):
            check.errors.append(ProofError(INVALID_DOMAIN_ERROR, "the proof's domain is not the one expected"))
        check.checks.append("domain")
