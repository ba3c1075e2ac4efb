"""The registry client: reads for did:ethr resolution, writes (direct or meta-transactions).

:class:`Registry` is an :class:`kaga_vc.did.ethr.Erc1056Source` (so ``EthrMethod`` resolves through
it) and the writer of DID changes. Every write is simulated first (``eth_estimateGas``), so a change
the registry would refuse fails with a typed error before anything is sent or paid for; then the
transaction is signed locally, sent, and awaited until its receipt (and the requested number of
confirmations) arrives.

Meta-transactions (``*Signed``): the DID owner signs the ERC-1056 digest, another account (the
city's, or the embedded chain's funded account) submits it and pays the gas.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from kaga_vc.did.ethr import Erc1056Event
from kaga_vc.errors import MALFORMED_VALUE_ERROR, InputError
from kaga_vc.keys import KeyType, PrivateKey, PublicKey, ethereum_address, to_checksum_address
from kaga_vc.registry import contract as c
from kaga_vc.registry._errors import (
    BAD_NONCE,
    DEACTIVATED,
    NO_REGISTRY,
    RPC_ERROR,
    TRANSACTION_REVERTED,
    TRANSACTION_TIMEOUT,
    WRONG_CHAIN,
    WRONG_SIGNER,
    RegistryError,
)
from kaga_vc.registry.rpc import Transport

#: validity used for "permanent" keys, delegates and services (about 100 years)
FOREVER = 100 * 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Receipt:
    """A mined registry transaction."""

    transaction_hash: str
    block_number: int
    gas_used: int
    status: int
    from_address: str

    def to_json(self) -> dict[str, Any]:
        return {"transactionHash": self.transaction_hash, "blockNumber": self.block_number,
                "gasUsed": self.gas_used, "status": self.status, "from": self.from_address}


def _account(key: PrivateKey) -> str:
    if key.key_type is not KeyType.SECP256K1:
        raise RegistryError(WRONG_SIGNER, "Ethereum accounts are secp256k1 keys")
    return ethereum_address(key.public_key)


class Registry:
    """An ERC-1056 registry at ``address`` on the chain behind ``transport``."""

    def __init__(self, transport: Transport, address: str, *, chain_id: int | None = None,
                 submitter: PrivateKey | None = None, confirmations: int = 0,
                 receipt_timeout: float = 120.0) -> None:
        self.transport = transport
        self.registry = to_checksum_address(address)
        self._chain_id = chain_id
        self._checked = False
        self.submitter = submitter
        self.confirmations = confirmations
        self.receipt_timeout = receipt_timeout
        self._timestamps: dict[int, int] = {}

    # --- chain ------------------------------------------------------------------------------------

    def rpc(self, method: str, *params: Any) -> Any:
        if not self._checked and method != "eth_chainId":
            _ = self.chain_id  # a node serving another chain than the configured one is refused first
        return self.transport.request(method, list(params))

    @property
    def chain_id(self) -> int:
        if not self._checked:
            actual = int(self.rpc("eth_chainId"), 16)
            if self._chain_id is not None and self._chain_id != actual:
                raise RegistryError(WRONG_CHAIN, f"the node serves chain {actual}, not the configured {self._chain_id}")
            self._chain_id = actual
            self._checked = True
        assert self._chain_id is not None
        return self._chain_id

    def head(self) -> tuple[int, int]:
        """(number, timestamp) of the latest block."""
        block = self.rpc("eth_getBlockByNumber", "latest", False)
        number, timestamp = int(block["number"], 16), int(block["timestamp"], 16)
        self._timestamps[number] = timestamp
        return number, timestamp

    def block_timestamp(self, block: int) -> int:
        if block not in self._timestamps:
            data = self.rpc("eth_getBlockByNumber", hex(block), False)
            if data is None:
                from kaga_vc.errors import NOT_FOUND, ResolutionError

                raise ResolutionError(NOT_FOUND, f"block {block} does not exist on this chain")
            self._timestamps[block] = int(data["timestamp"], 16)
        return self._timestamps[block]

    def check_deployed(self) -> None:
        """RegistryError ``kaga:no-registry`` unless contract code exists at the registry address."""
        if self.rpc("eth_getCode", self.registry, "latest") in ("0x", "0x0", None):
            raise RegistryError(NO_REGISTRY, f"no contract at {self.registry} on chain {self.chain_id}")

    # --- reads (Erc1056Source) --------------------------------------------------------------------

    def _call(self, data: bytes) -> str:
        result = self.rpc("eth_call", {"to": self.registry, "data": "0x" + data.hex()}, "latest")
        if not isinstance(result, str):
            raise RegistryError(RPC_ERROR, "eth_call did not return hex data")
        if result in ("0x", ""):
            raise RegistryError(NO_REGISTRY, f"no registry contract answers at {self.registry}")
        return result

    def changed(self, address: str) -> int:
        return c.decode_uint(self._call(c.encode_call("changed", to_checksum_address(address))))

    def identity_owner(self, address: str) -> str:
        return to_checksum_address(c.decode_address(self._call(c.encode_call("identityOwner",
                                                                              to_checksum_address(address)))))

    def nonce(self, address: str) -> int:
        return c.decode_uint(self._call(c.encode_call("nonce", to_checksum_address(address))))

    def valid_delegate(self, identity: str, delegate_type: str, delegate: str) -> bool:
        data = c.encode_call("validDelegate", to_checksum_address(identity), c.bytes32(delegate_type),
                             to_checksum_address(delegate))
        return c.decode_uint(self._call(data)) != 0

    def events_at(self, address: str, block: int) -> list[Erc1056Event]:
        logs = self.rpc("eth_getLogs", {"address": self.registry, "topics": [None, c.identity_topic(address)],
                                        "fromBlock": hex(block), "toBlock": hex(block)})
        if not logs:
            return []
        stamp = logs[0].get("blockTimestamp")  # current nodes put it in each log: no block lookup needed
        if isinstance(stamp, str) and stamp.startswith("0x"):
            self._timestamps[block] = int(stamp, 16)
        timestamp = self.block_timestamp(block)
        events = []
        for log in logs:
            event = c.decode_log(log, timestamp)
            if event is not None:
                events.append(event)
        return events

    # --- writes -----------------------------------------------------------------------------------

    def send(self, data: bytes, *, sender: PrivateKey, to: str | None = None) -> Receipt:
        """Simulate, sign, send and await one transaction from ``sender`` (to the registry by default)."""
        from eth_account import Account

        to_address = self.registry if to is None else to
        origin = _account(sender)
        call: dict[str, Any] = {"from": origin, "data": "0x" + data.hex()}
        if to_address:
            call["to"] = to_address
        gas = int(self.rpc("eth_estimateGas", call), 16)
        nonce = int(self.rpc("eth_getTransactionCount", origin, "pending"), 16)
        gas_price = int(self.rpc("eth_gasPrice"), 16)
        tx = {"nonce": nonce, "gasPrice": gas_price, "gas": gas + gas // 5 + 10_000, "to": to_address or b"",
              "value": 0, "data": data, "chainId": self.chain_id}
        signed = Account.sign_transaction(tx, sender.to_bytes())
        tx_hash = self.rpc("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex())
        return self.wait(tx_hash)

    def wait(self, tx_hash: str) -> Receipt:
        """Poll for the receipt of ``tx_hash`` and the configured confirmations."""
        deadline = time.monotonic() + self.receipt_timeout
        delay = 0.02
        while True:
            receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
            if receipt is not None:
                number = int(receipt["blockNumber"], 16)
                if self.confirmations <= 0 or int(self.rpc("eth_blockNumber"), 16) - number >= self.confirmations:
                    break
            if time.monotonic() > deadline:
                raise RegistryError(TRANSACTION_TIMEOUT, f"no receipt for {tx_hash} within {self.receipt_timeout} s")
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        status = int(receipt.get("status", "0x1"), 16)
        result = Receipt(tx_hash, number, int(receipt["gasUsed"], 16), status,
                         to_checksum_address(receipt["from"]))
        if status != 1:
            raise RegistryError(TRANSACTION_REVERTED, f"transaction {tx_hash} was mined but reverted")
        return result

    def deploy(self, bytecode: bytes | None = None, *, sender: PrivateKey) -> str:
        """Deploy the registry (our shipped artifact unless ``bytecode`` is given); its address."""
        receipt = self.send(bytecode or c.load_artifact().bytecode, sender=sender, to="")
        data = self.rpc("eth_getTransactionReceipt", receipt.transaction_hash)
        address = to_checksum_address(data["contractAddress"])
        self.registry = address
        return address

    def _owner_checked(self, identity: str, signer: PrivateKey) -> str:
        owner = self.identity_owner(identity)
        if owner == c.ZERO_ADDRESS:
            raise RegistryError(DEACTIVATED, f"{identity} is deactivated: no further change is possible")
        if _account(signer) != owner:
            raise RegistryError(WRONG_SIGNER, f"the key of {_account(signer)} is not the owner of {identity} ({owner})")
        return owner

    def _write(self, identity: str, signer: PrivateKey, operation: str, args: list[Any], packed: list[bytes],
               *, nonce: int | None = None, meta: bool | None = None, submitter: PrivateKey | None = None) -> Receipt:
        identity = to_checksum_address(identity)
        owner = self._owner_checked(identity, signer)
        payer = submitter or self.submitter
        use_meta = meta if meta is not None else (payer is not None and _account(payer) != owner)
        if not use_meta:
            return self._send_mapped(c.encode_call(operation, identity, *args), signer, owner)
        if payer is None:
            raise RegistryError(WRONG_SIGNER, "a meta-transaction needs a submitter key to pay for gas")
        meta_nonce = self.nonce(owner) if nonce is None else nonce
        digest = c.meta_digest(self.registry, meta_nonce, identity, operation, *packed)
        signature = signer.sign_digest_recoverable(digest)
        r, s, v = signature[:32], signature[32:64], 27 + signature[64]
        data = c.encode_call(operation + "Signed", identity, v, r, s, *args)
        return self._send_mapped(data, payer, owner)

    def _send_mapped(self, data: bytes, sender: PrivateKey, owner: str) -> Receipt:
        try:
            return self.send(data, sender=sender)
        except RegistryError as exc:
            if exc.code == TRANSACTION_REVERTED:
                if "bad_signature" in exc.detail:
                    raise RegistryError(BAD_NONCE, f"the registry refused the owner's signature (stale nonce?): "
                                        f"{exc.detail}") from None
                if "bad_actor" in exc.detail:
                    raise RegistryError(WRONG_SIGNER, f"the registry refused the sender: {exc.detail}") from None
                if "deactivated" in exc.detail:
                    raise RegistryError(DEACTIVATED, exc.detail) from None
            raise

    def change_owner(self, identity: str, new_owner: str, *, signer: PrivateKey, **kw: Any) -> Receipt:
        new_owner = to_checksum_address(new_owner)
        return self._write(identity, signer, "changeOwner", [new_owner], [c.packed_address(new_owner)], **kw)

    def deactivate(self, identity: str, *, signer: PrivateKey, **kw: Any) -> Receipt:
        """Set the owner to 0x0: the DID is deactivated (for good, on this project's contract)."""
        return self.change_owner(identity, c.ZERO_ADDRESS, signer=signer, **kw)

    def add_delegate(self, identity: str, delegate_type: str, delegate: str, validity: int = FOREVER, *,
                     signer: PrivateKey, **kw: Any) -> Receipt:
        dtype, delegate = c.bytes32(delegate_type), to_checksum_address(delegate)
        return self._write(identity, signer, "addDelegate", [dtype, delegate, validity],
                           [dtype, c.packed_address(delegate), c.packed_uint(validity)], **kw)

    def revoke_delegate(self, identity: str, delegate_type: str, delegate: str, *, signer: PrivateKey,
                        **kw: Any) -> Receipt:
        dtype, delegate = c.bytes32(delegate_type), to_checksum_address(delegate)
        return self._write(identity, signer, "revokeDelegate", [dtype, delegate],
                           [dtype, c.packed_address(delegate)], **kw)

    def set_attribute(self, identity: str, name: str, value: bytes, validity: int = FOREVER, *,
                      signer: PrivateKey, **kw: Any) -> Receipt:
        raw_name = c.bytes32(name)
        return self._write(identity, signer, "setAttribute", [raw_name, value, validity],
                           [raw_name, value, c.packed_uint(validity)], **kw)

    def revoke_attribute(self, identity: str, name: str, value: bytes, *, signer: PrivateKey,
                         **kw: Any) -> Receipt:
        raw_name = c.bytes32(name)
        return self._write(identity, signer, "revokeAttribute", [raw_name, value], [raw_name, value], **kw)


# --- what a key or a service looks like as an attribute ---------------------------------------------

PURPOSES = ("veriKey", "sigAuth", "enc")


def key_attribute(public_key: PublicKey, purpose: str = "veriKey") -> tuple[str, bytes]:
    """The attribute (name, value) that publishes ``public_key`` with ``purpose`` in a did:ethr document.

    Ed25519 ``did/pub/Ed25519/<purpose>/base58``, secp256k1 ``did/pub/Secp256k1/<purpose>/hex``
    (compressed), X25519 ``did/pub/X25519/enc/base64``: the names both profiles understand. Other
    types (P-256, P-384) as ``did/pub/Multikey/<purpose>`` with the multicodec-prefixed key.
    """
    from kaga_vc._encoding import multibase_decode

    if purpose not in PURPOSES:
        raise InputError(MALFORMED_VALUE_ERROR, f"purpose must be one of {', '.join(PURPOSES)}")
    kt = public_key.key_type
    if kt is KeyType.X25519:
        if purpose != "enc":
            raise InputError(MALFORMED_VALUE_ERROR, "an X25519 key is for key agreement: purpose enc")
        return "did/pub/X25519/enc/base64", public_key.raw
    if purpose == "enc":
        raise InputError(MALFORMED_VALUE_ERROR, "only X25519 keys have the purpose enc")
    if kt is KeyType.ED25519:
        return f"did/pub/Ed25519/{purpose}/base58", public_key.raw
    if kt is KeyType.SECP256K1:
        return f"did/pub/Secp256k1/{purpose}/hex", public_key.raw
    return f"did/pub/Multikey/{purpose}", multibase_decode(public_key.to_multikey())


def service_attribute(service_type: str, endpoint: str | dict[str, Any]) -> tuple[str, bytes]:
    """The attribute (name, value) of a service endpoint: ``did/svc/<type>`` and the UTF-8 endpoint."""
    import json
    import re

    if not re.fullmatch(r"[A-Za-z0-9_]{1,24}", service_type):
        raise InputError(MALFORMED_VALUE_ERROR, "a service type is 1-24 letters, digits or _ (it must fit bytes32)")
    value = endpoint if isinstance(endpoint, str) else json.dumps(endpoint, separators=(",", ":"))
    return f"did/svc/{service_type}", value.encode("utf-8")
