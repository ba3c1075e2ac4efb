"""The ``ecdsa-rdfc-2019`` cryptosuite: ECDSA P-256 / P-384 over RDFC-1.0 canonical N-Quads.

https://www.w3.org/TR/vc-di-ecdsa/#ecdsa-rdfc-2019 — in the order of the spec's steps:

* transformation (§3.2.2): RDFC-1.0 canonical N-Quads of the unsecured document;
* proof configuration (§3.2.4): the proof options with the document's ``@context``, canonicalised;
* hashing (§3.2.3): H(canonical proof configuration) ‖ H(transformed document), with H = SHA-256
  for a P-256 key and SHA-384 for a P-384 key;
* serialisation (§3.2.5): an ECDSA signature of the hash data with the same hash, as ``r ‖ s``
  (IEEE P1363, 64 / 96 bytes);
* the proof value: the signature in base58btc multibase (``z…``).
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from ..errors import (
    INVALID_VERIFICATION_METHOD,
    MALFORMED_PROOF_ERROR,
    PROOF_GENERATION_ERROR,
    UNSUPPORTED_KEY_TYPE,
    ProofError,
    UnsupportedError,
)
from ..keys import KeyType, PublicKey, Signer
from ._jsonld import DocumentLoader
from .data_integrity import (
    ProofOptions,
    decode_proof_value,
    encode_proof_value,
    proof_configuration,
    transform,
    unsecured,
)

JSONObject = dict[str, Any]

_HASH = {KeyType.P256: hashlib.sha256, KeyType.P384: hashlib.sha384}
_SIGNATURE_SIZE = {KeyType.P256: 64, KeyType.P384: 96}


class EcdsaRdfc2019:
    """``ecdsa-rdfc-2019`` (P-256 with SHA-256, P-384 with SHA-384; RDFC-1.0)."""

    name: ClassVar[str] = "ecdsa-rdfc-2019"
    key_types: ClassVar[tuple[KeyType, ...]] = (KeyType.P256, KeyType.P384)

    def hash_data(self, document: JSONObject, proof_options: JSONObject, loader: DocumentLoader, key_type: KeyType) -> bytes:
        """§3.2.3: H(proof configuration) ‖ H(transformed document), H chosen by the curve."""
        digest = _HASH[key_type]
        canonical_config = proof_configuration(proof_options, document, self.name, loader)
        transformed = transform(document, loader)
        return digest(canonical_config.encode("utf-8")).digest() + digest(transformed.encode("utf-8")).digest()

    def create_proof(self, document: JSONObject, options: ProofOptions, signer: Signer, loader: DocumentLoader) -> JSONObject:
        if signer.key_type not in self.key_types:
            raise UnsupportedError(UNSUPPORTED_KEY_TYPE, f"{self.name} signs with P-256 or P-384 keys, not {signer.key_type.value}")
        # the document as given: unsecured, or holding the previous proofs of a chain (VC-DI §4.3)
        proof = options.to_json(self.name)
        signature = signer.sign(self.hash_data(document, proof, loader, signer.key_type))
        if len(signature) != _SIGNATURE_SIZE[signer.key_type]:
            raise ProofError(PROOF_GENERATION_ERROR, "the signer returned a signature of the wrong size")
        proof["proofValue"] = encode_proof_value(signature)
        return {**unsecured(document), "proof": proof}

    def verify_proof(self, document: JSONObject, proof: JSONObject, public_key: PublicKey, loader: DocumentLoader) -> None:
        if public_key.key_type not in self.key_types:
            raise ProofError(INVALID_VERIFICATION_METHOD, f"{self.name} needs a P-256 or P-384 key, not {public_key.key_type.value}")
        signature = decode_proof_value(proof.get("proofValue"))
        if len(signature) != _SIGNATURE_SIZE[public_key.key_type]:
            raise ProofError(MALFORMED_PROOF_ERROR, f"a {public_key.key_type.value} proofValue must decode to {_SIGNATURE_SIZE[public_key.key_type]} bytes")
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        public_key.verify(signature, self.hash_data(document, options, loader, public_key.key_type))
