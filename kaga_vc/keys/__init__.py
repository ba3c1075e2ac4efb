"""Key types, JWK / Multikey import and export, signing, Ethereum addresses, encrypted keystores."""

from __future__ import annotations

from ._ethereum import (
    ethereum_address,
    export_v3_keystore,
    import_v3_keystore,
    recover_public_key,
    to_checksum_address,
)
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
    "recover_public_key",
    "to_checksum_address",
]
