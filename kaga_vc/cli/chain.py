"""``kaga-vc chain``: the Ethereum chain the did:ethr registry lives on (embedded or a node)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from ._common import (
    JsonOption,
    PasswordFileOption,
    error_boundary,
    out_console,
    print_fields,
    print_json,
    read_password,
)

app = typer.Typer(help="The Ethereum chain of the did:ethr registry: the embedded one or a JSON-RPC node.",
                  no_args_is_help=True)

SUBMITTER_PASSWORD_ENV = "KAGA_VC_SUBMITTER_PASSWORD"

RpcUrlOption = typer.Option(None, "--rpc-url", help="JSON-RPC node URL (else $KAGA_VC_RPC_URL, else the embedded chain).")
RegistryOption = typer.Option(None, "--registry", help="Registry contract address on the node (else $KAGA_VC_REGISTRY).")
ChainIdOption = typer.Option(None, "--chain-id", help="Expected chain id of the node (else $KAGA_VC_CHAIN_ID).")
SubmitterKeyOption = typer.Option(
    None, "--submitter-key", exists=True, dir_okay=False,
    help="Keystore of the account that submits meta-transactions and pays gas (embedded chain: its funded account). "
    f"Password: ${SUBMITTER_PASSWORD_ENV}, else the keystore password.",
)


@contextmanager
def opened_registry(rpc_url: str | None, registry: str | None, chain_id: int | None,
                    submitter_key: Path | None = None, password_file: Path | None = None) -> Iterator[Any]:
    """Open the configured chain for one command and close it afterwards."""
    from ..registry import ChainSettings, close_registry, open_registry

    submitter = None
    if submitter_key is not None:
        from ..keys.keystore import load_key

        password = os.environ.get(SUBMITTER_PASSWORD_ENV) or read_password(password_file, prompt="Submitter password")
        submitter = load_key(submitter_key, password)
    reg = open_registry(ChainSettings.from_env(rpc_url=rpc_url, registry=registry, chain_id=chain_id),
                        submitter=submitter)
    try:
        yield reg
    finally:
        close_registry(reg)


@app.command("info")
@error_boundary
def info(
    rpc_url: str = RpcUrlOption,
    registry: str = RegistryOption,
    chain_id: int = ChainIdOption,
    as_json: bool = JsonOption,
) -> None:
    """Show the chain: kind, chain id, head block, registry address and contract build.

    Example: kaga-vc chain info --json
    """
    from ..keys import ethereum_address
    from ..registry.contract import load_artifact

    with opened_registry(rpc_url, registry, chain_id) as reg:
        reg.check_deployed()
        number, timestamp = reg.head()
        artifact = load_artifact()
        data: dict[str, Any] = {
            "kind": "embedded" if not hasattr(reg.transport, "url") else "json-rpc",
            "chainId": reg.chain_id,
            "didPrefix": f"did:ethr:{hex(reg.chain_id)}:",
            "registry": reg.registry,
            "block": number,
            "blockTimestamp": timestamp,
            "contract": {"compiler": artifact.compiler_version, "sourceSha256": artifact.source_sha256},
        }
        if data["kind"] == "embedded":
            data["home"] = str(reg.transport.directory.parent)
        else:
            data["rpcUrl"] = reg.transport.url
        if reg.submitter is not None:
            address = ethereum_address(reg.submitter.public_key)
            data["submitter"] = {"address": address,
                                 "balanceWei": str(int(reg.rpc("eth_getBalance", address, "latest"), 16))}
    if as_json:
        print_json(data)
    else:
        print_fields(data)


@app.command("deploy")
@error_boundary
def deploy(
    rpc_url: str = typer.Option(..., "--rpc-url", help="JSON-RPC node URL."),
    deployer_key: Path = typer.Option(..., "--deployer-key", exists=True, dir_okay=False,
                                      help="Keystore of the funded account that deploys."),
    chain_id: int = ChainIdOption,
    password_file: Path = PasswordFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Deploy this project's ERC-1056 registry on a node and print its address.

    Example: kaga-vc chain deploy --rpc-url http://127.0.0.1:8545 --deployer-key city.json
    """
    from ..keys.keystore import load_key
    from ..registry import Registry
    from ..registry.rpc import HttpTransport

    key = load_key(deployer_key, read_password(password_file))
    transport = HttpTransport(rpc_url)
    try:
        reg = Registry(transport, "0x" + "00" * 20, chain_id=chain_id)
        address = reg.deploy(sender=key)
        data = {"registry": address, "chainId": reg.chain_id}
    finally:
        transport.close()
    if as_json:
        print_json(data)
    else:
        out_console.print(address)


EmbeddedChainOption = typer.Option(False, "--embedded-chain", help="Resolve did:ethr on the embedded chain "
                                   "(even when $KAGA_VC_RPC_URL is set).")
# a verifying command is offline unless a chain is named: the help says so instead of "else the embedded chain"
VerifyRpcUrlOption = typer.Option(None, "--rpc-url", help="Resolve did:ethr on this JSON-RPC node (else $KAGA_VC_RPC_URL; "
                                  "neither nor --embedded-chain: no chain, did:ethr from a bundle only).")


@contextmanager
def chain_resolver(base: Any, rpc_url: str | None, registry: str | None, chain_id: int | None,
                   embedded: bool) -> Iterator[Any]:
    """``base`` plus did:ethr on the chain the options name; ``base`` alone (no chain) without them."""
    if not named_chain(rpc_url, embedded):
        yield base
        return
    from ..registry import ethr_method

    with opened_named_chain(rpc_url, registry, chain_id, embedded) as reg:
        yield base.with_method(ethr_method(reg))


def named_chain(rpc_url: str | None, embedded: bool) -> bool:
    """Whether a verifying command names a chain: --embedded-chain, --rpc-url or ``$KAGA_VC_RPC_URL``.

    Verification is offline unless one of them does (a verifier never opens an embedded chain
    by surprise); the environment is a default for --rpc-url, as every chain option's help says.
    """
    from ..registry.chains import ENV_RPC_URL

    return embedded or bool(rpc_url or os.environ.get(ENV_RPC_URL))


@contextmanager
def opened_named_chain(rpc_url: str | None, registry: str | None, chain_id: int | None,
                       embedded: bool) -> Iterator[Any]:
    """The chain :func:`named_chain` found: an explicit --embedded-chain wins over ``$KAGA_VC_RPC_URL``."""
    if embedded and not rpc_url:
        from ..registry import close_registry, open_registry
        from ..registry.chains import ChainSettings

        reg = open_registry(ChainSettings())
        try:
            yield reg
        finally:
            close_registry(reg)
        return
    with opened_registry(rpc_url, registry, chain_id) as reg:
        yield reg


class ChainResolvers:
    """The resolvers of one verification on one chain (``registry`` None: no chain named)."""

    def __init__(self, base: Any, ethr: Any = None, registry: Any = None) -> None:
        self.base, self.ethr, self.registry = base, ethr, registry
        self.current = base if ethr is None else base.with_method(ethr)

    def at(self, issuer: str | None, when: Any) -> Any:
        """did:ethr resolution of ``issuer`` pinned at ``when`` (the current document without either)."""
        from ..verifier.bundle import PinnedTimeMethod

        if self.ethr is None or issuer is None or when is None:
            return self.current
        return self.base.with_method(PinnedTimeMethod(self.ethr, {issuer: when}))

    def at_issuance(self, document: Any) -> Any:
        """DID Resolution ``versionTime``: the issuer's document when ``document`` says it was signed.

        (the did:ethr spec, and the reference resolver's handling of it): a credential signed with a
        key the city has since rotated away still verifies (docs/key-rotation.md).
        """
        from ..verifier import issuance_of

        return self.at(*issuance_of(document))


@contextmanager
def issuance_time_resolvers(base: Any, rpc_url: str | None, registry: str | None, chain_id: int | None,
                            embedded: bool) -> Iterator[ChainResolvers]:
    """:class:`ChainResolvers` on the chain the options name (``base`` alone without them)."""
    if not named_chain(rpc_url, embedded):
        yield ChainResolvers(base)
        return
    from ..registry import ethr_method

    with opened_named_chain(rpc_url, registry, chain_id, embedded) as reg:
        yield ChainResolvers(base, ethr_method(reg), reg)
