"""Batch issuance from a CSV of residents: progress, per-row errors, resumable without double issuance.

How a row is issued exactly once, whatever happens to the process:

1. ``issue_one(row)`` validates the row and signs a credential (it claims its status index itself;
   a claimed index whose credential is never recorded is simply never used).
2. The credential is written to its row's file in ``out_dir`` (temporary file, fsync, rename).
3. One database transaction records the issuance **and** journals the row as done (keyed by batch
   id and a row key: the row's number and a hash of its content).

A crash before 3 leaves the row not journalled: the next run issues it again and overwrites its
file, so there is still exactly one file and one record per row; a crash after 3 leaves it done, and
the next run skips it. Rejected rows (validation errors) are not journalled: nothing was issued, and
the next run reports them again. The result file is rebuilt on every run, one line per row, from the
journal and this run's outcomes, and replaced atomically at the end.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .._files import write_atomically
from ..errors import MALFORMED_VALUE_ERROR, InputError, KagaError
from .records import BatchRow, IssuanceStore

MAX_ROWS = 1_000_000
MAX_FIELD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Issued:
    """What ``issue_one`` returns for a row: the record fields and the credential as delivered."""

    credential_id: str
    type: str
    subject_did: str | None
    status_list_id: str | None
    status_index: int | None
    format: str
    staff: str
    issued_at: datetime
    document: str
    """The credential as delivered: JSON text (Data Integrity) or the JWT / SD-JWT string."""
    extension: str = "json"


IssueOne = Callable[[Mapping[str, str]], Issued]
"""Validate and issue one row; raise a ``KagaError`` (e.g. ``InputError``) to reject it."""


@dataclass(slots=True)
class BatchSummary:
    """The outcome of one run of :func:`run_batch`."""

    batch_id: str
    total: int = 0
    issued: int = 0
    already_issued: int = 0
    rejected: int = 0
    result_path: Path | None = None
    rejected_codes: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.issued + self.already_issued + self.rejected == self.total

    def to_json(self) -> dict[str, Any]:
        return {"batchId": self.batch_id, "total": self.total, "issued": self.issued,
                "alreadyIssued": self.already_issued, "rejected": self.rejected,
                "rejectedCodes": dict(self.rejected_codes), "resultFile": str(self.result_path) if self.result_path else None}


def read_csv_rows(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Read a UTF-8 CSV (a BOM is allowed) with a header line into row dicts; InputError if unreadable."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("PARSING_ERROR", f"cannot read {path}: {getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    csv.field_size_limit(MAX_FIELD_BYTES)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        if not reader.fieldnames:
            raise InputError("PARSING_ERROR", f"{path} has no header line")
        rows: list[dict[str, str]] = []
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise InputError(MALFORMED_VALUE_ERROR, f"{path} has more than {MAX_ROWS} rows")
            rows.append({k: (v if isinstance(v, str) else "") for k, v in row.items() if isinstance(k, str)})
        return rows
    except csv.Error as exc:
        raise InputError("PARSING_ERROR", f"{path} is not valid CSV (line {reader.line_num}: {exc})") from None


def read_csv_header(path: str | os.PathLike[str]) -> list[str]:
    """The header line's column names (a BOM is allowed); InputError if the file is unreadable or empty."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader([handle.readline()], strict=True), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError("PARSING_ERROR", f"cannot read the header of {path}: {type(exc).__name__}") from None
    if not header:
        raise InputError("PARSING_ERROR", f"{path} has no header line")
    return [name.strip() for name in header]


def row_key(number: int, row: Mapping[str, str]) -> str:
    """The journal key of a row: its number and a hash of its content (an edited row is a new row)."""
    digest = hashlib.sha256(json.dumps(dict(row), sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"{number}:{digest[:32]}"


def batch_id_of(rows: Iterable[Mapping[str, str]]) -> str:
    """A batch id derived from all rows' content: the same file gives the same id, so a rerun resumes."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(dict(row), sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:32]


def _store(state: IssuanceStore | str | os.PathLike[str]) -> tuple[IssuanceStore, bool]:
    if isinstance(state, IssuanceStore):
        return state, False
    text = str(state)
    return IssuanceStore.open(text if "://" in text else f"sqlite:///{Path(text).resolve()}"), True


class _ResultWriter:
    """One line per row, CSV or JSONL by the file's suffix, written to a temporary file and renamed at the end."""

    FIELDS = ("row", "outcome", "credentialId", "code", "detail")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.jsonl = path.suffix.lower() in (".jsonl", ".ndjson", ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        self.handle: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self.csv = None if self.jsonl else csv.DictWriter(self.handle, fieldnames=self.FIELDS)
        if self.csv is not None:
            self.csv.writeheader()

    def write(self, number: int, outcome: str, credential_id: str | None = None, code: str | None = None,
              detail: str | None = None) -> None:
        line = {"row": number, "outcome": outcome, "credentialId": credential_id, "code": code, "detail": detail}
        if self.csv is not None:
            self.csv.writerow({k: _cell(v) for k, v in line.items()})
        else:
            self.handle.write(json.dumps({k: v for k, v in line.items() if v is not None}, ensure_ascii=False) + "\n")

    def finish(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.tmp, self.path)

    def abandon(self) -> None:
        self.handle.close()
        Path(self.tmp).unlink(missing_ok=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text: a leading ``=``, ``+``, ``-``, ``@``, tab or CR
    (details can echo the input) gets a ``'`` in front, so opening the result file runs no formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[], None]]:
    if not (enabled and sys.stderr.isatty()):
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("issuing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("issue", total=total)
        yield lambda: bar.advance(task)


def _remove_stale_temporaries(out_dir: Path | None, result_path: Path) -> None:
    """Delete the temporary files a killed run left behind (never a finished file)."""
    patterns = [(result_path.parent, f".{result_path.name}.*.tmp")]
    if out_dir is not None:
        patterns.append((out_dir, ".row-*.tmp"))
    for directory, pattern in patterns:
        if directory.is_dir():
            for stale in directory.glob(pattern):
                stale.unlink(missing_ok=True)


def output_path(out_dir: Path, number: int, extension: str) -> Path:
    """The file of row ``number`` (1-based, the header not counted) in ``out_dir``."""
    return out_dir / f"row-{number:06d}.{extension}"


def run_batch(
    rows: Iterable[Mapping[str, str]] | str | os.PathLike[str],
    issue_one: IssueOne,
    result_path: str | Path,
    state_path_or_store: IssuanceStore | str | os.PathLike[str],
    *,
    out_dir: str | Path | None = None,
    batch_id: str | None = None,
    progress: bool = True,
    on_row: Callable[[int, str], None] | None = None,
) -> BatchSummary:
    """Issue every row (a CSV path or row dicts), skipping rows a previous run of this batch issued.

    ``state_path_or_store`` is the :class:`IssuanceStore` (or its URL / SQLite path) holding records and
    the journal; ``out_dir`` receives one credential file per issued row (``row-000001.json`` …);
    ``result_path`` gets one line per row (``.csv``, or ``.jsonl``). A ``KagaError`` from ``issue_one``
    rejects its row and the batch goes on; any other exception, and Ctrl-C, stop the batch (the rows done
    so far stay done, and the result file is written for them). ``on_row(number, outcome)`` is a hook
    called after each row (tests use it).
    """
    data = read_csv_rows(rows) if isinstance(rows, (str, os.PathLike)) else [dict(r) for r in rows]
    batch = batch_id or batch_id_of(data)
    store, owned = _store(state_path_or_store)
    out = Path(out_dir) if out_dir is not None else None
    summary = BatchSummary(batch, total=len(data), result_path=Path(result_path))
    _remove_stale_temporaries(out, Path(result_path))
    writer = _ResultWriter(Path(result_path))
    finished = False
    try:
        done = store.batch_rows(batch)
        with _progress(progress, len(data)) as advance:
            for number, row in enumerate(data, start=1):
                key = row_key(number, row)
                previous = done.get(key)
                if previous is not None:
                    summary.already_issued += 1
                    writer.write(number, "issued", previous.credential_id, detail="issued by an earlier run")
                    advance()
                    continue
                try:
                    issued = issue_one(row)
                except KagaError as error:
                    summary.rejected += 1
                    summary.rejected_codes[error.code] = summary.rejected_codes.get(error.code, 0) + 1
                    writer.write(number, "rejected", code=error.code, detail=error.detail)
                    advance()
                    if on_row:
                        on_row(number, "rejected")
                    continue
                if out is not None:
                    # the credential holds personal data: readable by the operator only
                    write_atomically(output_path(out, number, issued.extension), issued.document, mode=0o600)
                with store.transaction() as conn:
                    store.record_issued(
                        issued.credential_id, issued.type, issued.subject_did, issued.status_list_id,
                        issued.status_index, issued.staff, issued.format, issued.issued_at,
                        conn=conn, batch_id=batch, row_key=key,
                    )
                    store.journal_row(conn, BatchRow(batch, key, number, "issued", issued.credential_id, None,
                                                     datetime.now(UTC)))
                summary.issued += 1
                writer.write(number, "issued", issued.credential_id)
                advance()
                if on_row:
                    on_row(number, "issued")
        finished = True
    except KeyboardInterrupt:
        finished = True  # Ctrl-C: keep the lines of the rows handled so far, then stop
        raise
    finally:
        if finished:
            writer.finish()
        else:
            writer.abandon()
        if owned:
            store.close()
    return summary


__all__ = ["BatchSummary", "IssueOne", "Issued", "batch_id_of", "output_path", "read_csv_rows", "row_key", "run_batch"]
