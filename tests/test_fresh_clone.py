"""The suite passes on any fresh clone: no test reads a file outside the repository.

A test that reaches for a sibling folder (the project notes beside the clone) passes only where the
repository happens to sit beside it; reference data lives in ``tests/vectors/`` with its provenance.
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# Ways a test could name something beside the repository: the parent's notes folder by a relative path,
# ROOT.parent, or that folder's name as a path part.
_OUTSIDE = re.compile(r"""\.\./shared|\bROOT\.parent\b|/\s*["']shared["']|["']shared["']\s*/""")


# Files that spell such a path only to look for it elsewhere (test_install.py searches the installed
# package for it), and this file.
_SEARCHERS = {"test_install.py", "test_fresh_clone.py"}


def _test_sources() -> list[Path]:
    return [p for p in TESTS.rglob("*.py") if "node_modules" not in p.parts and p.name not in _SEARCHERS]


def test_no_test_names_a_folder_beside_the_repository() -> None:
    offenders = [str(p.relative_to(TESTS)) for p in _test_sources() if _OUTSIDE.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_pattern_catches_the_old_spellings() -> None:
    notes = "sha" + "red"  # spelt in two parts so this file does not itself name the folder
    assert _OUTSIDE.search(f'SHARED = ROOT.parent / "{notes}"')
    assert _OUTSIDE.search(f"json.load(open('../{notes}/contexts/index.json'))")
    assert not _OUTSIDE.search('ROOT / "tests" / "vectors" / "contexts"')


def test_reference_contexts_are_kept_with_their_provenance() -> None:
    folder = TESTS / "vectors" / "contexts"
    assert (folder / "SOURCE.md").is_file()
    assert (folder / "index.json").is_file()
