"""A batch issuance process for the crash test: ``python -m tests.status._batch_worker CSV OUT HOME RECORDS``.

It runs the real city issuer (``kaga_vc.issuer.run_csv_batch``: SD-JWT VC credentials with status
entries, signed with the city's keys from ``HOME``) over the batch engine and the records at
``RECORDS``. After each row it prints the row number, so the test can kill it at a chosen point.
"""

from __future__ import annotations

import sys

from kaga_vc.issuer.service import open_city_issuer, run_csv_batch

PASSWORD = "correct horse battery staple"


def main(csv_path: str, out_dir: str, home: str, records_url: str) -> None:
    def on_row(number: int, outcome: str) -> None:
        sys.stdout.write(f"{number} {outcome}\n")
        sys.stdout.flush()

    with open_city_issuer(PASSWORD, home=home, records_url=records_url) as issuer:
        summary = run_csv_batch(issuer, csv_path, out_dir, staff="batch-test", progress=False, on_row=on_row)
    sys.stdout.write(f"done {summary['issued']} {summary['alreadyIssued']} {summary['rejected']}\n")


if __name__ == "__main__":
    main(*sys.argv[1:5])
