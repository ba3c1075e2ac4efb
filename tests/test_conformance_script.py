"""scripts/conformance.sh: well-formed, and refuses to run without its harness (the suites themselves
are run by hand or in a conformance job: they need the W3C harness, which is not part of the repository)."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "conformance.sh"


def test_script_parses() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)], check=False).returncode == 0


def test_usage_without_arguments() -> None:
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "usage:" in done.stderr


def test_refuses_a_folder_that_is_not_a_harness(tmp_path: Path) -> None:
    done = subprocess.run(["bash", str(SCRIPT), str(tmp_path), "vc2.0"], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "run.sh not found" in done.stderr


def test_no_machine_specific_paths() -> None:
    assert "/work/" not in SCRIPT.read_text("utf-8")
