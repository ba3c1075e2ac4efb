"""Anchoring access-log batches on chain: the ``KagaAccessAnchor`` contract and its client.

One transaction per batch, whatever its size: ``anchor(logId, root, firstSeq, size)`` stores one
storage slot under the sending account and emits ``Anchored``. Nothing personal goes on chain: the
log's random identifier, a Merkle root (RFC 9162), a sequence number and a count. The contract is
compiled from ``contracts/KagaAccessAnchor.sol`` by ``scripts/build_contracts.mjs``; its artifact
ships in the package next to the registry's.

:class:`ChainAnchor` is the :class:`kaga_vc.accesslog.Anchorer` the access log is given; this module
is the only one that talks to Ethereum for it, and nothing here loads at ``kaga_vc.accesslog`` import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode, encode
from eth_hash.auto import keccak

from kaga_vc._home import default_home
from kaga_vc.errors import ANCHOR_NOT_FOUND, MALFORMED_VALUE_ERROR, AccessLogError, InputError
from kaga_vc.keys import KeyType, PrivateKey, ethereum_address, to_checksum_address
from kaga_vc.registry._errors import RPC_ERROR, TRANSACTION_REVERTED, RegistryError
from kaga_vc.registry.chains import ChainSettings, close_registry, open_embedded
from kaga_vc.registry.client import Registry
from kaga_vc.registry.contract import ZERO_ADDRESS, Artifact, read_artifact

ENV_ANCHOR = "KAGA_VC_ANCHOR"
ANCHOR_META_KEY = "access_anchor"  # where the embedded chain remembers the contract's address
ANCHOR_GAS_NOTE = "one storage slot and one event per batch: constant in the batch size"


@cache
def load_anchor_artifact() -> Artifact:
    """The ``KagaAccessAnchor`` artifact shipped in the package."""
    return read_artifact("KagaAccessAnchor")


_ANCHOR = keccak(b"anchor(bytes32,bytes32,uint64,uint64)")[:4]
_ANCHOR_OF = keccak(b"anchorOf(address,bytes32,bytes32)")[:4]
ANCHORED_TOPIC = "0x" + keccak(b"Anchored(address,bytes32,bytes32,uint64,uint64)").hex()


@dataclass(frozen=True, slots=True)
class AnchorReceipt:
    """A mined anchor transaction."""

    chain_id: int
    contract: str
    anchorer: str
    transaction_hash: str
    block_number: int
    gas_used: int

    def to_json(self) -> dict[str, Any]:
        return {"chainId": self.chain_id, "contract": self.contract, "anchorer": self.anchorer,
                "transactionHash": self.transaction_hash, "blockNumber": self.block_number, "gasUsed": self.gas_used}


@dataclass(frozen=True, slots=True)
class OnChainAnchor:
    """What the contract holds for one root: where it was mined and which entries it covers."""

    block_number: int
    timestamp: int
    first_seq: int
    size: int


def _bytes32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise InputError(MALFORMED_VALUE_ERROR, f"{what} must be 32 bytes")
    return value


class ChainAnchor:
    """Anchor Merkle roots with ``sender``'s account on the contract at ``contract`` (an ``Anchorer``)."""

    def __init__(self, registry: Registry, contract: str, *, sender: PrivateKey | None = None) -> None:
        if sender is not None and sender.key_type is not KeyType.SECP256K1:
            raise InputError(MALFORMED_VALUE_ERROR, "the anchoring account is a secp256k1 key")
        self.registry = registry
        self.contract = to_checksum_address(contract)
        self.sender = sender
        self.anchorer = ethereum_address(sender.public_key) if sender is not None else ZERO_ADDRESS

    @property
    def chain_id(self) -> int:
        return self.registry.chain_id

    def anchor(self, log_id: bytes, root: bytes, first_seq: int, size: int) -> AnchorReceipt:
        """Send one transaction anchoring ``root``; RegistryError if the chain refuses it."""
        if self.sender is None:
            raise InputError(MALFORMED_VALUE_ERROR, "anchoring needs the account key that pays for it")
        data = _ANCHOR + encode(["bytes32", "bytes32", "uint64", "uint64"],
                                [_bytes32(log_id, "log id"), _bytes32(root, "root"), first_seq, size])
        receipt = self.registry.send(data, sender=self.sender, to=self.contract)
        return AnchorReceipt(self.chain_id, self.contract, receipt.from_address, receipt.transaction_hash,
                             receipt.block_number, receipt.gas_used)

    def lookup(self, anchorer: str, log_id: bytes, root: bytes, *, contract: str | None = None) -> OnChainAnchor | None:
        """The contract's record of ``root`` anchored by ``anchorer`` in ``log_id``; None if there is none.

        ``contract``: another deployment of the anchor contract than this client's (an older batch's).
        """
        data = _ANCHOR_OF + encode(["address", "bytes32", "bytes32"],
                                   [to_checksum_address(anchorer), _bytes32(log_id, "log id"), _bytes32(root, "root")])
        target = to_checksum_address(contract) if contract else self.contract
        result = self.registry.rpc("eth_call", {"to": target, "data": "0x" + data.hex()}, "latest")
        if not isinstance(result, str) or len(result) < 2 + 64 * 4:
            raise RegistryError(RPC_ERROR, f"no anchor contract answers at {target}")
        block, timestamp, first_seq, size = decode(["uint64", "uint64", "uint64", "uint64"], bytes.fromhex(result[2:]))
        if block == 0:
            return None
        return OnChainAnchor(int(block), int(timestamp), int(first_seq), int(size))

    def close(self) -> None:
        close_registry(self.registry)


def deploy_anchor_contract(registry: Registry, *, sender: PrivateKey) -> str:
    """Deploy ``KagaAccessAnchor`` from ``sender``'s account; its address."""
    receipt = registry.send(load_anchor_artifact().bytecode, sender=sender, to="")
    data = registry.rpc("eth_getTransactionReceipt", receipt.transaction_hash)
    return to_checksum_address(data["contractAddress"])


def open_anchor(settings: ChainSettings | None = None, *, sender: PrivateKey | None = None,
                contract: str | None = None) -> ChainAnchor:
    """A :class:`ChainAnchor` on the configured chain (close it with ``.close()``).

    The embedded chain deploys the contract on first use and remembers its address; its funded account
    anchors unless ``sender`` is given. On a node, ``contract`` (or ``$KAGA_VC_ANCHOR``) is required, and
    ``sender`` to anchor (lookups need none).
    """
    settings = settings or ChainSettings.from_env()
    contract = contract or os.environ.get(ENV_ANCHOR) or None
    if not settings.embedded:
        if contract is None:
            raise AccessLogError(ANCHOR_NOT_FOUND, f"a JSON-RPC chain needs the anchor contract's address "
                                 f"(--anchor-contract or {ENV_ANCHOR})")
        from kaga_vc.registry.rpc import HttpTransport

        node = Registry(HttpTransport(str(settings.rpc_url)), contract, chain_id=settings.chain_id, submitter=sender)
        return ChainAnchor(node, contract, sender=sender)
    registry = open_embedded(settings.home or default_home())
    chain: Any = registry.transport
    funded = PrivateKey.from_bytes(KeyType.SECP256K1, chain.submitter_key)
    try:
        if contract is None:
            contract = chain.get_meta(ANCHOR_META_KEY)
            if contract is None:
                contract = deploy_anchor_contract(registry, sender=funded)
                chain.set_meta(ANCHOR_META_KEY, contract)
        return ChainAnchor(registry, contract, sender=sender or funded)
    except BaseException:
        close_registry(registry)
        raise


def is_already_anchored(error: RegistryError) -> bool:
    """Whether a refused anchor transaction means the root is anchored already."""
    return error.code == TRANSACTION_REVERTED and "already_anchored" in error.detail
