"""Open the chain the registry lives on: the embedded one in KAGA_VC_HOME, or a JSON-RPC node.

Configuration, first match wins: the arguments, then the environment (``KAGA_VC_RPC_URL``,
``KAGA_VC_REGISTRY``, ``KAGA_VC_CHAIN_ID``), then the embedded chain in ``$KAGA_VC_HOME/chain``
(``KAGA_VC_HOME`` defaults to the user's data directory). The embedded chain deploys the registry
on first use and remembers its address; on a node, the registry address is required.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kaga_vc._home import default_home
from kaga_vc.did.ethr import KNOWN_NETWORKS, EthrMethod, Profile
from kaga_vc.errors import MALFORMED_VALUE_ERROR, InputError
from kaga_vc.keys import KeyType, PrivateKey
from kaga_vc.registry._errors import NO_REGISTRY, RegistryError
from kaga_vc.registry.client import Registry

ENV_RPC_URL = "KAGA_VC_RPC_URL"
ENV_REGISTRY = "KAGA_VC_REGISTRY"
ENV_CHAIN_ID = "KAGA_VC_CHAIN_ID"


@dataclass(frozen=True, slots=True)
class ChainSettings:
    """Where the registry is: a node URL (None: the embedded chain), its address and chain id."""

    rpc_url: str | None = None
    registry: str | None = None
    chain_id: int | None = None
    home: Path | None = None

    @classmethod
    def from_env(cls, *, rpc_url: str | None = None, registry: str | None = None, chain_id: int | None = None,
                 home: str | os.PathLike[str] | None = None) -> ChainSettings:
        env_chain = os.environ.get(ENV_CHAIN_ID)
        if chain_id is None and env_chain:
            try:
                chain_id = int(env_chain, 0)
            except ValueError:
                raise InputError(MALFORMED_VALUE_ERROR, f"{ENV_CHAIN_ID} is not a chain id: {env_chain[:40]!r}") from None
        return cls(
            rpc_url=rpc_url or os.environ.get(ENV_RPC_URL) or None,
            registry=registry or os.environ.get(ENV_REGISTRY) or None,
            chain_id=chain_id,
            home=Path(home) if home is not None else None,
        )

    @property
    def embedded(self) -> bool:
        return self.rpc_url is None


def open_registry(settings: ChainSettings | None = None, *, submitter: PrivateKey | None = None,
                  confirmations: int = 0, timeout: float = 10.0) -> Registry:
    """A :class:`Registry` on the configured chain (close it with :func:`close_registry`)."""
    settings = settings or ChainSettings.from_env()
    if settings.rpc_url is not None:
        from kaga_vc.registry.rpc import HttpTransport

        if not settings.registry:
            raise RegistryError(NO_REGISTRY, "a JSON-RPC chain needs the registry address (--registry or "
                                f"{ENV_REGISTRY})")
        transport = HttpTransport(settings.rpc_url, timeout=timeout)
        return Registry(transport, settings.registry, chain_id=settings.chain_id, submitter=submitter,
                        confirmations=confirmations)
    return open_embedded(settings.home or default_home(), submitter=submitter)


def open_embedded(home: str | os.PathLike[str], *, submitter: PrivateKey | None = None,
                  chain_id: int | None = None) -> Registry:
    """The registry on the embedded chain in ``home/chain``, deployed there on first use."""
    from kaga_vc.registry.embedded import DEFAULT_CHAIN_ID, EmbeddedChain

    chain = EmbeddedChain(Path(home) / "chain", chain_id=chain_id or DEFAULT_CHAIN_ID)
    funded = PrivateKey.from_bytes(KeyType.SECP256K1, chain.submitter_key)
    address = chain.get_meta("registry")
    registry = Registry(chain, address or "0x" + "00" * 20, chain_id=chain.chain_id, submitter=submitter or funded)
    if address is None:
        try:
            address = registry.deploy(sender=funded)
        except BaseException:
            chain.close()
            raise
        chain.set_meta("registry", address)
    return registry


def close_registry(registry: Registry) -> None:
    """Release the chain behind ``registry`` (the embedded chain's lock, an HTTP session)."""
    close = getattr(registry.transport, "close", None)
    if callable(close):
        close()


def ethr_method(registry: Registry, *, profile: Profile = "current", **kw: Any) -> EthrMethod:
    """An ``EthrMethod`` resolving DIDs of ``registry``'s chain (by hex chain id and known name)."""
    networks: dict[str, Any] = {hex(registry.chain_id): registry}
    for name, chain_id in KNOWN_NETWORKS.items():
        if chain_id == registry.chain_id:
            networks[name] = registry
    return EthrMethod(networks, profile=profile, **kw)


def did_for(registry: Registry, address_or_key: str) -> str:
    """The did:ethr of an address (or compressed public key) on ``registry``'s chain."""
    return f"did:ethr:{hex(registry.chain_id)}:{address_or_key}"
