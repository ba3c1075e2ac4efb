"""Key types, JWK / Multikey import and export, signing, Ethereum addresses, encrypted keystores."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_namespace

if TYPE_CHECKING:
    from ._ethereum import (
        ethereum_address,
        export_v3_keystore,
        import_v3_keystore,
        recover_public_key,
        to_checksum_address,
    )
    from ._keccak import keccak256
    from ._private import PrivateKey
    from ._public import PublicKey
    from ._signer import KeySigner, Signer
    from ._types import KeyType

__all__ = [
    "KeySigner",
    "KeyType",
    "PrivateKey",
    "PublicKey",
    "Signer",
    "ethereum_address",
    "export_v3_keystore",
    "import_v3_keystore",
    "keccak256",
    "recover_public_key",
    "to_checksum_address",
]

# a public name's module is imported on first use (PEP 562): the offline verify loads only what it runs
_LAZY: dict[str, str] = {
    "keccak256": "._keccak",
    "ethereum_address": "._ethereum",
    "export_v3_keystore": "._ethereum",
    "import_v3_keystore": "._ethereum",
    "recover_public_key": "._ethereum",
    "to_checksum_address": "._ethereum",
    "PrivateKey": "._private",
    "PublicKey": "._public",
    "KeySigner": "._signer",
    "Signer": "._signer",
    "KeyType": "._types",
}


__getattr__, __dir__ = lazy_namespace(__name__, _LAZY, globals())
