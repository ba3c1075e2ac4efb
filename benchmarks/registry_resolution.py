"""did:ethr resolution and registry write benchmarks (run on demand, not part of the tests).

    python benchmarks/registry_resolution.py [--changes 1 10 100] [--depth 500] [--no-node]

For DIDs with 1, 10 and 100 changes: the median resolution time and the number of JSON-RPC calls,
on the embedded chain and on a local anvil node (started from tests/interop/ethr/node_modules, which
`npm ci` there installs); the embedded chain also after `--depth` unrelated blocks, to show that the
cost does not grow with the chain. Then the gas of each write operation on this project's registry and
on the reference ethr-did-registry contract, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kaga_vc.did import Resolver
from kaga_vc.errors import RegistryError
from kaga_vc.keys import KeyType, PrivateKey, ethereum_address
from kaga_vc.registry import Registry, did_for, ethr_method, key_attribute, open_embedded, service_attribute
from kaga_vc.registry.rpc import HttpTransport

NODE_MODULES = ROOT / "tests" / "interop" / "ethr" / "node_modules"
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def make_did(registry: Registry, changes: int) -> str:
    owner = PrivateKey.generate(KeyType.SECP256K1)
    identity = ethereum_address(owner.public_key)
    for i in range(changes):
        registry.set_attribute(identity, *service_attribute("Svc", f"https://s{i}.kaga.example"), signer=owner)
    return did_for(registry, identity)


def measure(registry: Registry, did: str, repeat: int) -> tuple[float, int]:
    """Median time and RPC calls of a cold resolution (a new client each time: no cached block times)."""
    times, calls = [], 0
    for _ in range(repeat):
        fresh = Registry(registry.transport, registry.registry, chain_id=registry.chain_id)
        before = registry.transport.calls
        start = time.perf_counter()
        Resolver({"ethr": ethr_method(fresh)}).resolve(did)
        times.append(time.perf_counter() - start)
        calls = registry.transport.calls - before
    return statistics.median(times), calls


def resolution_table(registry: Registry, label: str, sizes: list[int], depth: int) -> list[dict[str, Any]]:
    rows = []
    dids = {n: make_did(registry, n) for n in sizes}
    for n, did in dids.items():
        median, calls = measure(registry, did, 5 if n < 100 else 3)
        rows.append({"chain": label, "changes": n, "depth": 0, "median_ms": round(median * 1000, 1), "rpc_calls": calls})
    if depth:
        filler = PrivateKey.generate(KeyType.SECP256K1)
        filler_id = ethereum_address(filler.public_key)
        start = time.perf_counter()
        for i in range(depth):
            registry.set_attribute(filler_id, *service_attribute("F", f"https://f{i}"), signer=filler)
        write_ms = (time.perf_counter() - start) / depth * 1000
        for n, did in dids.items():
            median, calls = measure(registry, did, 3)
            rows.append({"chain": label, "changes": n, "depth": depth, "median_ms": round(median * 1000, 1),
                         "rpc_calls": calls})
        rows.append({"chain": label, "write_ms_per_change": round(write_ms, 1)})
    return rows


def start_anvil() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([str(NODE_MODULES / ".bin" / "anvil"), "--port", str(port), "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    transport = HttpTransport(url, timeout=2)
    for _ in range(300):
        try:
            transport.request("eth_chainId", [])
            return proc, url
        except RegistryError:  # not up yet
            time.sleep(0.1)
    raise RuntimeError("anvil did not start")


def gas_table(url: str) -> list[dict[str, Any]]:
    submitter = PrivateKey.from_hex(ANVIL_KEY)
    reference = json.loads((NODE_MODULES / "ethr-did-registry" / "artifacts" / "contracts" / "EthereumDIDRegistry.sol"
                            / "EthereumDIDRegistry.json").read_text())
    rows = []
    for label, bytecode in (("kaga_vc", None), ("reference", bytes.fromhex(reference["bytecode"][2:]))):
        registry = Registry(HttpTransport(url), "0x" + "00" * 20, submitter=submitter)
        registry.deploy(bytecode, sender=submitter)
        deploy_gas = int(registry.rpc("eth_getTransactionReceipt", _last_tx(registry))["gasUsed"], 16)
        owner = PrivateKey.from_hex(ANVIL_KEY)  # direct calls: the owner pays
        meta_owner = PrivateKey.generate(KeyType.SECP256K1)
        ed = PrivateKey.generate(KeyType.ED25519).public_key
        delegate = ethereum_address(PrivateKey.generate(KeyType.SECP256K1).public_key)
        row: dict[str, Any] = {"contract": label, "deploy": deploy_gas}
        for mode, signer, meta in (("direct", owner, False), ("meta", meta_owner, True)):
            identity = ethereum_address(signer.public_key)
            kw = {"signer": signer, "meta": meta}
            row[f"setAttribute first ({mode})"] = registry.set_attribute(identity, *key_attribute(ed), **kw).gas_used
            row[f"setAttribute ({mode})"] = registry.set_attribute(identity, *service_attribute("S", "https://s"), **kw).gas_used
            row[f"addDelegate ({mode})"] = registry.add_delegate(identity, "veriKey", delegate, 3600, **kw).gas_used
            row[f"revokeDelegate ({mode})"] = registry.revoke_delegate(identity, "veriKey", delegate, **kw).gas_used
            row[f"revokeAttribute ({mode})"] = registry.revoke_attribute(identity, *key_attribute(ed), **kw).gas_used
            new_owner = ethereum_address(PrivateKey.generate(KeyType.SECP256K1).public_key)
            row[f"changeOwner ({mode})"] = registry.change_owner(identity, new_owner, **kw).gas_used
        rows.append(row)
    return rows


def _last_tx(registry: Registry) -> str:
    block = registry.rpc("eth_getBlockByNumber", "latest", True)
    return str(block["transactions"][-1]["hash"] if isinstance(block["transactions"][-1], dict)
               else block["transactions"][-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--depth", type=int, default=500)
    parser.add_argument("--no-node", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        registry = open_embedded(home)
        try:
            for row in resolution_table(registry, "embedded", args.changes, args.depth):
                print(json.dumps(row))
        finally:
            registry.transport.close()  # type: ignore[attr-defined]
    if args.no_node:
        return
    proc, url = start_anvil()
    try:
        registry = Registry(HttpTransport(url), "0x" + "00" * 20, submitter=PrivateKey.from_hex(ANVIL_KEY))
        registry.deploy(sender=PrivateKey.from_hex(ANVIL_KEY))
        for row in resolution_table(registry, "anvil", args.changes, 0):
            print(json.dumps(row))
        for row in gas_table(url):
            print(json.dumps(row))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
