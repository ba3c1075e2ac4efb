"""Securing mechanisms: Data Integrity suites and purposes (JOSE / SD-JWT live beside them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_namespace

if TYPE_CHECKING:
    from ._compacted import check_compacted
    from ._jsonld import DocumentLoader, canonize, default_document_loader, expand
    from .data_integrity import (
        DATA_INTEGRITY_PROOF,
        Cryptosuite,
        ProofCheck,
        ProofOptions,
        ProofPurpose,
        add_proof,
        verify_proof,
    )
    from .ecdsa_rdfc_2019 import EcdsaRdfc2019
    from .eddsa_rdfc_2022 import EddsaRdfc2022

__all__ = [
    "DATA_INTEGRITY_PROOF",
    "Cryptosuite",
    "DocumentLoader",
    "EcdsaRdfc2019",
    "EddsaRdfc2022",
    "ProofCheck",
    "ProofOptions",
    "ProofPurpose",
    "add_proof",
    "canonize",
    "check_compacted",
    "default_document_loader",
    "default_suites",
    "expand",
    "suite_for_key_type",
    "verify_proof",
]


def default_suites() -> dict[str, Cryptosuite]:
    """The Data Integrity suites kaga_vc accepts by default, by name."""
    from .ecdsa_rdfc_2019 import EcdsaRdfc2019
    from .eddsa_rdfc_2022 import EddsaRdfc2022

    return {EddsaRdfc2022.name: EddsaRdfc2022(), EcdsaRdfc2019.name: EcdsaRdfc2019()}


def suite_for_key_type(key_type: object) -> Cryptosuite:
    """The suite that signs with a key of this type (Ed25519 → eddsa, P-256/P-384 → ecdsa)."""
    from ..errors import UNSUPPORTED_KEY_TYPE, UnsupportedError
    from ..keys import KeyType
    from .ecdsa_rdfc_2019 import EcdsaRdfc2019
    from .eddsa_rdfc_2022 import EddsaRdfc2022

    if key_type is KeyType.ED25519:
        return EddsaRdfc2022()
    if key_type in (KeyType.P256, KeyType.P384):
        return EcdsaRdfc2019()
    raise UnsupportedError(UNSUPPORTED_KEY_TYPE, f"no Data Integrity suite here signs with {getattr(key_type, 'value', key_type)} keys")

# a public name's module is imported on first use (PEP 562): the offline verify loads only what it runs
_LAZY: dict[str, str] = {
    "check_compacted": "._compacted",
    "DocumentLoader": "._jsonld",
    "canonize": "._jsonld",
    "default_document_loader": "._jsonld",
    "expand": "._jsonld",
    "DATA_INTEGRITY_PROOF": ".data_integrity",
    "Cryptosuite": ".data_integrity",
    "ProofCheck": ".data_integrity",
    "ProofOptions": ".data_integrity",
    "ProofPurpose": ".data_integrity",
    "add_proof": ".data_integrity",
    "verify_proof": ".data_integrity",
    "EcdsaRdfc2019": ".ecdsa_rdfc_2019",
    "EddsaRdfc2022": ".eddsa_rdfc_2022",
}


__getattr__, __dir__ = lazy_namespace(__name__, _LAZY, globals())
