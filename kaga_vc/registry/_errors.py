"""Error codes of the registry layer (all raised as :class:`kaga_vc.errors.RegistryError`)."""

from __future__ import annotations

from kaga_vc.errors import HISTORY_MISSING, NODE_UNREACHABLE, TRANSACTION_FAILED, RegistryError

RPC_ERROR = "kaga:rpc-error"  # the node answered with an error or something that is not JSON-RPC
TRANSACTION_REVERTED = "kaga:transaction-reverted"  # the registry refused the change (simulated or mined)
TRANSACTION_REJECTED = "kaga:transaction-rejected"  # the node refused the transaction itself
INSUFFICIENT_FUNDS = "kaga:insufficient-funds"  # the submitting account cannot pay for gas
BAD_NONCE = "kaga:bad-nonce"  # a transaction nonce or a meta-transaction nonce is stale
WRONG_SIGNER = "kaga:wrong-signer"  # the key that signed is not the DID's current owner
TRANSACTION_TIMEOUT = "kaga:transaction-timeout"  # no receipt within the wait time
CHAIN_BUSY = "kaga:chain-busy"  # another process holds the embedded chain
CHAIN_CORRUPT = "kaga:chain-corrupt"  # the embedded chain's database cannot be opened
WRONG_CHAIN = "kaga:wrong-chain"  # the node's chain id is not the one configured
NO_REGISTRY = "kaga:no-registry"  # no registry contract at the configured address
DEACTIVATED = "kaga:did-deactivated"  # the DID was deactivated; no further change is possible

__all__ = [
    "BAD_NONCE",
    "CHAIN_BUSY",
    "CHAIN_CORRUPT",
    "DEACTIVATED",
    "HISTORY_MISSING",
    "INSUFFICIENT_FUNDS",
    "NODE_UNREACHABLE",
    "NO_REGISTRY",
    "RPC_ERROR",
    "TRANSACTION_FAILED",
    "TRANSACTION_REJECTED",
    "TRANSACTION_REVERTED",
    "TRANSACTION_TIMEOUT",
    "WRONG_CHAIN",
    "WRONG_SIGNER",
    "RegistryError",
]
