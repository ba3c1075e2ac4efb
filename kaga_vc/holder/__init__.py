"""The resident's wallet: holder key and credentials encrypted at rest, answers to presentation requests."""

from __future__ import annotations

from .wallet import (
    FULL_DISCLOSURE,
    StoredCredential,
    Wallet,
    WalletPresentation,
    create_wallet,
    default_wallet_path,
    describe_credential,
    open_wallet,
    read_wallet_did,
)

__all__ = [
    "FULL_DISCLOSURE",
    "StoredCredential",
    "Wallet",
    "WalletPresentation",
    "create_wallet",
    "default_wallet_path",
    "describe_credential",
    "open_wallet",
    "read_wallet_did",
]
