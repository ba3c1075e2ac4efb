"""did:ethr documents of the *implicit* form: a DID with no change on the ERC-1056 registry.

Pure and offline: such a document follows from the identifier alone (did:ethr method spec, "Read"):
``#controller`` is an ``EcdsaSecp256k1RecoveryMethod2020`` with ``blockchainAccountId
eip155:<chainId>:<address>`` under ``authentication`` and ``assertionMethod``; a public-key DID also gets
``#controllerKey`` (``EcdsaSecp256k1VerificationKey2019``, ``publicKeyHex`` as ethr-did-resolver 11.1.3
writes it). It is correct only while the DID has no registry history: the full resolver
(:mod:`kaga_vc.did.ethr`, issue 5) replaces it once the registry is readable.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, ClassVar

from ..errors import INVALID_DID, UNKNOWN_NETWORK, KagaError, ResolutionError
from ..keys import KeyType, PublicKey, ethereum_address, to_checksum_address
from ._resolver import ResolutionOptions, ResolutionResult
from ._syntax import DID

_ID = re.compile(r"^(?:([a-zA-Z0-9_:.-]+):)?(0x[0-9a-fA-F]{40}|0x[0-9a-fA-F]{66})$")
NETWORKS = {"mainnet": 1, "sepolia": 11155111, "holesky": 17000, "gno": 100, "polygon": 137}
DID_V1 = "https://www.w3.org/ns/did/v1"
RECOVERY_2020 = "https://w3id.org/security/suites/secp256k1recovery-2020/v2"
SECURITY_V3 = "https://w3id.org/security/v3-unstable"


def parse_ethr_did(did: DID | str) -> tuple[int, str, PublicKey | None]:
    """(chain id, checksummed address, public key if the DID carries one) of a did:ethr DID."""
    parsed = did if isinstance(did, DID) else DID.parse(did)
    if parsed.method != "ethr":
        raise ResolutionError(INVALID_DID, "not a did:ethr DID")
    return _parse_method_specific_id(parsed.method_specific_id)


@lru_cache(maxsize=1024)
def _parse_method_specific_id(msid: str) -> tuple[int, str, PublicKey | None]:
    # pure (the EIP-55 checksum is a keccak, a public key a curve check): remembered, bounded
    match = _ID.match(msid)
    if not match:
        raise ResolutionError(INVALID_DID, "did:ethr needs an address or a compressed public key")
    network, ident = match.group(1) or "mainnet", match.group(2)
    if network.startswith("0x"):
        try:
            chain_id = int(network, 16)
        except ValueError:
            raise ResolutionError(UNKNOWN_NETWORK, f"unknown network {network!r}") from None
    elif network in NETWORKS:
        chain_id = NETWORKS[network]
    else:
        raise ResolutionError(UNKNOWN_NETWORK, f"unknown network {network!r}")
    if len(ident) == 42:
        return chain_id, to_checksum_address(ident), None
    try:
        key = PublicKey.from_raw(KeyType.SECP256K1, bytes.fromhex(ident[2:]))
    except (KagaError, ValueError):
        raise ResolutionError(INVALID_DID, "did:ethr public key is not a secp256k1 point") from None
    return chain_id, ethereum_address(key), key


def implicit_document(did: str) -> dict[str, Any]:
    """The DID document of a did:ethr DID that has no registry history."""
    chain_id, address, key = parse_ethr_did(did)
    controller = {
        "id": f"{did}#controller",
        "type": "EcdsaSecp256k1RecoveryMethod2020",
        "controller": did,
        "blockchainAccountId": f"eip155:{chain_id}:{address}",
    }
    methods = [controller]
    refs = [controller["id"]]
    if key is not None:
        methods.append(
            {
                "id": f"{did}#controllerKey",
                "type": "EcdsaSecp256k1VerificationKey2019",
                "controller": did,
                "publicKeyHex": key.raw.hex(),
            }
        )
        refs.append(f"{did}#controllerKey")
    return {
        "@context": [DID_V1, RECOVERY_2020, SECURITY_V3],
        "id": did,
        "verificationMethod": methods,
        "authentication": list(refs),
        "assertionMethod": list(refs),
    }


class ImplicitEthrMethod:
    """A :class:`~kaga_vc.did.DIDMethod` for did:ethr that assumes no registry history (offline)."""

    method: ClassVar[str] = "ethr"

    def resolve(self, did: DID, options: ResolutionOptions) -> ResolutionResult:
        document = implicit_document(str(did))
        return ResolutionResult(document, {}, {"contentType": options.accept})


def did_ethr_from_public_key(public_key: PublicKey, *, network: str | None = None, use_address: bool = True) -> str:
    """``did:ethr:[network:]<address>`` (or the compressed public key form) of a secp256k1 key."""
    ident = ethereum_address(public_key) if use_address else "0x" + public_key.raw.hex()
    return f"did:ethr:{network}:{ident}" if network else f"did:ethr:{ident}"
