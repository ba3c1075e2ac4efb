"""Anonymised open data: k-anonymous aggregate counts of the access log, as CSV and JSON (and a chart and
an HTML page drawn from the same published cells, ``_opendata_view``).

A cell is one combination of verifier category, credential type, purpose, result and time bucket
(a day, an ISO week or a month — never an exact time). A cell is published only when at least ``k``
*distinct subjects* are behind it (counted with the keyed subject index, so one resident presenting
ten times is one person, not ten); smaller cells are suppressed entirely, and only their number is
reported. No DID, no verifier identity, no location, no claim name, no timestamp leaves the log.

**A view over several logs, never a log.** A log is one verifier's, so the city's export across
categories reads the logs of several verifiers (``export_anonymized([ryokan_log, clinic_log], …)``)
and writes nothing into any of them. Subjects are counted by keyed index, and the index of one
resident differs between logs with different keys: a cell's subjects are then counted as the largest
number of distinct residents behind it in any one key's logs — never more than there are, so a cell
is only published when one log alone has ``k`` residents behind it (logs sharing a key are counted
together, exactly).

**One base granularity.** Suppression is decided once, on day cells, whatever bucket is asked for:
a week or a month cell is the sum of the *published* day cells inside it (a cell under ``k`` is left
out of every granularity, never just of the one it is small in). So comparing the weekly and the
monthly export — or two exports made on different days — recovers nothing the daily export does not
already publish: every figure of every export is a sum of day cells with at least ``k`` residents, and
a week or month cell has at least ``k`` residents because each of its day cells has. The price is that
coarse counts leave out the small day cells (``suppressedCells`` counts the day cells held back).

**Every CSV cell is escaped** against formula injection (credential types and purposes can come from
refused, attacker-made presentations): a cell starting — after Unicode compatibility folding, so
full-width ＝ ＋ － ＠ count — with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed is
prefixed with ``'`` (OWASP's "CSV injection" rule), and control characters are dropped.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
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
BASE_BUCKET: Bucket = "day"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def escape_csv_cell(value: Any) -> Any:
    """A cell a spreadsheet will show as text, never run as a formula (numbers pass unchanged)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    if unicodedata.normalize("NFKC", text[:1]).startswith(_FORMULA_STARTS) or text[:1] in _FORMULA_STARTS:
        text = "'" + text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch == " ")


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
    ``k`` subjects suppressed. ``log`` is one :class:`AccessLog` or a sequence of them (several verifiers'
    logs: read, never written; the same log twice is refused).

    Entries that name no subject (a presentation refused before its holder was known) count together
    as a single subject, so they can never make a cell look larger than it is.
    """
    if not isinstance(k, int) or k < 2:
        raise InputError(MALFORMED_VALUE_ERROR, "k must be an integer of at least 2")
    if bucket not in ("day", "week", "month"):
        raise InputError(MALFORMED_VALUE_ERROR, "bucket is day, week or month")
    logs = list(log) if isinstance(log, Sequence) else [log]
    if not logs or len({one.log_id for one in logs}) != len(logs):
        raise InputError(MALFORMED_VALUE_ERROR, "export needs at least one log, each log once")
    counts: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    # per cell, per subject-index key: the indexes behind it (comparable only under one key)
    subjects: dict[tuple[str, str, str, str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for one in logs:
        _count(one, counts, subjects)
    coarse: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    suppressed = 0
    for cell in sorted(counts):
        if max(len(indexes) for indexes in subjects[cell].values()) < k:  # decided on the day cell, for every bucket
            suppressed += 1
            continue
        coarse[(_coarsen(cell[0], bucket), *cell[1:])] += counts[cell]
    return _write(out_dir, k, bucket, coarse, suppressed, now)


def _count(log: Any, counts: dict[tuple[str, str, str, str, str], int],
           subjects: dict[tuple[str, str, str, str, str], dict[str, set[str]]]) -> None:
    """Add one log's entries to the day cells (its subjects under its key's check value, else its id)."""
    with log.engine.connect() as conn:
        meta = dict(conn.execute(select(st.log_meta.c.name, st.log_meta.c.value)).all())
        group = str(meta.get("key_check") or meta.get("log_id") or id(log))
        for index, text in conn.execute(select(st.entries.c.subject_index, st.entries.c.record)):
            body = parse_record(text).get("entry")
            if not isinstance(body, dict) or not isinstance(body.get("time"), str):
                continue
            try:
                day = period_of(body["time"], BASE_BUCKET)
            except ValueError:
                continue
            types = body.get("credentialTypes") or ["none"]
            for ctype in types:
                cell = (day, str(body.get("verifierCategory") or UNCATEGORISED), str(ctype),
                        str(body.get("purpose")), str(body.get("result")))
                counts[cell] += 1
                subjects[cell][group].add(index or "unknown")


def _write(out_dir: str | Path, k: int, bucket: Bucket, coarse: dict[tuple[str, str, str, str, str], int],
           suppressed: int, now: datetime | None) -> OpenDataExport:
    published = [dict(zip(COLUMNS, (*cell, coarse[cell]), strict=True)) for cell in sorted(coarse)]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out / "access-counts.csv", out / "access-counts.json"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({name: escape_csv_cell(value) for name, value in row.items()} for row in published)
    generated = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    document = {
        "title": "Kaga access log: verifications by category, credential type, purpose and period",
        "k": k, "bucket": bucket, "generated": generated,
        "note": f"a cell is published only when at least {k} distinct residents are behind it; suppression is "
                "decided on day cells and week or month cells are sums of the published day cells",
        "suppressedCells": suppressed, "cells": published,
    }
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    from ._opendata_view import write_chart, write_page  # matplotlib loads only for an export

    png, svg = write_chart(published, out, k=k, bucket=bucket)
    page = write_page(document, out, svg.name)
    return OpenDataExport(k, bucket, tuple(published), suppressed, (csv_path, json_path, png, svg, page))


def _coarsen(day: str, bucket: Bucket) -> str:
    """The ``bucket`` period of a base (day) period ``YYYY-MM-DD``."""
    return day if bucket == "day" else period_of(day + "T00:00:00Z", bucket)
