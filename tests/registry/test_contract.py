"""The registry contract: the shipped artifact is a fresh compile of the source, with the standard ABI."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from kaga_vc.registry.contract import load_artifact

from .conftest import _require_node_modules

ROOT = Path(__file__).resolve().parents[2]

STANDARD_FUNCTIONS = {
    "identityOwner", "changeOwner", "changeOwnerSigned", "validDelegate", "addDelegate", "addDelegateSigned",
    "revokeDelegate", "revokeDelegateSigned", "setAttribute", "setAttributeSigned", "revokeAttribute",
    "revokeAttributeSigned", "nonce", "changed", "owners", "delegates",
}


def test_shipped_artifact_matches_a_fresh_compile_with_the_pinned_solc() -> None:
    _require_node_modules()
    node = shutil.which("node")
    assert node
    out = subprocess.run([node, str(ROOT / "scripts" / "build_contracts.mjs"), "--check"], capture_output=True, check=False,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr


def test_artifact_records_the_source_it_was_built_from() -> None:
    artifact = load_artifact()
    source = (ROOT / "contracts" / "EthereumDIDRegistry.sol").read_bytes()
    assert artifact.source_sha256 == hashlib.sha256(source).hexdigest()
    assert artifact.compiler_version.startswith("0.8.28+")


def test_abi_is_the_standard_erc1056_interface() -> None:
    abi = load_artifact().abi
    functions = {f["name"] for f in abi if f["type"] == "function"}
    assert STANDARD_FUNCTIONS <= functions
    events = {e["name"]: [(i["name"], i["type"], i["indexed"]) for i in e["inputs"]] for e in abi if e["type"] == "event"}
    assert events["DIDOwnerChanged"] == [("identity", "address", True), ("owner", "address", False),
                                         ("previousChange", "uint256", False)]
    assert events["DIDDelegateChanged"] == [("identity", "address", True), ("delegateType", "bytes32", False),
                                            ("delegate", "address", False), ("validTo", "uint256", False),
                                            ("previousChange", "uint256", False)]
    assert events["DIDAttributeChanged"] == [("identity", "address", True), ("name", "bytes32", False),
                                             ("value", "bytes", False), ("validTo", "uint256", False),
                                             ("previousChange", "uint256", False)]
