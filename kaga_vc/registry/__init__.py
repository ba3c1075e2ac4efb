"""Ethereum: the ERC-1056 registry contract, its client, and the chains it lives on.

The only layer of kaga_vc that talks to Ethereum. Importing it is cheap: the EVM (py-evm,
eth-tester) loads when an embedded chain is opened, never at import.

- :mod:`kaga_vc.registry.contract`: the shipped artifact, call encoding, event decoding, meta-tx digest
- :mod:`kaga_vc.registry.client`: :class:`Registry`, reads (an ``Erc1056Source``) and writes
- :mod:`kaga_vc.registry.chains`: open the embedded chain or a JSON-RPC node
- :mod:`kaga_vc.registry.embedded`: the embedded chain itself
"""

from __future__ import annotations

from kaga_vc._home import default_home  # the one answer, re-exported for callers of the registry
from kaga_vc.registry.chains import (
    ChainSettings,
    close_registry,
    did_for,
    ethr_method,
    open_embedded,
    open_registry,
)
from kaga_vc.registry.client import FOREVER, Receipt, Registry, key_attribute, service_attribute

__all__ = [
    "FOREVER",
    "ChainSettings",
    "Receipt",
    "Registry",
    "close_registry",
    "default_home",
    "did_for",
    "ethr_method",
    "key_attribute",
    "open_embedded",
    "open_registry",
    "service_attribute",
]
