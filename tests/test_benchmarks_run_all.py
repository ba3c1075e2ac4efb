"""benchmarks/run_all.py's machinery (not speed): a ``--quick`` run of the JOSE measures writes the results
file and ends with the machine-readable lines run_all promises, in their format."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(ratio [a-z0-9-]+/[a-z0-9-]+ \d+\.\d{3}|rate [a-z0-9-]+ \d+)$")


def test_run_all_quick_prints_machine_readable_lines(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    readme = (ROOT / "README.md").read_bytes()
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--only", "jose", "--results", str(results)],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    names = [line.rsplit(" ", 1)[0] for line in lines]
    assert names == ["ratio vc-jwt-verify/didkit", "ratio jwt-vc11-verify/didkit",
                     "ratio jwt-vc11-es256k-verify/secp256k1-recover", "ratio sd-jwt-kb-verify/sd-jwt"]
    assert all(float(line.rsplit(" ", 1)[1]) > 0 for line in lines)
    text = results.read_text(encoding="utf-8")
    assert "Quick smoke run" in text and "## jose_bench.py" in text
    assert all(line in text for line in lines)
    assert (ROOT / "README.md").read_bytes() == readme  # a quick or partial run leaves the README's table alone
