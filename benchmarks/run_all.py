"""Every benchmark with its peers, in one run: ``python benchmarks/run_all.py [--quick] [--only NAME,...]``.

Runs, each in its own process (didkit's runtime and Node stay out of each other's way):

* ``jose_bench.py``: vc+jwt and VC 1.1 JWT EdDSA verify against didkit 0.3.3 (Rust); VC 1.1 JWT
  ES256K did:ethr verify against a bare libsecp256k1 recovery; one SD-JWT VC presentation with a
  KB-JWT verified by kaga_vc and by the ``sd-jwt`` reference package;
* ``di_bench.py``: eddsa-rdfc-2022 verify against Digital Bazaar's ``vc.verifyCredential`` (Node);
* ``verify_cold_start.py``: ``kaga-vc verify RESPONSE --request --bundle`` as a fresh process against
  did-jwt-vc verifying a VC 1.1 JWT presentation in a fresh Node process, ``kaga-vc --help``, and the
  ``python -X importtime`` table of the cold verify;
* ``issuance_bench.py``: the whole batch pipeline (``run_csv_batch``) for SD-JWT and Data Integrity
  against didkit's bare EdDSA JWT signing.

The Node peers (``@digitalbazaar/vc``, ``did-jwt-vc``) are installed into ``benchmarks/peers`` from its
package-lock with ``npm ci`` (once; again when the lock changes), as the interop tests do.

Writes ``benchmarks/RESULTS.md`` (or ``--results PATH``), refreshes the README's performance table
between its markers (full runs written to the default results file only), and ends with one
machine-readable line per measure: ``ratio NAME X`` (kaga_vc's median divided by the peer's, so below 1
is faster than the peer) and ``rate NAME N`` (credentials per second, whole pipeline).
``--quick`` runs a few iterations of each: a smoke test of the machinery, not a measurement.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / "peers"
README = ROOT / "README.md"
BEGIN, END = "<!-- performance-table:begin (benchmarks/run_all.py) -->", "<!-- performance-table:end -->"


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    node: bool


BENCHES = (
    Bench("jose", "jose_bench.py", ("--n", "500"), ("--n", "5"), node=False),
    Bench("di", "di_bench.py", ("--n", "200"), ("--n", "3"), node=True),
    Bench("cold", "verify_cold_start.py", ("--n", "10"), ("--n", "1"), node=True),
    Bench("issuance", "issuance_bench.py", ("--n", "100", "--batch", "4000"), ("--n", "3", "--batch", "20"),
          node=False),
)


@dataclass(frozen=True)
class Measure:
    """One machine-readable line: what is divided by what, and the issue's goal for it."""

    line: str
    bench: str
    ours: str
    peer: str | None
    goal: str


MEASURES = (
    Measure("ratio vc-jwt-verify/didkit", "jose", "vc+jwt EdDSA verify", "didkit JWT VC EdDSA verify", "≤ 0.7"),
    Measure("ratio jwt-vc11-verify/didkit", "jose", "jwt-vc11 EdDSA verify", "didkit JWT VC EdDSA verify", "≤ 0.7"),
    Measure("ratio jwt-vc11-es256k-verify/secp256k1-recover", "jose", "jwt-vc11 ES256K did:ethr verify",
            "bare secp256k1 recover (libsecp256k1)", "≤ 2"),
    Measure("ratio sd-jwt-kb-verify/sd-jwt", "jose", "sd-jwt+kb verify ES256/ES256",
            "sd-jwt package verify ES256/ES256", "≤ 0.5"),
    Measure("ratio data-integrity-verify/digital-bazaar", "di", "kaga_vc verify  eddsa-rdfc-2022",
            "digital-bazaar verify eddsa-rdfc-2022 (Node)", "≤ 0.5"),
    Measure("ratio cold-verify/did-jwt-vc", "cold", "kaga-vc verify cold", "did-jwt-vc verify-vp cold", "≤ 0.5"),
    Measure("ratio issuance-sd-jwt/didkit-jwt-signing", "issuance", "rate issuance-sd-jwt",
            "rate didkit-jwt-signing", "≥ 0.7"),
    Measure("rate issuance-sd-jwt", "issuance", "rate issuance-sd-jwt", None, "≥ 1100"),
    Measure("rate issuance-data-integrity", "issuance", "rate issuance-data-integrity", None,
            "≥ 2× didkit LDP"),
)


def ensure_node_peers(log: Callable[[str], None]) -> bool:
    """``npm ci`` in benchmarks/peers unless its node_modules matches the lock; False without Node."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        log("node / npm not found: the Node peers are skipped")
        return False
    lock = (PEERS / "package-lock.json").read_bytes()
    stamp = PEERS / "node_modules" / ".kaga-lock-sha256"
    digest = hashlib.sha256(lock).hexdigest()
    if stamp.is_file() and stamp.read_text() == digest:
        return True
    log("installing the Node peers (npm ci in benchmarks/peers)")
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEERS,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log(f"npm ci failed, the Node peers are skipped: {done.stderr[-400:]}")
        return False
    stamp.write_text(digest)
    return True


def run_bench(bench: Bench, quick: bool) -> tuple[str, dict[str, float]]:
    """The benchmark's printed report and its ``RESULT`` medians (``rate`` lines folded in)."""
    args = bench.quick if quick else bench.full
    done = subprocess.run([sys.executable, str(HERE / bench.script), *args, "--emit"], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{bench.script} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    report, values = [], {}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            values.update({k: float(v) for k, v in json.loads(line[len("RESULT "):]).items()})
        else:
            report.append(line)
        if line.startswith("rate "):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return "\n".join(report).rstrip(), values


def measured(measure: Measure, values: dict[str, dict[str, float]]) -> float | None:
    got = values.get(measure.bench, {})
    if measure.ours not in got or (measure.peer is not None and measure.peer not in got):
        return None
    return got[measure.ours] / got[measure.peer] if measure.peer is not None else got[measure.ours]


def fmt(measure: Measure, value: float) -> str:
    return f"{value:.0f}" if measure.line.startswith("rate ") else f"{value:.3f}"


def summary_table(values: dict[str, dict[str, float]]) -> str:
    rows = ["| measure | kaga_vc | peer, same run | result | goal |", "| --- | --- | --- | --- | --- |"]
    for m in MEASURES:
        value = measured(m, values)
        if value is None:
            continue
        got = values[m.bench]
        if m.line.startswith("rate "):
            ours, peer = f"{got[m.ours]:.0f} credentials/s", "–"
        elif m.bench == "issuance":
            ours, peer = f"{got[m.ours]:.0f} credentials/s", f"didkit EdDSA JWT signing {got[m.peer or '']:.0f}/s"
        else:
            scale, unit = (1e3, "ms") if got[m.ours] > 0.01 else (1e6, "µs")
            ours, peer = f"{got[m.ours] * scale:.1f} {unit}", f"{m.peer} {got[m.peer or ''] * scale:.1f} {unit}"
        rows.append(f"| `{m.line}` | {ours} | {peer} | **{fmt(m, value)}** | {m.goal} |")
    return "\n".join(rows)


def cold_table(values: dict[str, float]) -> str:
    rows = ["| cold process | p50 |", "| --- | --- |"]
    for name in ("python -c pass", "kaga-vc --help cold", "kaga-vc verify cold", "kaga-vc verify cold, logged",
                 "did-jwt-vc verify-vp cold"):
        if name in values:
            rows.append(f"| {name} | {values[name] * 1000:.0f} ms |")
    imports = sorted(((k[len("import "):], v) for k, v in values.items() if k.startswith("import ")),
                     key=lambda kv: -kv[1])
    if imports:
        rows += ["", "| imported by the cold verify (`python -X importtime`, self time) | ms |", "| --- | --- |"]
        rows += [f"| {name} | {v * 1000:.1f} |" for name, v in imports[:12]]
        rows.append(f"| all imports | {values.get('imports total', 0.0) * 1000:.0f} |")
    return "\n".join(rows)


def update_readme(table: str) -> bool:
    text = README.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return False
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}", encoding="utf-8")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few iterations each: checks the machinery only")
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join(b.name for b in BENCHES))
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md", help="where to write the report")
    args = parser.parse_args()
    chosen = [b for b in BENCHES if not args.only or b.name in args.only.split(",")]
    if not chosen:
        parser.error(f"--only names none of {', '.join(b.name for b in BENCHES)}")

    def log(message: str) -> None:
        print(f"[run_all] {message}", file=sys.stderr, flush=True)

    if any(b.node for b in chosen):
        ensure_node_peers(log)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    reports: dict[str, str] = {}
    values: dict[str, dict[str, float]] = {}
    for bench in chosen:
        log(f"{bench.script} {' '.join(bench.quick if args.quick else bench.full)}")
        begin = time.perf_counter()
        reports[bench.name], values[bench.name] = run_bench(bench, args.quick)
        log(f"{bench.script} done in {time.perf_counter() - begin:.0f} s")

    lines = [f"{m.line} {fmt(m, v)}" for m in MEASURES if (v := measured(m, values)) is not None]
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    table = summary_table(values)
    doc = [
        "# Benchmark results (written by `python benchmarks/run_all.py`)",
        "",
        (f"{'Quick smoke run (not a measurement)' if args.quick else 'One run'}, {started}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}. Ratios are kaga_vc's median over the peer's in the same run "
        "(below 1: faster than the peer); on a shared machine absolute times drift, ratios hold better."),
        "",
        table,
        "",
    ]
    if "cold" in values:
        doc += ["## Cold start", "", cold_table(values["cold"]), ""]
    for bench in chosen:
        doc += [f"## {bench.script}", "", "```", reports[bench.name], "```", ""]
    doc += ["## Machine-readable", "", "```", *lines, "```", ""]
    args.results.write_text("\n".join(doc), encoding="utf-8")
    log(f"wrote {args.results}")
    if not args.quick and not args.only and args.results == HERE / "RESULTS.md":
        readme = table + ("\n\n" + cold_table(values["cold"]) if "cold" in values else "")
        readme = f"Measured by `python benchmarks/run_all.py`, {started} (see benchmarks/RESULTS.md).\n\n{readme}"
        if update_readme(readme):
            log("refreshed the README's performance table")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
