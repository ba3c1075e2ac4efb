"""Fixtures of the registry tests: a real local JSON-RPC node (anvil from npm), the embedded chain,
and the reference Node.js did:ethr packages (run as subprocesses, JSON in and out).

The node is started once per test session from ``tests/interop/ethr/node_modules`` (installed by
``scripts/test.sh`` with ``npm ci``) on a free loopback port and killed at the end of the session,
whatever happened. Set ``KAGA_VC_TEST_RPC_URL`` to use a node you started yourself instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / "tests" / "interop" / "ethr"
NODE_MODULES = INTEROP / "node_modules"

# anvil's well-known development accounts (funded on the local node only)
DEV_KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733e4a4d4a4b04f9b4a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
]


def _require_node_modules() -> None:
    if not (NODE_MODULES / ".bin" / "anvil").exists():
        pytest.fail(f"the Node.js interop packages are missing: run `npm ci` in {INTEROP.relative_to(ROOT)} "
                    "(scripts/test.sh does)", pytrace=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rpc(url: str, method: str, params: list[Any] | None = None) -> Any:
    response = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []},
                             timeout=5)
    return response.json().get("result")


@pytest.fixture(scope="session")
def rpc_url() -> Iterator[str]:
    """URL of a running local anvil node (chain id 31337), started for the session."""
    external = os.environ.get("KAGA_VC_TEST_RPC_URL")
    if external:
        yield external
        return
    _require_node_modules()
    port = _free_port()
    binary = NODE_MODULES / ".bin" / "anvil"
    proc = subprocess.Popen(
        [str(binary), "--host", "127.0.0.1", "--port", str(port), "--silent", "--accounts", "10"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"anvil exited: {proc.stderr.read().decode(errors='replace')[:500] if proc.stderr else ''}")
            try:
                if _rpc(url, "eth_chainId"):
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("anvil did not start within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def run_node(command: str, payload: dict[str, Any], *, timeout: float = 120) -> Any:
    """Run tests/interop/ethr/ethr.mjs COMMAND with ``payload`` on stdin; its JSON answer."""
    _require_node_modules()
    node = shutil.which("node")
    assert node, "node is not installed"
    proc = subprocess.run([node, str(INTEROP / "ethr.mjs"), command], input=json.dumps(payload).encode(),
                          capture_output=True, check=False, timeout=timeout, cwd=INTEROP)
    if proc.returncode != 0:
        raise AssertionError(f"ethr.mjs {command} failed: {proc.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def node_registry(rpc_url: str) -> Any:
    """Our registry deployed on the local node (by dev account 0); a Registry client for it."""
    from kaga_vc.keys import PrivateKey
    from kaga_vc.registry import Registry
    from kaga_vc.registry.rpc import HttpTransport

    deployer = PrivateKey.from_hex(DEV_KEYS[0])
    registry = Registry(HttpTransport(rpc_url), "0x" + "00" * 20)
    registry.deploy(sender=deployer)
    return registry


@pytest.fixture(scope="session")
def reference_registry_address(rpc_url: str) -> str:
    """The reference ethr-did-registry contract (npm artifact) deployed on the local node."""
    return str(run_node("deploy-reference", {"rpcUrl": rpc_url, "privateKey": DEV_KEYS[0]})["address"])


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Any]:
    """A fresh embedded chain with our registry deployed (closed after the test)."""
    from kaga_vc.registry import close_registry, open_embedded

    registry = open_embedded(tmp_path / "home")
    try:
        yield registry
    finally:
        close_registry(registry)
