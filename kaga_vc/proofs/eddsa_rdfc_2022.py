"""The ``eddsa-rdfc-2022`` cryptosuite: Ed25519 over RDFC-1.0 canonical N-Quads.

https://www.w3.org/TR/vc-di-eddsa/#eddsa-rdfc-2022 — in the order of the spec's steps:

* transformation (§3.2.3): RDFC-1.0 canonical N-Quads of the unsecured document;
* proof configuration (§3.2.5): the proof options with the document's ``@context``, canonicalised;
* hashing (§3.2.4): SHA-256(canonical proof configuration) ‖ SHA-256(transformed document);
* serialisation (§3.2.6): an Ed25519 signature (64 bytes) of the hash data;
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


class EddsaRdfc2022:
    """``eddsa-rdfc-2022`` (Ed25519, SHA-256, RDFC-1.0)."""

    name: ClassVar[str] = "eddsa-rdfc-2022"
    key_types: ClassVar[tuple[KeyType, ...]] = (KeyType.ED25519,)

    def hash_data(self, document: JSONObject, proof_options: JSONObject, loader: DocumentLoader) -> bytes:
        """§3.2.4: SHA-256 of the proof configuration, then SHA-256 of the transformed document."""
        canonical_config = proof_configuration(proof_options, document, self.name, loader)
        transformed = transform(document, loader)
        return hashlib.sha256(canonical_config.encode("utf-8")).digest() + hashlib.sha256(transformed.encode("utf-8")).digest()

    def create_proof(self, document: JSONObject, options: ProofOptions, signer: Signer, loader: DocumentLoader) -> JSONObject:
        if signer.key_type not in self.key_types:
            raise UnsupportedError(UNSUPPORTED_KEY_TYPE, f"{self.name} signs with Ed25519 keys, not {signer.key_type.value}")
        # the document as given: unsecured, or holding the previous proofs of a chain (VC-DI §4.3)
        proof = options.to_json(self.name)
        signature = signer.sign(self.hash_data(document, proof, loader))
        if len(signature) != 64:
            raise ProofError(PROOF_GENERATION_ERROR, "the signer returned a signature that is not 64 bytes")
        proof["proofValue"] = encode_proof_value(signature)
        return {**unsecured(document), "proof": proof}

    def verify_proof(self, document: JSONObject, proof: JSONObject, public_key: PublicKey, loader: DocumentLoader) -> None:
        if public_key.key_type not in self.key_types:
            raise ProofError(INVALID_VERIFICATION_METHOD, f"{self.name} needs an Ed25519 key, not {public_key.key_type.value}")
        signature = decode_proof_value(proof.get("proofValue"))
        if len(signature) != 64:
            raise ProofError(MALFORMED_PROOF_ERROR, "an Ed25519 proofValue must decode to 64 bytes")
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        public_key.verify(signature, self.hash_data(document, options, loader))
