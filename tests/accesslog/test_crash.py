"""SIGKILL during appends, at random points, again and again: no committed entry lost, the chain verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from kaga_vc.accesslog import AccessLog
from kaga_vc.keys import KeyType, PrivateKey

from .conftest import LOG_KEY

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 6


def _kill_during_appends(url: str, verifier: PrivateKey, subject: PrivateKey, rng: random.Random) -> dict[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.accesslog._appender", url, verifier.to_bytes().hex(), subject.to_bytes().hex()],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    committed: dict[int, str] = {}
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        deadline = time.monotonic() + rng.uniform(0.05, 0.6)
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seq, digest = line.split()
            committed[int(seq)] = digest
        os.kill(proc.pid, signal.SIGKILL)  # mid-append, most likely: the loop never pauses
        proc.wait(timeout=30)
        for line in proc.stdout:  # lines written before the kill
            if line.strip():
                seq, digest = line.split()
                committed[int(seq)] = digest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return committed


def _crash_rounds(url: str, rounds: int) -> None:
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    verifier, subject = PrivateKey.generate(KeyType.ED25519), PrivateKey.generate(KeyType.ED25519)
    seen: dict[int, str] = {}
    for _ in range(rounds):
        seen.update(_kill_during_appends(url, verifier, subject, rng))
        with AccessLog.open(url, log_key=LOG_KEY) as log:
            report = log.verify()
            assert report.ok, report.findings
            stored = {e.seq: e.hash for e in log.entries()}
            head_seq, head_hash = log.head()
        assert all(stored.get(seq) == digest for seq, digest in seen.items()), "a committed entry was lost"
        assert head_seq == len(stored) and (not stored or stored[head_seq - 1] == head_hash)
    assert len(seen) > rounds  # the appender did write between kills


def test_sigkill_sqlite(tmp_path: Path) -> None:
    _crash_rounds(str(tmp_path / "crash.db"), ROUNDS)


def test_sigkill_postgresql(postgres_database: str) -> None:
    _crash_rounds(postgres_database, 3)

