"""Anonymised open data: k-anonymous aggregate counts of the access log, as CSV and JSON (and a chart and
an HTML page drawn from the same published cells, ``_opendata_view``).

A cell is one combination of verifier category, credential type, purpose, result and time bucket
(a day, an ISO week or a month — never an exact time). A cell is published only when at least ``k``
*distinct subjects* are behind it (counted with the keyed subject index, so one resident presenting
ten times is one person, not ten); smaller cells are suppressed entirely, and only their number is
reported. No DID, no verifier identity, no location, no claim name, no timestamp leaves the log.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from ..errors import MALFORMED_VALUE_ERROR, InputError
from . import _store as st
from ._entry import parse_record

Bucket = Literal["day", "week", "month"]
COLUMNS = ("period", "verifier_category", "credential_type", "purpose", "result", "count")
UNCATEGORISED = "uncategorised"


@dataclass(frozen=True, slots=True)
class OpenDataExport:
    """The published cells and what was held back."""

    k: int
    bucket: Bucket
    cells: tuple[dict[str, Any], ...]
    suppressed_cells: int
    files: tuple[Path, ...]

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "bucket": self.bucket, "cells": len(self.cells),
                "suppressedCells": self.suppressed_cells, "files": [str(p) for p in self.files]}


def period_of(time_text: str, bucket: Bucket) -> str:
    moment = datetime.strptime(time_text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if bucket == "day":
        return moment.strftime("%Y-%m-%d")
    if bucket == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return moment.strftime("%Y-%m")


def export_anonymized(log: Any, out_dir: str | Path, *, k: int = 5, bucket: Bucket = "month",
                      now: datetime | None = None) -> OpenDataExport:
    """Write ``access-counts.csv``, ``.json``, ``.png``, ``.svg`` and ``index.html`` to ``out_dir``; cells under
    ``k`` subjects suppressed.

    Entries that name no subject (a presentation refused before its holder was known) count together
    as a single subject, so they can never make a cell look larger than it is.
    """
    if not isinstance(k, int) or k < 2:
        raise InputError(MALFORMED_VALUE_ERROR, "k must be an integer of at least 2")
    if bucket not in ("day", "week", "month"):
        raise InputError(MALFORMED_VALUE_ERROR, "bucket is day, week or month")
    counts: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    subjects: dict[tuple[str, str, str, str, str], set[str]] = defaultdict(set)
    with log.engine.connect() as conn:
        for index, text in conn.execute(select(st.entries.c.subject_index, st.entries.c.record)):
            body = parse_record(text).get("entry")
            if not isinstance(body, dict) or not isinstance(body.get("time"), str):
                continue
            try:
                period = period_of(body["time"], bucket)
            except ValueError:
                continue
            types = body.get("credentialTypes") or ["none"]
            for ctype in types:
                cell = (period, str(body.get("verifierCategory") or UNCATEGORISED), str(ctype),
                        str(body.get("purpose")), str(body.get("result")))
                counts[cell] += 1
                subjects[cell].add(index or "unknown")
    published = []
    suppressed = 0
    for cell in sorted(counts):
        if len(subjects[cell]) < k:
            suppressed += 1
            continue
        published.append(dict(zip(COLUMNS, (*cell, counts[cell]), strict=True)))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out / "access-counts.csv", out / "access-counts.json"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(published)
    generated = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    document = {
        "title": "Kaga access log: verifications by category, credential type, purpose and period",
        "k": k, "bucket": bucket, "generated": generated,
        "note": f"a cell is published only when at least {k} distinct residents are behind it",
        "suppressedCells": suppressed, "cells": published,
    }
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    from ._opendata_view import write_chart, write_page  # matplotlib loads only for an export

    png, svg = write_chart(published, out, k=k, bucket=bucket)
    page = write_page(document, out, svg.name)
    return OpenDataExport(k, bucket, tuple(published), suppressed, (csv_path, json_path, png, svg, page))
