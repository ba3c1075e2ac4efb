"""Open data: k-anonymous counts, no identifiers, no exact times."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kaga_vc.accesslog import AccessLog, export_anonymized
from kaga_vc.errors import InputError

from .conftest import Party, entry, make_party

START = datetime(2026, 10, 1, 9, 15, 42, tzinfo=UTC)


@pytest.fixture
def population(sqlite_log: AccessLog, ryokan: Party, clinic: Party) -> tuple[AccessLog, list[Party]]:
    residents = [make_party() for _ in range(8)]
    for i, resident in enumerate(residents):
        for visit in range(3):  # many visits by the same people: they must not count as more people
            sqlite_log.record(entry(ryokan, resident, time=START + timedelta(days=i, hours=visit)))
    # a rare combination: two residents at the clinic, refused once
    for resident in residents[:2]:
        sqlite_log.record(entry(clinic, resident, purpose="consultation", verifier_category="healthcare",
                                credential_types=["KagaKYCCredential"], time=START + timedelta(days=3)),
                          signer=clinic.signer)
    sqlite_log.record(entry(ryokan, residents[0], result="refused", reason="kaga:credential-revoked",
                            time=START + timedelta(days=40)))
    return sqlite_log, residents


@pytest.mark.parametrize("k", [2, 3, 5, 9])
def test_no_published_cell_has_fewer_than_k_subjects(population: tuple[AccessLog, list[Party]], tmp_path: Path,
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


def test_the_export_holds_no_identifier_nor_exact_time(population: tuple[AccessLog, list[Party]], tmp_path: Path,
                                                       ryokan: Party, clinic: Party) -> None:
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
        assert "subjectIndex" not in text and log.log_id not in text
        for value in json.loads((out / "access-counts.json").read_text())["cells"]:
            assert set(value) == {"period", "verifier_category", "credential_type", "purpose", "result", "count"}


def test_buckets(population: tuple[AccessLog, list[Party]], tmp_path: Path) -> None:
    log, _ = population
    periods = {c["period"] for c in export_anonymized(log, tmp_path / "w", k=2, bucket="week").cells}
    assert periods and all(re.fullmatch(r"\d{4}-W\d{2}", p) for p in periods)


@pytest.mark.parametrize("k", [0, 1, -3])
def test_k_below_two_is_refused(sqlite_log: AccessLog, tmp_path: Path, k: int) -> None:
    with pytest.raises(InputError):
        export_anonymized(sqlite_log, tmp_path, k=k)
