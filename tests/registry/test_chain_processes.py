"""The embedded chain across processes: the directory lock, a process killed mid-block, configuration errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.cli._common import ExitCode
from kaga_vc.errors import KagaError
from kaga_vc.registry import close_registry, open_embedded
from kaga_vc.registry import embedded as embedded_module
from kaga_vc.registry.embedded import EmbeddedChain

runner = CliRunner()

HOLD = textwrap.dedent("""
    import sys, time
    from kaga_vc.registry.embedded import EmbeddedChain
    chain = EmbeddedChain(sys.argv[1])
    print("ready", flush=True)
    time.sleep(float(sys.argv[2]))
    chain.close()
""")


def _hold(directory: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(directory), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_a_chain_held_by_another_process_is_waited_for(tmp_path: Path) -> None:
    holder = _hold(tmp_path / "chain", 1.0)
    try:
        started = time.monotonic()
        chain = EmbeddedChain(tmp_path / "chain", lock_wait=30)
        assert time.monotonic() - started >= 0.5  # it waited for the holder instead of failing at once
        chain.close()
    finally:
        holder.wait(timeout=30)


def test_a_busy_chain_is_could_not_check_in_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    close_registry(open_embedded(tmp_path))
    monkeypatch.setattr(embedded_module, "LOCK_WAIT_SECONDS", 0.3)
    holder = _hold(tmp_path / "chain", 30)
    try:
        result = runner.invoke(app, ["chain", "info", "--json"], env={"KAGA_VC_HOME": str(tmp_path)})
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert result.exit_code == ExitCode.COULD_NOT_CHECK, result.output
    assert json.loads(result.stdout)["error"]["code"] == "kaga:chain-busy"


KILL_MID_BLOCK = textwrap.dedent("""
    import os, sys
    from kaga_vc.keys import KeyType, PrivateKey, ethereum_address
    from kaga_vc.registry import open_embedded, service_attribute
    registry = open_embedded(sys.argv[1])
    owner = PrivateKey.from_bytes(KeyType.SECP256K1, bytes([7]) * 32)
    identity = ethereum_address(owner.public_key)
    chain = registry.transport
    original = chain._index_block
    def index_then_die(block):
        original(block)       # the block, its state and its log index are written, not committed
        os._exit(9)           # the process dies before COMMIT
    chain._index_block = index_then_die
    registry.set_attribute(identity, *service_attribute("B", "https://b.example"), signer=owner)
""")


def test_a_process_killed_mid_block_leaves_the_last_committed_block(tmp_path: Path) -> None:
    from kaga_vc.did import Resolver
    from kaga_vc.keys import KeyType, PrivateKey, ethereum_address
    from kaga_vc.registry import did_for, ethr_method, service_attribute

    owner = PrivateKey.from_bytes(KeyType.SECP256K1, bytes([7]) * 32)
    identity = ethereum_address(owner.public_key)
    registry = open_embedded(tmp_path)
    registry.set_attribute(identity, *service_attribute("A", "https://a.example"), signer=owner)
    head = registry.head()[0]
    close_registry(registry)

    proc = subprocess.run([sys.executable, "-c", KILL_MID_BLOCK, str(tmp_path)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 9, proc.stderr

    registry = open_embedded(tmp_path)  # the lock died with the process; the database is the last block
    try:
        assert registry.head()[0] == head
        assert registry.nonce(identity) == 1
        receipt = registry.set_attribute(identity, *service_attribute("C", "https://c.example"), signer=owner)
        assert receipt.block_number == head + 1
        document = Resolver({"ethr": ethr_method(registry)}).resolve(did_for(registry, identity)).did_document
        assert [s["type"] for s in document["service"]] == ["A", "C"]
    finally:
        close_registry(registry)


def test_a_malformed_chain_id_in_the_environment_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["chain", "info", "--json"],
                           env={"KAGA_VC_HOME": str(tmp_path), "KAGA_VC_CHAIN_ID": "mainnet"})
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "MALFORMED_VALUE_ERROR" and "KAGA_VC_CHAIN_ID" in error["detail"]


@pytest.mark.parametrize(("code", "exit_code"), [
    ("kaga:wrong-chain", ExitCode.BAD_INPUT), ("kaga:no-registry", ExitCode.BAD_INPUT),
    ("kaga:chain-busy", ExitCode.COULD_NOT_CHECK), ("kaga:chain-corrupt", ExitCode.COULD_NOT_CHECK),
    ("kaga:node-unreachable", ExitCode.COULD_NOT_CHECK), ("kaga:transaction-reverted", ExitCode.INVALID),
])
def test_registry_error_exit_codes(code: str, exit_code: ExitCode) -> None:
    from kaga_vc.cli._common import exit_code_for
    from kaga_vc.registry._errors import RegistryError

    error = RegistryError(code, "x")
    assert isinstance(error, KagaError)
    assert exit_code_for(error) == exit_code


def test_no_registry_on_a_node_is_bad_input_not_invalid(tmp_path: Path) -> None:
    result = runner.invoke(app, ["chain", "info", "--rpc-url", "http://127.0.0.1:9", "--json"],
                           env={"KAGA_VC_HOME": str(tmp_path), "KAGA_VC_REGISTRY": ""})
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert json.loads(result.stdout)["error"]["code"] == "kaga:no-registry"
