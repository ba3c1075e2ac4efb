"""The import contract of STYLE.md §1: a package imports only from layers below it.

Every ``import`` in ``kaga_vc`` (including ones inside functions) is checked, so a lazy import can
not smuggle a dependency upwards either. Heavy Ethereum libraries may only be imported by
``kaga_vc.registry`` (and the CLI, which wires chains in). A package reaches another one only through
its public names: no import of another package's ``_private`` module nor of a ``_private`` name (the
bottom layer's top-level modules, ``kaga_vc._files`` and the like, are shared by every package).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kaga_vc"

# Bottom-up; a module may import its own layer and any lower one.
LAYERS = [
    {"errors", "_encoding", "results", "_files", "_home", "_http", "_migrations", "_sqlite", "_lazy"},
    {"keys"},
    {"did"},
    {"registry"},
    {"contexts"},
    {"proofs"},
    {"credentials", "status"},
    {"issuer", "holder", "verifier"},
    {"accesslog"},
    {"server"},
    {"cli"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
ETHEREUM = ("web3", "eth_tester", "eth", "evm", "py_evm")
MAY_IMPORT_ETHEREUM = {"registry", "cli"}


def _layer_of(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts == ("__init__",) or parts[0] == "__main__":
        return None
    return parts[0]


def _imports(path: Path, source: str | None = None) -> list[tuple[str, int]]:
    """Absolute module names imported by ``path`` (relative imports resolved), with line numbers."""
    return [(module, line) for module, _, line in _imports_with_names(path, source)]


def _imports_with_names(path: Path, source: str | None = None) -> list[tuple[str, list[str], int]]:
    """Each imported module of ``path`` with the names a ``from`` import takes from it."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    package_parts = ["kaga_vc", *path.relative_to(PACKAGE).parent.parts]
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    found += [(f"{module}.{alias.name}", [], node.lineno) for alias in node.names]
                    continue
            else:
                module = node.module or ""
            found.append((module, [alias.name for alias in node.names], node.lineno))
    return found


def _private_reaches(path: Path, source: str | None = None) -> list[str]:
    """Imports in ``path`` of another package's private module or private name."""
    own = _layer_of(path)
    found = []
    for module, names, line in _imports_with_names(path, source):
        parts = module.split(".")
        if parts[0] != "kaga_vc" or len(parts) < 2 or parts[1] == own:
            continue
        private_modules = [part for part in parts[2:] if part.startswith("_") and part != "__init__"]
        private_names = [name for name in names if name.startswith("_") and not name.startswith("__")]
        if private_modules or private_names:
            found.append(f"{path.name}:{line} ({own}) imports {module} {', '.join(private_names)}".rstrip())
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _layer_of(p) is not None)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_down(path: Path) -> None:
    layer = _layer_of(path)
    assert layer in RANK, f"{layer} is not in the layer table"
    for module, line in _imports(path):
        parts = module.split(".")
        if parts[0] == "kaga_vc" and len(parts) > 1:
            target = parts[1]
            if target in ("__init__",) or target not in RANK:
                continue
            assert RANK[target] <= RANK[layer], f"{path.name}:{line} ({layer}) imports {module} ({target})"
        elif parts[0] in ETHEREUM and parts[0] != "eth_account" and layer not in MAY_IMPORT_ETHEREUM:
            pytest.fail(f"{path.name}:{line} ({layer}) imports the Ethereum library {module}")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_other_packages_are_reached_through_public_names(path: Path) -> None:
    assert _private_reaches(path) == []


@pytest.mark.parametrize("planted", [
    "from ..proofs.jose._jws import sign_compact\n",
    "from kaga_vc.verifier._verify import credential_types\n",
    "def f():\n    from ..issuer.records import _dt\n",
    "import kaga_vc.accesslog._store\n",
])
def test_a_planted_reach_into_another_package_is_refused(planted: str) -> None:
    holder = PACKAGE / "holder" / "wallet.py"
    assert len(_private_reaches(holder, planted)) == 1


@pytest.mark.parametrize("allowed", [
    "from ._private_module import thing\n",            # the holder's own private module
    "from .._files import write_atomically\n",        # the bottom layer's shared modules
    "from ..proofs.jose import sign_compact\n",        # another package's public name
])
def test_own_private_modules_and_public_names_are_allowed(allowed: str) -> None:
    assert _private_reaches(PACKAGE / "holder" / "wallet.py", allowed) == []
