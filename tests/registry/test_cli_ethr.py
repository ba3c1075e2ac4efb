"""The did:ethr and chain commands, on the embedded chain in a temporary KAGA_VC_HOME."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.keys import KeyType, PrivateKey, ethereum_address

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password_env: str) -> Path:
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path / "home"))
    for name in ("KAGA_VC_RPC_URL", "KAGA_VC_REGISTRY", "KAGA_VC_CHAIN_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _keystore(home: Path, name: str, key_type: str) -> tuple[Path, dict[str, Any]]:
    out = home / f"{name}.json"
    result = invoke("key", "generate", "--type", key_type, "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_create_write_resolve_history(home: Path) -> None:
    info = invoke("chain", "info", "--json")
    assert info.exit_code == 0, info.output
    chain = json.loads(info.stdout)
    assert chain["kind"] == "embedded" and chain["chainId"] == 1337 and chain["registry"].startswith("0x")

    owner, owner_info = _keystore(home, "owner", "secp256k1")
    created = invoke("did", "create", "--method", "ethr", "--key", str(owner), "--json")
    assert created.exit_code == 0, created.output
    did = json.loads(created.stdout)["did"]
    assert did == f"did:ethr:0x539:{owner_info['ethereumAddress']}"

    ed = PrivateKey.generate(KeyType.ED25519).public_key.to_multikey()
    added = invoke("did", "add-key", did, "--type", "ed25519", "--public-key-multibase", ed, "--purpose", "sigAuth",
                   "--key", str(owner), "--json")
    assert added.exit_code == 0, added.output
    first_block = json.loads(added.stdout)["blockNumber"]
    assert invoke("did", "add-service", did, "--type", "LinkedDomains", "--endpoint", "https://kaga.example",
                  "--key", str(owner)).exit_code == 0
    delegate = ethereum_address(PrivateKey.generate(KeyType.SECP256K1).public_key)
    assert invoke("did", "add-delegate", did, "--delegate", delegate, "--delegate-type", "sigAuth",
                  "--valid-for", "3600", "--key", str(owner)).exit_code == 0
    revoked = invoke("did", "revoke", did, "--public-key-multibase", ed, "--purpose", "sigAuth", "--key", str(owner),
                     "--json")
    assert revoked.exit_code == 0, revoked.output

    latest = invoke("did", "resolve", did, "--json")
    assert latest.exit_code == 0, latest.output
    result = json.loads(latest.stdout)
    doc = result["didDocument"]
    assert doc["service"][0]["serviceEndpoint"] == "https://kaga.example"
    assert not any(vm["type"] == "Ed25519VerificationKey2020" for vm in doc["verificationMethod"])
    old = json.loads(invoke("did", "resolve", did, "--version-id", str(first_block), "--profile", "legacy",
                            "--json").stdout)
    assert old["didDocument"]["verificationMethod"][1]["type"] == "Ed25519VerificationKey2018"
    assert old["didDocumentMetadata"]["versionId"] == str(first_block)
    assert "nextVersionId" in old["didDocumentMetadata"]
    before = invoke("did", "resolve", did, "--version-time", "2000-01-01T00:00:00Z")
    assert json.loads(before.stdout)["verificationMethod"][0]["id"].endswith("#controller")

    history = invoke("did", "history", did, "--out", str(home / "h.json"))
    assert history.exit_code == 0, history.output
    from kaga_vc.did.ethr import DIDHistory

    exported = DIDHistory.from_json(json.loads((home / "h.json").read_text()))
    assert len(exported.events) == 4
    assert exported.resolve().did_document == doc

    new_owner, new_info = _keystore(home, "new-owner", "secp256k1")
    assert invoke("did", "change-owner", did, "--new-owner", new_info["ethereumAddress"], "--key", str(owner)).exit_code == 0
    refused = invoke("did", "deactivate", did, "--key", str(owner), "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["code"] == "kaga:wrong-signer"
    assert invoke("did", "deactivate", did, "--key", str(new_owner)).exit_code == 0
    final = json.loads(invoke("did", "resolve", did, "--json").stdout)
    assert final["didDocumentMetadata"]["deactivated"] is True


def test_bad_inputs_have_typed_errors(home: Path) -> None:
    owner, _ = _keystore(home, "owner", "ed25519")
    result = invoke("did", "create", "--method", "ethr", "--key", str(owner), "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] == "MALFORMED_VALUE_ERROR"
    result = invoke("did", "resolve", "did:ethr:0x539:0x1234", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] == "invalidDid"
    result = invoke("did", "resolve", "did:ethr:sepolia:0x" + "ab" * 20, "--json")
    assert result.exit_code == 4
    assert json.loads(result.stdout)["error"]["code"] == "unknownNetwork"
    result = invoke("did", "resolve", "did:ethr:0x539:0x" + "ab" * 20, "--version-time", "yesterday", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] == "invalidOptions"
    result = invoke("chain", "info", "--rpc-url", "http://127.0.0.1:9", "--registry", "0x" + "ab" * 20, "--json")
    assert result.exit_code == 4
    assert json.loads(result.stdout)["error"]["code"] == "kaga:node-unreachable"


@pytest.mark.node
def test_deploy_and_write_on_a_node(home: Path, rpc_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import DEV_KEYS

    hex_file = home / "account.hex"
    hex_file.write_text(DEV_KEYS[0][2:])
    account = home / "account.json"
    imported = invoke("key", "import", "--from", str(hex_file), "--type", "secp256k1", "--out", str(account))
    assert imported.exit_code == 0, imported.output
    deployed = invoke("chain", "deploy", "--rpc-url", rpc_url, "--deployer-key", str(account), "--json")
    assert deployed.exit_code == 0, deployed.output
    registry = json.loads(deployed.stdout)["registry"]
    node = ["--rpc-url", rpc_url, "--registry", registry]
    info = json.loads(invoke("chain", "info", *node, "--chain-id", "31337", "--json").stdout)
    assert info["kind"] == "json-rpc" and info["registry"] == registry and info["didPrefix"] == "did:ethr:0x7a69:"

    owner, _ = _keystore(home, "owner", "secp256k1")  # holds no ether: the account pays
    did = json.loads(invoke("did", "create", "--method", "ethr", "--key", str(owner), *node, "--json").stdout)["did"]
    written = invoke("did", "add-service", did, "--type", "LinkedDomains", "--endpoint", "https://kaga.example",
                     "--key", str(owner), "--submitter-key", str(account), *node, "--json")
    assert written.exit_code == 0, written.output
    assert json.loads(written.stdout)["from"] == ethereum_address(PrivateKey.from_hex(DEV_KEYS[0]).public_key)
    doc = json.loads(invoke("did", "resolve", did, *node).stdout)
    assert doc["service"][0]["serviceEndpoint"] == "https://kaga.example"
    wrong = invoke("did", "add-service", did, "--type", "X", "--endpoint", "https://x", "--key", str(owner),
                   "--rpc-url", rpc_url, "--registry", registry, "--chain-id", "1", "--json")
    assert wrong.exit_code == 3  # a node on another chain than the one named is a configuration error
    assert json.loads(wrong.stdout)["error"]["code"] == "kaga:wrong-chain"
    other_chain = did.replace("did:ethr:0x7a69:", "did:ethr:0x1:")
    wrong = invoke("did", "add-service", other_chain, "--type", "X", "--endpoint", "https://x", "--key", str(owner),
                   "--submitter-key", str(account), *node, "--json")
    assert wrong.exit_code == 3
    assert json.loads(wrong.stdout)["error"]["code"] == "invalidOptions"


def test_verify_a_credential_of_a_did_ethr_issuer_online(home: Path) -> None:
    from kaga_vc.credentials import issue_credential
    from kaga_vc.keys import KeySigner
    from kaga_vc.registry import close_registry, did_for, key_attribute, open_embedded

    owner = PrivateKey.generate(KeyType.SECP256K1)
    assertion = PrivateKey.generate(KeyType.ED25519)
    registry = open_embedded(home / "home")
    try:
        identity = ethereum_address(owner.public_key)
        did = did_for(registry, identity)
        registry.set_attribute(identity, *key_attribute(assertion.public_key), signer=owner)
    finally:
        close_registry(registry)
    credential = issue_credential(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
         "credentialSubject": {"id": "did:example:resident", "name": "Kaga resident"}},
        signer=KeySigner(assertion, f"{did}#delegate-1"),
    )
    path = home / "vc.json"
    path.write_text(json.dumps(credential))
    online = invoke("verify", str(path), "--embedded-chain", "--json")
    assert online.exit_code == 0, online.output
    assert json.loads(online.stdout)["verified"] is True
    offline = invoke("verify", str(path), "--json")  # no chain named: did:ethr cannot be resolved
    assert offline.exit_code == 4, offline.output


@pytest.mark.node
def test_verify_takes_the_chain_from_the_environment(home: Path, node_registry: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """KAGA_VC_RPC_URL / KAGA_VC_REGISTRY / KAGA_VC_CHAIN_ID are the defaults of verify's chain options."""
    from kaga_vc.credentials import issue_credential
    from kaga_vc.keys import KeySigner
    from kaga_vc.registry import did_for, key_attribute

    from .conftest import DEV_KEYS

    owner = PrivateKey.from_hex(DEV_KEYS[1])  # funded on the node: it writes its own attribute
    assertion = PrivateKey.generate(KeyType.ED25519)
    identity = ethereum_address(owner.public_key)
    node_registry.set_attribute(identity, *key_attribute(assertion.public_key), signer=owner)
    did = did_for(node_registry, identity)
    assert did.startswith("did:ethr:0x7a69:")
    credential = issue_credential(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
         "credentialSubject": {"id": "did:example:resident", "name": "Kaga resident"}},
        signer=KeySigner(assertion, f"{did}#delegate-1"),
    )
    path = home / "vc.json"
    path.write_text(json.dumps(credential))
    offline = invoke("verify", str(path), "--json")  # no chain named anywhere: could not check
    assert offline.exit_code == 4, offline.output

    monkeypatch.setenv("KAGA_VC_RPC_URL", node_registry.transport.url)
    monkeypatch.setenv("KAGA_VC_REGISTRY", node_registry.registry)
    monkeypatch.setenv("KAGA_VC_CHAIN_ID", "31337")
    online = invoke("verify", str(path), "--json")  # the environment names the node and its registry
    assert online.exit_code == 0, online.output
    assert json.loads(online.stdout)["verified"] is True
    assert invoke("verify", str(path), "--rpc-url", node_registry.transport.url, "--json").exit_code == 0

    monkeypatch.setenv("KAGA_VC_CHAIN_ID", "1")  # the node is not on the chain the environment expects
    wrong = invoke("verify", str(path), "--json")
    assert wrong.exit_code == 3, wrong.output
    assert json.loads(wrong.stdout)["error"]["code"] == "kaga:wrong-chain"
    assert invoke("verify", str(path), "--chain-id", "31337", "--json").exit_code == 0  # the option wins

    monkeypatch.setenv("KAGA_VC_CHAIN_ID", "31337")
    monkeypatch.delenv("KAGA_VC_REGISTRY")
    missing = invoke("verify", str(path), "--json")  # a node without a registry is a configuration error
    assert missing.exit_code == 3, missing.output
    assert invoke("verify", str(path), "--registry", node_registry.registry, "--json").exit_code == 0

    # an explicit --embedded-chain wins over the node in the environment: this issuer is not on it
    embedded = invoke("verify", str(path), "--embedded-chain", "--json")
    assert embedded.exit_code != 0, embedded.output
    assert node_registry.transport.url not in embedded.output


def test_verify_help_names_the_environment() -> None:
    text = invoke("verify", "--help").output
    for name in ("KAGA_VC_RPC_URL", "KAGA_VC_REGISTRY", "KAGA_VC_CHAIN_ID"):
        assert name in text
