"""The ERC-1056 registry contract: shipped artifact, call encoding, event decoding, meta-tx digests.

The artifact (ABI and bytecode) is compiled from ``contracts/EthereumDIDRegistry.sol`` by
``scripts/build_contracts.mjs`` with a pinned solc; a test recompiles and compares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_hash.auto import keccak

from kaga_vc.did.ethr import Erc1056Event
from kaga_vc.registry._errors import RPC_ERROR, RegistryError

ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True, slots=True)
class Artifact:
    """The compiled registry: ABI, creation bytecode, compiler version, hash of its source."""

    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    compiler_version: str
    source_sha256: str


@cache
def load_artifact() -> Artifact:
    """The registry artifact shipped in the package."""
    return read_artifact("EthereumDIDRegistry")


def read_artifact(contract: str) -> Artifact:
    """A contract artifact shipped in ``kaga_vc/registry/artifacts/`` (written by scripts/build_contracts.mjs)."""
    text = resources.files("kaga_vc.registry").joinpath(f"artifacts/{contract}.json").read_text("utf-8")
    data = json.loads(text)
    return Artifact(
        abi=data["abi"],
        bytecode=bytes.fromhex(data["bytecode"][2:]),
        deployed_bytecode=bytes.fromhex(data["deployedBytecode"][2:]),
        compiler_version=data["compiler"]["version"],
        source_sha256=data["sourceSha256"],
    )


def _selector(signature: str) -> bytes:
    return keccak(signature.encode("ascii"))[:4]


def _address_bytes(address: str) -> bytes:
    text = address[2:] if address[:2].lower() == "0x" else address
    raw = bytes.fromhex(text)
    if len(raw) != 20:
        raise RegistryError(RPC_ERROR, f"not an address: {address!r}")
    return raw


# Function signatures of the standard registry (the ABI existing tools call).
FUNCTIONS: dict[str, list[str]] = {
    "identityOwner": ["address"],
    "changed": ["address"],
    "nonce": ["address"],
    "validDelegate": ["address", "bytes32", "address"],
    "changeOwner": ["address", "address"],
    "changeOwnerSigned": ["address", "uint8", "bytes32", "bytes32", "address"],
    "addDelegate": ["address", "bytes32", "address", "uint256"],
    "addDelegateSigned": ["address", "uint8", "bytes32", "bytes32", "bytes32", "address", "uint256"],
    "revokeDelegate": ["address", "bytes32", "address"],
    "revokeDelegateSigned": ["address", "uint8", "bytes32", "bytes32", "bytes32", "address"],
    "setAttribute": ["address", "bytes32", "bytes", "uint256"],
    "setAttributeSigned": ["address", "uint8", "bytes32", "bytes32", "bytes32", "bytes", "uint256"],
    "revokeAttribute": ["address", "bytes32", "bytes"],
    "revokeAttributeSigned": ["address", "uint8", "bytes32", "bytes32", "bytes32", "bytes"],
}


def encode_call(function: str, *args: Any) -> bytes:
    """ABI-encode a call of one of the registry's functions."""
    types = FUNCTIONS[function]
    return _selector(f"{function}({','.join(types)})") + encode(types, list(args))


OWNER_CHANGED = keccak(b"DIDOwnerChanged(address,address,uint256)")
DELEGATE_CHANGED = keccak(b"DIDDelegateChanged(address,bytes32,address,uint256,uint256)")
ATTRIBUTE_CHANGED = keccak(b"DIDAttributeChanged(address,bytes32,bytes,uint256,uint256)")


def identity_topic(address: str) -> str:
    return "0x" + "00" * 12 + _address_bytes(address).hex()


def decode_log(log: dict[str, Any], timestamp: int) -> Erc1056Event | None:
    """Decode one registry log into an event; None for a log that is not an ERC-1056 event."""
    topics = [bytes.fromhex(t[2:]) for t in log.get("topics", [])]
    if len(topics) != 2:
        return None
    data = bytes.fromhex(log["data"][2:])
    identity = "0x" + topics[1][12:].hex()
    block = int(log["blockNumber"], 16)
    index = int(log["logIndex"], 16)
    try:
        if topics[0] == OWNER_CHANGED:
            owner, previous = decode(["address", "uint256"], data)
            return Erc1056Event("DIDOwnerChanged", identity, block, index, timestamp, int(previous),
                                owner=str(owner))
        if topics[0] == DELEGATE_CHANGED:
            dtype, delegate, valid_to, previous = decode(["bytes32", "address", "uint256", "uint256"], data)
            return Erc1056Event("DIDDelegateChanged", identity, block, index, timestamp, int(previous),
                                name=bytes(dtype), delegate=str(delegate), valid_to=int(valid_to))
        if topics[0] == ATTRIBUTE_CHANGED:
            name, value, valid_to, previous = decode(["bytes32", "bytes", "uint256", "uint256"], data)
            return Erc1056Event("DIDAttributeChanged", identity, block, index, timestamp, int(previous),
                                name=bytes(name), value=bytes(value), valid_to=int(valid_to))
    except (DecodingError, ValueError, TypeError, OverflowError):  # malformed data
        return None
    return None


def bytes32(text: str | bytes) -> bytes:
    """A name or delegate type as bytes32: UTF-8, right-padded with NULs (at most 32 bytes)."""
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(raw) > 32:
        raise RegistryError(RPC_ERROR, f"{text!r} is longer than 32 bytes")
    return raw.ljust(32, b"\x00")


def meta_digest(registry: str, nonce: int, identity: str, operation: str, *parts: bytes) -> bytes:
    """The digest the owner signs for a ``*Signed`` call (EIP-191 version 0x00, as in ERC-1056).

    ``keccak256(0x19 ‖ 0x00 ‖ registry ‖ uint256 nonce ‖ identity ‖ operation ‖ parts…)`` with
    ``abi.encodePacked``: addresses are 20 bytes, bytes32 32, uint256 32, ``bytes`` raw.
    """
    packed = b"\x19\x00" + _address_bytes(registry) + nonce.to_bytes(32, "big") + _address_bytes(identity)
    return keccak(packed + operation.encode("ascii") + b"".join(parts))


def packed_address(address: str) -> bytes:
    return _address_bytes(address)


def packed_uint(value: int) -> bytes:
    return value.to_bytes(32, "big")


def decode_uint(result: str) -> int:
    return int(result, 16) if result not in ("0x", "") else 0


def decode_address(result: str) -> str:
    raw = bytes.fromhex(result[2:])
    if len(raw) < 32:
        raise RegistryError(RPC_ERROR, "short answer from the registry (is it deployed at that address?)")
    return "0x" + raw[12:32].hex()
