"""Open data: k-anonymous counts, no identifiers, no exact times."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kaga_vc.accesslog import AccessLog, export_anonymized
from kaga_vc.errors import MALFORMED_VALUE_ERROR, InputError

from .conftest import LOG_KEY, Party, entry, make_party

START = datetime(2026, 10, 1, 9, 15, 42, tzinfo=UTC)


CLINIC_KEY = bytes(range(100, 132))  # another verifier, another log, its own key


@pytest.fixture
def clinic_log(tmp_path: Path, clinic: Party) -> Iterator[AccessLog]:
    log = AccessLog.open(str(tmp_path / "clinic.db"), log_key=CLINIC_KEY, signer=clinic.signer)
    yield log
    log.close()


@pytest.fixture
def population(sqlite_log: AccessLog, clinic_log: AccessLog, ryokan: Party,
               clinic: Party) -> tuple[list[AccessLog], list[Party]]:
    """The ryokan's log and the clinic's: a log is one verifier's, the export reads both."""
    residents = [make_party() for _ in range(8)]
    for i, resident in enumerate(residents):
        for visit in range(3):  # many visits by the same people: they must not count as more people
            sqlite_log.record(entry(ryokan, resident, time=START + timedelta(days=visit, hours=i)))
    # a rare combination: two residents at the clinic, refused once
    for resident in residents[:2]:
        clinic_log.record(entry(clinic, resident, purpose="consultation", verifier_category="healthcare",
                                credential_types=["KagaKYCCredential"], time=START + timedelta(days=3)))
    sqlite_log.record(entry(ryokan, residents[0], result="refused", reason="kaga:credential-revoked",
                            time=START + timedelta(days=40)))
    return [sqlite_log, clinic_log], residents


@pytest.mark.parametrize("k", [2, 3, 5, 9])
def test_no_published_cell_has_fewer_than_k_subjects(population: tuple[list[AccessLog], list[Party]], tmp_path: Path,
                                                     k: int) -> None:
    log, _ = population
    result = export_anonymized(log, tmp_path / "out", k=k, bucket="month")
    rows = list(csv.DictReader((tmp_path / "out" / "access-counts.csv").open(encoding="utf-8")))
    document = json.loads((tmp_path / "out" / "access-counts.json").read_text(encoding="utf-8"))
    assert len(rows) == len(document["cells"]) == len(result.cells)
    assert document["k"] == k and document["suppressedCells"] == result.suppressed_cells
    lodging = [r for r in rows if r["verifier_category"] == "lodging" and r["result"] == "accepted"]
    if k <= 8:
        # 8 residents, 24 entries: published with the entry count
        assert lodging == [{"period": "2026-10", "verifier_category": "lodging",
                            "credential_type": "KagaResidentCredential", "purpose": "lodging-check-in",
                            "result": "accepted", "count": "24"}]
    else:
        assert lodging == []
    clinic_rows = [r for r in rows if r["verifier_category"] == "healthcare"]
    assert (clinic_rows != []) == (k <= 2)
    assert not [r for r in rows if r["result"] == "refused"]  # one resident: always suppressed (k >= 2)
    assert result.suppressed_cells >= 1


def test_the_export_holds_no_identifier_nor_exact_time(population: tuple[list[AccessLog], list[Party]],
                                                       tmp_path: Path, ryokan: Party, clinic: Party) -> None:
    log, residents = population
    for bucket in ("day", "week", "month"):
        out = tmp_path / bucket
        export_anonymized(log, out, k=2, bucket=bucket)  # type: ignore[arg-type]
        text = "".join(p.read_text(encoding="utf-8") for p in out.iterdir() if p.suffix != ".png")  # SVG, HTML too
        assert "did:" not in text
        for party in [*residents, ryokan, clinic]:
            assert party.did.split(":")[-1] not in text
        assert "Yamanaka" not in text and "front desk" not in text  # locations are not published
        assert "ageOver18" not in text and "residentOf" not in text  # nor claim names
        assert not re.search(r"\d{2}:\d{2}", text)  # no time of day
        assert "subjectIndex" not in text and all(one.log_id not in text for one in log)
        for value in json.loads((out / "access-counts.json").read_text())["cells"]:
            assert set(value) == {"period", "verifier_category", "credential_type", "purpose", "result", "count"}


def test_buckets(population: tuple[list[AccessLog], list[Party]], tmp_path: Path) -> None:
    log, _ = population
    periods = {c["period"] for c in export_anonymized(log, tmp_path / "w", k=2, bucket="week").cells}
    assert periods and all(re.fullmatch(r"\d{4}-W\d{2}", p) for p in periods)


@pytest.mark.parametrize("k", [0, 1, -3])
def test_k_below_two_is_refused(sqlite_log: AccessLog, tmp_path: Path, k: int) -> None:
    with pytest.raises(InputError):
        export_anonymized(sqlite_log, tmp_path, k=k)


def _cells(rows: list[dict[str, str]] | tuple[dict[str, object], ...]) -> dict[tuple[str, ...], int]:
    return {(str(r["period"]), str(r["verifier_category"]), str(r["credential_type"]), str(r["purpose"]),
             str(r["result"])): int(str(r["count"])) for r in rows}


def test_weekly_and_monthly_exports_do_not_recover_a_suppressed_cell(sqlite_log: AccessLog, ryokan: Party,
                                                                     tmp_path: Path) -> None:
    """Issue 13: month − (weeks inside it) gave away a suppressed week cell of one resident."""
    crowd = [make_party() for _ in range(3)]
    # 2026-10-05 .. 2026-10-11 is ISO week 41, all inside October: three residents each day of it
    for day in range(7):
        for resident in crowd:
            sqlite_log.record(entry(ryokan, resident, time=datetime(2026, 10, 5 + day, 10, tzinfo=UTC)))
    lonely = make_party()  # one resident alone in week 42 (2026-10-14): must stay invisible
    sqlite_log.record(entry(ryokan, lonely, time=datetime(2026, 10, 14, 10, tzinfo=UTC)))
    weeks = _cells(export_anonymized(sqlite_log, tmp_path / "w", k=3, bucket="week").cells)
    months = _cells(export_anonymized(sqlite_log, tmp_path / "m", k=3, bucket="month").cells)
    days = _cells(export_anonymized(sqlite_log, tmp_path / "d", k=3, bucket="day").cells)
    key = ("lodging", "KagaResidentCredential", "lodging-check-in", "accepted")
    month = months[("2026-10", *key)]
    week_sum = sum(n for cell, n in weeks.items() if cell[1:] == key and cell[0] in ("2026-W41", "2026-W42"))
    day_sum = sum(n for cell, n in days.items() if cell[1:] == key and cell[0].startswith("2026-10"))
    assert month == week_sum == day_sum == 21  # the lonely resident is in none of them
    assert ("2026-W42", *key) not in weeks


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3",
                                  "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "＝HYPERLINK(1)", "＋1", "－1", "＠SUM(1)"])
def test_every_csv_cell_is_escaped(sqlite_log: AccessLog, ryokan: Party, tmp_path: Path, text: str) -> None:
    """Issue 13: credential types from refused presentations reached the CSV as live formulas."""
    residents = [make_party() for _ in range(2)]
    for resident in residents:
        sqlite_log.record(entry(ryokan, resident, credential_types=[text], purpose=text, result="refused",
                                reason="kaga:issuer-not-trusted", time=START))
    export_anonymized(sqlite_log, tmp_path, k=2, bucket="month")
    rows = list(csv.reader((tmp_path / "access-counts.csv").open(encoding="utf-8", newline="")))
    assert len(rows) == 2
    for cell in rows[1]:
        assert not cell[:1] in ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"), cell
        assert "\r" not in cell and "\t" not in cell
    assert rows[1][2].startswith("'")


def test_an_export_across_verifiers_is_a_view_not_a_log(sqlite_log: AccessLog, clinic_log: AccessLog, ryokan: Party,
                                                        clinic: Party, tmp_path: Path) -> None:
    """Issue 12: a log is one verifier's. The export by category reads several verifiers' logs and writes no
    entry into any; a resident counts once per key (never more residents than there are)."""
    a, b, c = make_party(), make_party(), make_party()
    for who in (a, b):
        clinic_log.record(entry(clinic, who, purpose="consultation", verifier_category="healthcare", time=START))
    other_key = tmp_path / "dental.db"
    with AccessLog.open(str(other_key), log_key=bytes(range(50, 82)), signer=ryokan.signer) as dental:
        dental.record(entry(ryokan, c, purpose="consultation", verifier_category="healthcare", time=START))
        dental.record(entry(ryokan, a, purpose="consultation", verifier_category="healthcare", time=START))
        before = [(len(one), one.identity()) for one in (clinic_log, dental)]
        cell = ("2026-10", "healthcare", "KagaResidentCredential", "consultation", "accepted")
        # two logs under different keys: a and b, c and a — the same a cannot be told apart: 2 residents, not 4
        assert cell not in _cells(export_anonymized([clinic_log, dental], tmp_path / "x", k=3).cells)
        assert _cells(export_anonymized([clinic_log, dental], tmp_path / "y", k=2).cells)[cell] == 4
        assert [(len(one), one.identity()) for one in (clinic_log, dental)] == before  # read, not written
        assert clinic_log.verify().ok and dental.verify().ok
        with pytest.raises(InputError) as info:
            export_anonymized([clinic_log, clinic_log], tmp_path / "z", k=2)
        assert info.value.code == MALFORMED_VALUE_ERROR
    # logs under one key: the same resident is one index in both — a, b and c are three
    with AccessLog.open(str(tmp_path / "shared-key.db"), log_key=LOG_KEY, signer=clinic.signer) as second:
        second.record(entry(clinic, c, purpose="consultation", verifier_category="healthcare", time=START))
        second.record(entry(clinic, a, purpose="consultation", verifier_category="healthcare", time=START))
        with AccessLog.open(str(tmp_path / "first-key.db"), log_key=LOG_KEY, signer=clinic.signer) as first:
            for who in (a, b):
                first.record(entry(clinic, who, purpose="consultation", verifier_category="healthcare", time=START))
            assert _cells(export_anonymized([first, second], tmp_path / "s", k=3).cells)[cell] == 4
