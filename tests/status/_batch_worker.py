"""A batch issuance process for the crash test: ``python -m tests.status._batch_worker CSV OUT HOME RECORDS [WORKERS GROUP LOCK_TIMEOUT]``.

It runs the real city issuer (``kaga_vc.issuer.run_csv_batch``: SD-JWT VC credentials with status
entries, signed with the city's keys from ``HOME``) over the batch engine and the records at
``RECORDS`` (optional: WORKERS signing processes, GROUP rows per commit, LOCK_TIMEOUT seconds). After each
row's commit it prints the row number, so the test can kill it at a chosen point.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kaga_vc.issuer.service import open_city_issuer, run_csv_batch

PASSWORD = "correct horse battery staple"


def main(csv_path: str, out_dir: str, home: str, records_url: str, workers: str = "1", group: str = "7",
         lock_timeout: str = "10") -> None:
    hold = os.environ.get("BATCH_WORKER_HOLD")  # a test's file: wait after the first row until it exists

    def on_row(number: int, outcome: str) -> None:
        nonlocal hold
        sys.stdout.write(f"{number} {outcome}\n")
        sys.stdout.flush()
        if hold:
            deadline = time.monotonic() + 60
            while not Path(hold).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            hold = None

    with open_city_issuer(PASSWORD, home=home, records_url=records_url) as issuer:
        summary = run_csv_batch(issuer, csv_path, out_dir, staff="batch-test", progress=False, on_row=on_row,
                                workers=int(workers), group_size=int(group), lock_timeout=float(lock_timeout))
    sys.stdout.write(f"done {summary['issued']} {summary['alreadyIssued']} {summary['rejected']}\n")


if __name__ == "__main__":
    main(*sys.argv[1:8])
