"""A fresh virtualenv, a non-editable ``pip install`` of this repository, then the installed
``kaga-vc did resolve`` prints every did:key vector's document (issue 2, "Done when").

Also checks what only an installed copy can show: the bundled JSON-LD contexts are in the wheel
(with the digests index.json records), the code does not reach for the project notes' sibling folder, and the install
really is a copy and not an editable link back to this work tree.

How the environment is built, and why:

* ``python -m venv`` of a fresh directory, then ``pip install <copy of the repo>`` with its full
  dependency resolution and build isolation: exactly what a user does, nothing borrowed from the
  development virtualenv. Measured on the 2-core machine: about 20 s with pip's cache warm, which
  it is in CI because scripts/test.sh installed the same dependencies into .venv just before.
  Cheaper variants were rejected: ``--no-build-isolation`` needs setuptools>=69 in the new venv
  (ensurepip's is older), so it would need its own install step; and reusing the dev venv's
  site-packages (``--system-site-packages`` only reaches the base interpreter's, a .pth file would
  drag in the editable kaga_vc finder) would stop the test from proving the dependency list.
* The source is copied first (without .venv, .git, build/ and caches) because pip builds a local
  directory in place: it would write build/ and kaga_vc.egg-info into the work tree, and a stale
  build/lib there can put deleted modules into the wheel.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_did_key import assert_document_matches, cli_arguments, load_vectors

ROOT = Path(__file__).resolve().parent.parent
_NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    ".test-work",
    "node_modules",
    "tests",
)
# A path into the sibling shared/ folder, however it is spelt.
_SHARED_REFERENCE = re.compile(r"""\.\./shared|["']shared["']""")


def _clean_env() -> dict[str, str]:
    """This process's environment without what would point the new venv back at this one."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(args: list[str | Path], *, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        check=False,
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(venv bin directory, installed kaga_vc package directory) of a fresh non-editable install."""
    work = tmp_path_factory.mktemp("install")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=_NOT_COPIED)
    venv = work / "venv"
    # sys.executable may be a venv's python; venv builds on its base interpreter either way.
    created = _run([sys.executable, "-m", "venv", venv], cwd=work, timeout=120)
    assert created.returncode == 0, created.stderr
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    pip = _run([bin_dir / "python", "-m", "pip", "install", "--quiet", source], cwd=work, timeout=600)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    located = _run([bin_dir / "python", "-c", "import kaga_vc; print(kaga_vc.__file__)"], cwd=work)
    assert located.returncode == 0, located.stderr
    package = Path(located.stdout.strip()).resolve().parent
    return bin_dir, package


def test_fresh_install_resolves_every_did_key_vector(installed: tuple[Path, Path], tmp_path: Path) -> None:
    bin_dir, package = installed
    venv = bin_dir.parent.resolve()

    # A real copy inside the new venv, not the work tree and not an editable link to it.
    assert package.is_relative_to(venv), package
    assert not list(venv.rglob("__editable__*")), "kaga_vc was installed in editable mode"
    (direct_url,) = venv.rglob("kaga_vc-*.dist-info/direct_url.json")
    assert not json.loads(direct_url.read_text()).get("dir_info", {}).get("editable", False)

    # The bundled contexts travel with the package, byte for byte.
    index_file = package / "contexts" / "data" / "index.json"
    assert index_file.is_file()
    for url, entry in json.loads(index_file.read_text(encoding="utf-8")).items():
        data = (index_file.parent / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], url

    # The installed code never reads the development-only shared/ folder.
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if _SHARED_REFERENCE.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []

    # Every vector through the installed console script, from a neutral directory.
    kaga_vc = bin_dir / "kaga-vc"
    for vector in load_vectors():
        result = _run([kaga_vc, *cli_arguments(vector)], cwd=tmp_path)
        if vector.unsupported_reason:  # see tests/vectors/did-key/SOURCE.md (P-521)
            assert result.returncode == 3, (vector.id, result.stdout, result.stderr)
            continue
        assert result.returncode == 0, (vector.id, result.stderr)
        assert_document_matches(vector, json.loads(result.stdout))
