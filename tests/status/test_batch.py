"""The batch engine in-process: result files, Ctrl-C and resume, unreadable input."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kaga_vc.errors import MALFORMED_VALUE_ERROR, PARSING_ERROR, InputError, KagaError
from kaga_vc.issuer.batch import Issued, run_batch
from kaga_vc.issuer.records import IssuanceStore

ROWS = [{"subject": f"did:key:z{n}", "ok": "no" if n in (2, 5) else "yes"} for n in range(1, 9)]


class Counter:
    def __init__(self, interrupt_at: int | None = None) -> None:
        self.calls = 0
        self.interrupt_at = interrupt_at

    def __call__(self, row: Mapping[str, str]) -> Issued:
        self.calls += 1
        if self.interrupt_at is not None and self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        if row["ok"] != "yes":
            raise InputError(MALFORMED_VALUE_ERROR, "row says no")
        n = row["subject"].removeprefix("did:key:z")
        return Issued(f"urn:test:{n}", "KycCredential", row["subject"], "L", int(n), "vc+jwt", "staff",
                      datetime.now(UTC), f"token-{n}", "jwt")


def test_ctrl_c_then_resume(store: IssuanceStore, tmp_path: Path) -> None:
    out, result = tmp_path / "out", tmp_path / "result.csv"
    first = Counter(interrupt_at=5)
    with pytest.raises(KeyboardInterrupt):
        run_batch(ROWS, first, result, store, out_dir=out, progress=False)
    assert store.count() == 3  # rows 1, 3, 4 (row 2 rejected, row 5 interrupted)
    partial = list(csv.DictReader(result.open()))
    assert [r["row"] for r in partial] == ["1", "2", "3", "4"]

    again = Counter()
    summary = run_batch(ROWS, again, result, store, out_dir=out, progress=False)
    assert (summary.issued, summary.already_issued, summary.rejected, summary.total) == (3, 3, 2, 8)
    assert summary.complete and summary.rejected_codes == {MALFORMED_VALUE_ERROR: 2}
    assert again.calls == 5  # rows 2 and 5 to 8: nothing issued twice
    assert store.count() == 6
    lines = list(csv.DictReader(result.open()))
    assert [(r["row"], r["outcome"]) for r in lines] == [
        ("1", "issued"), ("2", "rejected"), ("3", "issued"), ("4", "issued"), ("5", "rejected"), ("6", "issued"),
        ("7", "issued"), ("8", "issued")]
    assert sorted(p.name for p in out.iterdir() if p.name != ".kaga-batch") == [
        f"row-{n:06d}.jwt" for n in (1, 3, 4, 6, 7, 8)]
    assert (out / "row-000003.jwt").read_text() == "token-3"
    assert (out / "row-000003.jwt").stat().st_mode & 0o777 == 0o600  # personal data: the operator's only

    third = Counter()
    assert run_batch(ROWS, third, result, store, out_dir=out, progress=False).already_issued == 6
    assert third.calls == 2  # only the rejected rows are looked at again


def test_an_edited_row_is_a_new_row(store: IssuanceStore, tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    run_batch(rows, Counter(), tmp_path / "r.jsonl", store, batch_id="fixed", progress=False)
    rows[1]["ok"] = "yes"  # row 2 corrected
    summary = run_batch(rows, Counter(), tmp_path / "r.jsonl", store, batch_id="fixed", progress=False)
    assert (summary.issued, summary.already_issued, summary.rejected) == (1, 6, 1)


def test_unreadable_or_malformed_csv(tmp_path: Path, store: IssuanceStore) -> None:
    with pytest.raises(KagaError) as caught:
        run_batch(tmp_path / "missing.csv", Counter(), tmp_path / "r.csv", store, progress=False)
    assert caught.value.code == PARSING_ERROR
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"subject,ok\n\xff\xfe,yes\n")
    with pytest.raises(KagaError) as caught:
        run_batch(bad, Counter(), tmp_path / "r.csv", store, progress=False)
    assert caught.value.code == PARSING_ERROR
    assert store.count() == 0


def test_csv_with_bom_and_japanese_text(tmp_path: Path, store: IssuanceStore) -> None:
    path = tmp_path / "residents.csv"
    path.write_text("\ufeffsubject,ok\ndid:key:z1,yes\ndid:key:z2,yes\n", encoding="utf-8")
    summary = run_batch(path, Counter(), tmp_path / "r.csv", store, progress=False)
    assert summary.issued == 2


def test_the_result_file_never_carries_a_spreadsheet_formula(tmp_path: Path, store: IssuanceStore) -> None:
    # a detail can echo what the CSV held; opened in a spreadsheet it must stay text
    payloads = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "＝1+1",
                "\tx", "plain"]

    def reject(row: Mapping[str, str]) -> Issued:
        raise InputError(MALFORMED_VALUE_ERROR, row["note"])

    rows = [{"subject": f"did:key:z{n}", "note": payload} for n, payload in enumerate(payloads)]
    run_batch(rows, reject, tmp_path / "r.csv", store, progress=False)
    with (tmp_path / "r.csv").open(encoding="utf-8", newline="") as handle:
        details = [line["detail"] for line in csv.DictReader(handle)]
    assert details[:-1] == ["'" + p for p in payloads[:-1]] and details[-1] == "plain"
