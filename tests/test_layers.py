"""The import contract of STYLE.md §1: a package imports only from layers below it.

Every ``import`` in ``kaga_vc`` (including ones inside functions) is checked, so a lazy import can
not smuggle a dependency upwards either. Heavy Ethereum libraries may only be imported by
``kaga_vc.registry`` (and the CLI, which wires chains in).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kaga_vc"

# Bottom-up; a module may import its own layer and any lower one.
LAYERS = [
    {"errors", "_encoding", "results", "_files", "_http", "_migrations"},
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


def _imports(path: Path) -> list[tuple[str, int]]:
    """Absolute module names imported by ``path`` (relative imports resolved), with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package_parts = ["kaga_vc", *path.relative_to(PACKAGE).parent.parts]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
                    continue
            else:
                module = node.module or ""
            found.append((module, node.lineno))
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
