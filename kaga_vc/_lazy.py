"""Package namespaces that import a public name's module on first use (PEP 562).

Why: a cold ``kaga-vc verify`` must not pay for issuance, pydantic models or Ethereum code it does
not touch, yet ``from kaga_vc.credentials import verify_credential`` must keep working. Each package
lists ``name → submodule`` once and gets its ``__getattr__`` / ``__dir__`` from here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_namespace(package: str, table: Mapping[str, str],
                   namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: ``table[name]`` is the module (relative to
    ``package``) that defines ``name``; a name once imported is kept in ``namespace`` (the package's
    globals), so the next access is an ordinary attribute."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *table})

    return __getattr__, __dir__
