"""Import hooks of the offline verify process only: pyld without its network and HTML machinery.

Why: pyld's imports cost a cold ``kaga-vc verify`` more than its whole JSON-LD work on a status
list. ``import pyld`` runs a package ``__init__`` that re-exports every document loader (the
aiohttp one imports asyncio and ssl, the file one urllib.request, http.client and email), and
``pyld.jsonld`` builds a requests-based default loader when it is executed (requests, urllib3, a
Session) and imports lxml.html for HTML documents. kaga_vc uses none of these: every JSON-LD call
passes the offline loader, and no HTML document is ever loaded. So in this single-threaded process
(installed by :func:`install`, called by ``_verify_fast.run`` only):

* ``pyld`` is initialised as a bare package: its submodules import as usual (``from pyld import
  jsonld`` works), only the package's re-exports of the loader classes are not made;
* while ``pyld.jsonld`` is executed, requests, aiohttp and pyld's requests / aiohttp loader modules
  raise ImportError, so pyld falls back to its dummy default loader (it fetches nothing);
  they are visible again right after;
* ``lxml.html`` is a lazy module (:class:`importlib.util.LazyLoader`): executed on first use.

Nothing pyld computes changes (``tests/test_cli_cold_start.py`` runs the full verify through this
process and compares its output with the typer command's).
"""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import LazyLoader
from types import ModuleType
from typing import Any

# module executed → what cannot be imported while it is executed
HIDDEN_WHILE = {
    "pyld.jsonld": ("requests", "aiohttp", "pyld.documentloader.requests", "pyld.documentloader.aiohttp"),
}
# packages initialised without their __init__ body (re-exports kaga_vc never reads)
BARE_PACKAGES = ("pyld",)
# modules executed on first attribute access (pyld.jsonld imports it for HTML documents)
LAZY = ("lxml.html",)


class LeanFinder:
    """A meta-path finder for the few modules above; every other import is left to the next finder."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name not in HIDDEN_WHILE and name not in BARE_PACKAGES and name not in LAZY:
            return None
        spec = PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return spec
        if name in LAZY:
            spec.loader = LazyLoader(spec.loader)
        elif name in BARE_PACKAGES and spec.submodule_search_locations is not None:
            spec.loader = _BarePackage(spec.loader)  # type: ignore[assignment]
        elif name in HIDDEN_WHILE:
            spec.loader = _Hiding(spec.loader, HIDDEN_WHILE[name])  # type: ignore[assignment]
        return spec


class _Wrapped:
    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename … as the real loader's
        return getattr(self.real, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.real.create_module(spec)  # type: ignore[no-any-return]


class _BarePackage(_Wrapped):
    def exec_module(self, module: ModuleType) -> None:
        """The package exists (``__path__``, ``__spec__`` set by the import system); its body is not run."""


class _Hiding(_Wrapped):
    def __init__(self, real: Any, names: tuple[str, ...]) -> None:
        super().__init__(real)
        self.names = names

    def exec_module(self, module: ModuleType) -> None:
        hidden = [name for name in self.names if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # "import name" raises ImportError
        try:
            self.real.exec_module(module)
        finally:
            for name in hidden:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]


def install() -> None:
    """Install the finder (once, before pyld is imported; a no-op when it already is)."""
    if "pyld" not in sys.modules and not any(isinstance(f, LeanFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, LeanFinder())
