"""The digest that identifies an issued credential by what its issuer signed (issuance anchors, trust bundles).

Issuance anchors (:mod:`kaga_vc.accesslog.issuance`) put these digests into a Merkle tree on chain,
and a trust bundle lists them per retired key (:mod:`kaga_vc.verifier.bundle`). A verifier recomputes
the digest from what it received, so it must not depend on anything a holder (or an attacker) can
vary without breaking the signature:

- a JWT (``vc+jwt``, VC 1.1 JWT): the compact token as issued (its signing input is the token);
- an SD-JWT: the issuer-signed JWT alone, so any selection of disclosures, with or without a
  key-binding JWT, has the digest of the credential as issued;
- a Data Integrity credential: its proof value(s), not the JSON. Key order, white space, escapes,
  ``"type": "X"`` for ``["X"]`` and other JSON spellings that canonicalise to the same RDF dataset
  leave the signature valid, so they must leave the digest as it was. A signature commits to its
  message: finding another message that the same proof value verifies under the same key takes a
  SHA-256 collision or preimage, whoever holds the key.

A JSON document without a proof (nothing was signed) falls back to its sorted compact JSON.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

DI_DOMAIN = b"kaga-vc data-integrity proofValue\n"
"""Prefix of a Data Integrity credential's digested bytes (never equal to a JWT's ASCII text)."""


def _proof_values(credential: dict[str, Any]) -> list[str]:
    proofs = credential.get("proof")
    items = proofs if isinstance(proofs, list) else [proofs]
    values = []
    for proof in items:
        if isinstance(proof, dict):
            value = proof.get("proofValue", proof.get("jws"))
            if isinstance(value, str) and value:
                values.append(value)
    return sorted(values)


def credential_digest(credential: str | dict[str, Any]) -> bytes:
    """SHA-256 of what the issuer signed (module docstring): 32 bytes."""
    if isinstance(credential, dict):
        values = _proof_values(credential)
        if values:
            data = DI_DOMAIN + "\n".join(values).encode("utf-8")
        else:
            data = json.dumps(credential, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    else:
        data = credential.strip().split("~", 1)[0].encode("ascii", "replace")
    return hashlib.sha256(data).digest()


def signing_method(credential: str | dict[str, Any]) -> str | None:
    """The verification method id a credential names as its signer (unverified): a Data Integrity
    proof's ``verificationMethod``, a JWT's ``kid`` header (a relative ``#…`` joined to ``iss``)."""
    if isinstance(credential, dict):
        proofs = credential.get("proof")
        proof = proofs[0] if isinstance(proofs, list) and proofs else proofs
        method = proof.get("verificationMethod") if isinstance(proof, dict) else None
        return method if isinstance(method, str) else None
    from .._encoding import b64url_decode

    token = credential.strip().split("~", 1)[0]
    try:
        header_part, payload_part = token.split(".")[:2]
        header = json.loads(b64url_decode(header_part))
        kid = header.get("kid")
        if isinstance(kid, str) and kid.startswith("#"):
            payload = json.loads(b64url_decode(payload_part))
            issuer = payload.get("iss") or payload.get("issuer")
            issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
            return f"{issuer}{kid}" if isinstance(issuer, str) else None
    except (ValueError, AttributeError, TypeError, UnicodeDecodeError):
        return None
    return kid if isinstance(kid, str) else None


__all__ = ["credential_digest", "signing_method"]
