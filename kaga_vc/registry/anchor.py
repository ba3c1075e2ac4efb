"""Anchoring access-log tree heads on chain: the ``KagaAccessAnchor`` contract and its client.

Per (anchoring account, log id) the contract keeps an append-only sequence of signed tree heads
(tree size, RFC 9162 Merkle root over the whole log), each larger than the one before, and the log's
identity hash committed with the first. One transaction per head, whatever the number of new entries.
Nothing personal goes on chain: the log's random id, an identity hash, sizes and roots. The contract is
compiled from ``contracts/KagaAccessAnchor.sol`` by ``scripts/build_contracts.mjs``; its artifact ships
in the package next to the registry's.

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
ANCHOR_META_KEY = "access_anchor_heads"  # where the embedded chain remembers the contract's address (the
# tree-head contract of issue 12; "access_anchor" held the first one, whose ABI this client no longer speaks)
ANCHOR_GAS_NOTE = "two storage slots and one event per head: constant in the number of new entries"


@cache
def load_anchor_artifact() -> Artifact:
    """The ``KagaAccessAnchor`` artifact shipped in the package."""
    return read_artifact("KagaAccessAnchor")


_ANCHOR = keccak(b"anchor(bytes32,bytes32,uint64,bytes32)")[:4]
_LOG_OF = keccak(b"logOf(address,bytes32)")[:4]
_HEAD_AT = keccak(b"headAt(address,bytes32,uint256)")[:4]
ANCHORED_TOPIC = "0x" + keccak(b"Anchored(address,bytes32,uint256,uint64,bytes32,bytes32)").hex()


@dataclass(frozen=True, slots=True)
class AnchorReceipt:
    """A mined anchor transaction and the head it appended (read back from its ``Anchored`` event)."""

    chain_id: int
    contract: str
    anchorer: str
    transaction_hash: str
    block_number: int
    gas_used: int
    index: int
    tree_size: int
    root: str

    def to_json(self) -> dict[str, Any]:
        return {"chainId": self.chain_id, "contract": self.contract, "anchorer": self.anchorer,
                "transactionHash": self.transaction_hash, "blockNumber": self.block_number, "gasUsed": self.gas_used,
                "index": self.index, "treeSize": self.tree_size, "root": self.root}


@dataclass(frozen=True, slots=True)
class OnChainHead:
    """One tree head as the contract holds it."""

    index: int
    tree_size: int
    root: str  # hex, no 0x
    block_number: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class OnChainLog:
    """What the chain holds for one log of one account: the identity hash and every head, in order."""

    identity: str  # hex, no 0x; 64 zeros when nothing was anchored
    heads: tuple[OnChainHead, ...]


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

    def anchor(self, log_id: bytes, identity: bytes, tree_size: int, root: bytes) -> AnchorReceipt:
        """Send one transaction appending the head (``tree_size``, ``root``); RegistryError if the chain refuses it
        (``size_must_grow``, ``identity_changed``)."""
        if self.sender is None:
            raise InputError(MALFORMED_VALUE_ERROR, "anchoring needs the account key that pays for it")
        data = _ANCHOR + encode(["bytes32", "bytes32", "uint64", "bytes32"],
                                [_bytes32(log_id, "log id"), _bytes32(identity, "identity"), tree_size,
                                 _bytes32(root, "root")])
        receipt = self.registry.send(data, sender=self.sender, to=self.contract)
        index, size, anchored = self._anchored_event(receipt.transaction_hash, log_id)
        return AnchorReceipt(self.chain_id, self.contract, receipt.from_address, receipt.transaction_hash,
                             receipt.block_number, receipt.gas_used, index, size, anchored)

    def _anchored_event(self, tx_hash: str, log_id: bytes) -> tuple[int, int, str]:
        """(index, tree size, root) of the ``Anchored`` event the transaction emitted."""
        receipt = self.registry.rpc("eth_getTransactionReceipt", tx_hash)
        for entry in (receipt or {}).get("logs") or ():
            topics = entry.get("topics") or []
            if (len(topics) == 4 and topics[0] == ANCHORED_TOPIC and to_checksum_address(entry["address"]) == self.contract
                    and bytes.fromhex(topics[2][2:]) == log_id):
                size, root, _identity = decode(["uint64", "bytes32", "bytes32"], bytes.fromhex(entry["data"][2:]))
                return int(topics[3], 16), int(size), bytes(root).hex()
        raise RegistryError(RPC_ERROR, f"transaction {tx_hash} emitted no Anchored event for this log")

    def _call(self, data: bytes, contract: str | None, words: int) -> bytes:
        target = to_checksum_address(contract) if contract else self.contract
        result = self.registry.rpc("eth_call", {"to": target, "data": "0x" + data.hex()}, "latest")
        if not isinstance(result, str) or len(result) < 2 + 64 * words:
            raise RegistryError(RPC_ERROR, f"no anchor contract answers at {target}")
        return bytes.fromhex(result[2:])

    def head_at(self, anchorer: str, log_id: bytes, index: int, *, contract: str | None = None) -> OnChainHead | None:
        """Head ``index`` of ``anchorer``'s log ``log_id``; None if there is no such head."""
        data = _HEAD_AT + encode(["address", "bytes32", "uint256"],
                                 [to_checksum_address(anchorer), _bytes32(log_id, "log id"), index])
        size, root, block, stamp = decode(["uint64", "bytes32", "uint64", "uint64"], self._call(data, contract, 4))
        if size == 0:
            return None
        return OnChainHead(index, int(size), bytes(root).hex(), int(block), int(stamp))

    def read_log(self, anchorer: str, log_id: bytes, *, contract: str | None = None) -> OnChainLog:
        """The identity and every head of ``anchorer``'s log ``log_id``, from contract state (not from events).

        ``contract``: another deployment of the anchor contract than this client's.
        """
        data = _LOG_OF + encode(["address", "bytes32"], [to_checksum_address(anchorer), _bytes32(log_id, "log id")])
        identity, count = decode(["bytes32", "uint256"], self._call(data, contract, 2))
        heads = []
        for index in range(int(count)):
            head = self.head_at(anchorer, log_id, index, contract=contract)
            if head is None:  # the contract never shrinks; a node answering so is not our contract
                raise RegistryError(RPC_ERROR, f"head {index} of {count} is missing at the anchor contract")
            heads.append(head)
        return OnChainLog(bytes(identity).hex(), tuple(heads))

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


def is_refused_head(error: RegistryError) -> bool:
    """Whether a refused anchor transaction is the contract refusing the head (a smaller tree, another identity)."""
    return error.code == TRANSACTION_REVERTED
