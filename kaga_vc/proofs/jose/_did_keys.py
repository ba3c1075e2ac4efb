"""Find the DID verification method that signed a JWS and check the signature with it.

The ``kid`` must be a DID URL with a fragment under the expected DID (the issuer, or the holder for a
presentation), and the method must be listed under the expected verification relationship. Without a
``kid`` (did-jwt-vc omits it by default) every method of that relationship whose key suits ``alg`` is
tried, as did-jwt does.
"""

from __future__ import annotations

import json
from functools import lru_cache

from ...did import DID, DIDURL, DIDDocument, Resolver, VerificationMethod
from ...errors import (
    ALGORITHM_KEY_MISMATCH,
    INVALID_KID,
    INVALID_VERIFICATION_METHOD,
    KID_ISSUER_MISMATCH,
    PROOF_VERIFICATION_ERROR,
    VERIFICATION_METHOD_NOT_FOUND,
    InputError,
    KagaError,
    ProofError,
    UnsupportedError,
)
from ...keys import PublicKey
from ._jws import ALGORITHMS, RECOVERY_METHOD_TYPES, CompactJWS, verify_with_account, verify_with_public_key


def did_of(value: str) -> str:
    """The DID of a DID or DID URL string; ``InputError`` if it is neither."""
    try:
        return str(DIDURL.parse(value).did) if any(c in value for c in "#?/") else str(DID.parse(value))
    except KagaError:
        raise InputError(INVALID_KID, f"{value!r} is not a DID") from None


def kid_method_id(kid: object, expected_did: str) -> str:
    """Check a ``kid`` header and return the absolute verification method id it names.

    Raises :class:`InputError` ``kaga:invalid-kid`` (not a DID URL, no fragment) or
    ``kaga:kid-issuer-mismatch`` (a method of another DID).
    """
    if not isinstance(kid, str) or not kid:
        raise InputError(INVALID_KID, "'kid' must be a non-empty string")
    if kid.startswith("#"):
        kid = expected_did + kid
    did, fragment, method_id = _kid_parts(kid)
    if not fragment:
        raise InputError(INVALID_KID, "'kid' must name a verification method (DID URL with a fragment)")
    if did != expected_did:
        raise InputError(KID_ISSUER_MISMATCH, f"'kid' belongs to {did}, not to {expected_did}")
    return method_id


@lru_cache(maxsize=4096)
def _kid_parts(kid: str) -> tuple[str, str | None, str]:
    """(DID, fragment, normalised DID URL) of a ``kid``; a few issuers' kids repeat, so remembered."""
    try:
        url = DIDURL.parse(kid)
    except KagaError:
        raise InputError(INVALID_KID, f"'kid' {kid!r} is not a DID URL") from None
    return str(url.did), url.fragment, str(url)


@lru_cache(maxsize=512)
def _decode_key(method_type: str, raw_json: str, method_id: str) -> PublicKey:
    # Decoding a multibase / JWK key is most of a did:key method's cost; documents repeat, keys too.
    return VerificationMethod.from_json(json.loads(raw_json), method_id).public_key()


def method_public_key(method: VerificationMethod) -> PublicKey:
    """``method.public_key()``, memoised on the method's JSON (raises like it)."""
    raw = method.raw
    if "publicKeyJwk" not in raw:  # the string members public_key() reads are key enough (no JSON dump)
        members = tuple(raw.get(name) for name in _KEY_MEMBERS)
        if all(value is None or isinstance(value, str) for value in members):
            return _decode_members(method.type, method.id, members)
    try:
        raw_json = json.dumps(raw, sort_keys=True)
    except (TypeError, ValueError):
        return method.public_key()
    return _decode_key(method.type, raw_json, method.id)


_KEY_MEMBERS = ("publicKeyMultibase", "publicKeyBase58", "publicKeyHex")


@lru_cache(maxsize=512)
def _decode_members(method_type: str, method_id: str, members: tuple[str | None, ...]) -> PublicKey:
    raw = {name: value for name, value in zip(_KEY_MEMBERS, members, strict=True) if value is not None}
    return VerificationMethod(method_id, method_type, "", raw).public_key()


def verify_with_method(jws: CompactJWS, method: VerificationMethod) -> None:
    """Verify ``jws`` with one verification method (public key or blockchain account)."""
    account = method.blockchain_account_id
    if method.type in RECOVERY_METHOD_TYPES or (account is not None and not _has_key_material(method)):
        if account is None:
            raise ProofError(INVALID_VERIFICATION_METHOD, f"{method.id} has no blockchainAccountId")
        verify_with_account(jws, account)
        return
    verify_with_public_key(jws, method_public_key(method))


def _has_key_material(method: VerificationMethod) -> bool:
    return any(k in method.raw for k in ("publicKeyMultibase", "publicKeyJwk", "publicKeyHex", "publicKeyBase58"))


def _suits(method: VerificationMethod, alg: str) -> bool:
    if method.type in RECOVERY_METHOD_TYPES or (method.blockchain_account_id and not _has_key_material(method)):
        return alg in ("ES256K", "ES256K-R")
    try:
        return ALGORITHMS.get(alg) is method_public_key(method).key_type
    except KagaError:
        return False


def verify_jws_with_did(
    jws: CompactJWS,
    *,
    resolver: Resolver,
    expected_did: str,
    relationship: str,
    require_kid: bool,
) -> VerificationMethod:
    """Resolve ``expected_did`` and verify ``jws`` with the method its ``kid`` names (or any suitable one).

    Raises :class:`~kaga_vc.errors.ResolutionError` when the DID cannot be resolved (a "could not
    check"), :class:`InputError` for a bad ``kid``, :class:`ProofError` when no method verifies.
    """
    kid = jws.header.get("kid")
    if kid is None and require_kid:
        raise InputError(INVALID_KID, "the JOSE header has no 'kid'")
    method_id = kid_method_id(kid, expected_did) if kid is not None else None
    document: DIDDocument = resolver.resolve_document(expected_did)
    if method_id is not None:
        method = document.verification_method(method_id)
        if method is None:
            raise ProofError(VERIFICATION_METHOD_NOT_FOUND, f"{method_id} is not in the DID document")
        if not document.has_relationship(method.id, relationship):
            raise ProofError(INVALID_VERIFICATION_METHOD, f"{method_id} is not authorised for {relationship}")
        verify_with_method(jws, method)
        return method
    authorised = set(document.relationship(relationship))  # built once, not once per method
    candidates = [m for m in document.verification_methods() if m.id in authorised and _suits(m, jws.alg)]
    if not candidates:
        raise UnsupportedError(
            ALGORITHM_KEY_MISMATCH, f"{expected_did} has no {relationship} method that signs with {jws.alg}"
        )
    for method in candidates:
        try:
            verify_with_method(jws, method)
            return method
        except ProofError:
            continue
    raise ProofError(PROOF_VERIFICATION_ERROR, f"no {relationship} method of {expected_did} verifies the signature")
