"""Batch issuance from a CSV of residents: progress, per-row errors, resumable, exactly once.

A credential is *released* (its ``row-NNNNNN.ext`` file appears in ``out_dir``) only after its
issuance record is committed, so no validly signed credential can exist in the output that the city
cannot revoke. Rows go in groups (group commit):

1. ``issue_group`` validates and signs the group's rows (in a process pool for the city's issuer;
   status indices are reserved, not yet claimed).
2. The group's credentials are staged: one ``out_dir/.kaga-batch/pending-*.jsonl`` file, fsynced.
   Staging is not release: a staged credential whose record never commits is deleted by the next run.
3. One database transaction claims the group's status indices, records every credential and journals
   every row as done (keyed by batch id and a row key: the row's number and a hash of its content).
   A status index another process took meanwhile is a collision: that row is signed again later.
4. The row files are written (released). The staging files are removed at the end of the run,
   after the row files are synced to disk.

Recovery: a run first *repairs* ``out_dir`` from the records: a staged credential that was committed
is released, one that was not is deleted, and a row file whose credential is not in the records (left
by an older version, or by two runs racing) is deleted. So after a crash anywhere, the next run leaves
exactly one file per recorded row, and nothing unrecorded.

Two runs of the same batch (same input, whatever the output) or into the same ``out_dir`` exclude each
other: the second waits up to ``lock_timeout`` seconds for the first, then stops with
``kaga:batch-in-progress`` before issuing anything. A directory holding another batch's credentials is
refused (``kaga:batch-out-mismatch``). Rejected rows (validation errors) are not journalled: nothing was
issued, and the next run reports them again. The result file is rebuilt on every run, one line per row
in row order, and replaced atomically at the end.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import string
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .._files import write_atomically
from ..errors import (
    BATCH_IN_PROGRESS,
    BATCH_OUT_MISMATCH,
    MALFORMED_VALUE_ERROR,
    InputError,
    KagaError,
    RecordsError,
)
from ._issued import Issued
from .records import BatchRow, IssuanceStore

MAX_ROWS = 1_000_000
MAX_FIELD_BYTES = 64 * 1024


IssueOne = Callable[[Mapping[str, str]], Issued]
"""Validate and issue one row; raise a ``KagaError`` (e.g. ``InputError``) to reject it."""

IssueGroup = Callable[[list[tuple[int, Mapping[str, str]]]], list["Issued | KagaError"]]
"""Validate and issue ``(number, row)`` items: an ``Issued`` or the ``KagaError`` rejecting it, per item."""


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
    repaired: int = 0
    """Committed credentials whose files a crashed run had not released: released by this run."""
    removed_unrecorded: int = 0
    """Credential files in ``out_dir`` the records do not know (never recorded): deleted by this run."""

    @property
    def complete(self) -> bool:
        return self.issued + self.already_issued + self.rejected == self.total

    def to_json(self) -> dict[str, Any]:
        return {"batchId": self.batch_id, "total": self.total, "issued": self.issued,
                "alreadyIssued": self.already_issued, "rejected": self.rejected,
                "rejectedCodes": dict(self.rejected_codes), "repaired": self.repaired,
                "removedUnrecorded": self.removed_unrecorded, "resultFile": str(self.result_path) if self.result_path else None}


def read_csv_rows(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Read a UTF-8 CSV (a BOM is allowed) with a header line into row dicts; InputError if unreadable."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("PARSING_ERROR", f"cannot read {path}: {getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    csv.field_size_limit(MAX_FIELD_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    """The physical line on which the record being read starts (a quoted field may span lines)."""
    try:
        header = next(reader, None)
        if not header:
            raise InputError("PARSING_ERROR", f"{path} has no header line")
        doubled = sorted({name for name in header if header.count(name) > 1})
        if doubled:
            raise InputError(MALFORMED_VALUE_ERROR, f"{path} names column(s) {doubled} more than once")
        rows: list[dict[str, str]] = []
        while True:
            start = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                return rows
            if not cells:
                continue
            if len(cells) > len(header):
                raise InputError(MALFORMED_VALUE_ERROR, f"{path} line {start} has {len(cells)} fields, the header "
                                 f"has {len(header)}: a value with a comma must be quoted")
            if len(rows) >= MAX_ROWS:
                raise InputError(MALFORMED_VALUE_ERROR, f"{path} has more than {MAX_ROWS} rows")
            rows.append({name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)})
    except csv.Error as exc:
        raise InputError("PARSING_ERROR", f"{path} is not valid CSV (the row starting on line {start}: {exc})") from None


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


def _row_bytes(row: Mapping[str, str]) -> bytes:
    """A row's content as the batch id and its journal key hash it."""
    return json.dumps(dict(row), sort_keys=True, ensure_ascii=False).encode()


def row_key(number: int, row: Mapping[str, str]) -> str:
    """The journal key of a row: its number and a hash of its content (an edited row is a new row)."""
    return _key_of(number, _row_bytes(row))


def _key_of(number: int, content: bytes) -> str:
    return f"{number}:{hashlib.sha256(content).hexdigest()[:32]}"


def batch_id_of(rows: Iterable[Mapping[str, str]]) -> str:
    """A batch id derived from all rows' content: the same file gives the same id, so a rerun resumes."""
    return _batch_id([_row_bytes(row) for row in rows])


def _batch_id(contents: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for content in contents:
        digest.update(content)
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


STATE_DIR = ".kaga-batch"
WRITER_THREADS = 1
"""One thread writes the released row files (more would contend for the directory's lock)."""
_ROW_FILE = re.compile(r"^row-(\d{6,})\.(jwt|json)$")


def output_path(out_dir: Path, number: int, extension: str) -> Path:
    """The file of row ``number`` (1-based, the header not counted) in ``out_dir``."""
    return out_dir / f"row-{number:06d}.{extension}"


def credential_id_of(text: str) -> str | None:
    """The id inside a released credential file: JSON ``id``, or a JWT / SD-JWT payload's ``jti`` / ``id``."""
    text = text.strip()
    try:
        if text.startswith("{"):
            value = json.loads(text).get("id")
        else:
            from .._encoding import b64url_decode

            payload = json.loads(b64url_decode(text.split("~", 1)[0].split(".")[1]))
            value = payload.get("jti") or payload.get("id") or (payload.get("vc") or {}).get("id")
    except (ValueError, IndexError, AttributeError, TypeError):
        return None
    return value if isinstance(value, str) else None


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def _write_row_file(path: Path, text: str) -> None:
    """Write a released credential (0600: personal data) by rename; durability comes from the final sync."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _sync_directory_tree(directory: Path) -> None:
    """Make the released files durable: one sync of the file system (far cheaper than one fsync per file)."""
    syncfs = getattr(os, "sync", None)
    if syncfs is not None:
        syncfs()


_TOKEN_CHARACTERS = (string.ascii_letters + string.digits + "-_.~").encode("ascii")
"""What a compact JWT / SD-JWT is made of (base64url segments, ``.`` and ``~``): nothing JSON escapes."""


def _json_text(text: str) -> str:
    """``json.dumps(text, ensure_ascii=False)``, without its per-character scan for a token (plus its
    final newline): escaping an SD-JWT's 4 KB costs the parent some 25 µs a credential, the check 3."""
    body = text.removesuffix("\n")
    if body.isascii() and not body.encode("ascii").translate(None, _TOKEN_CHARACTERS):
        return f'"{body}\\n"' if len(body) < len(text) else f'"{body}"'
    return json.dumps(text, ensure_ascii=False)


def _staged_line(number: int, item: Issued) -> str:
    """One line of a staging segment: ``{"row", "ext", "id", "doc"}`` as ``json.dumps`` writes it."""
    return (f'{{"row": {int(number)}, "ext": {json.dumps(item.extension)}, "id": {json.dumps(item.credential_id, ensure_ascii=False)}, '
            f'"doc": {_json_text(item.document)}}}\n')


class _Staging:
    """``out_dir/.kaga-batch``: the lock file, the batch marker and the staged (not yet released) groups."""

    def __init__(self, out_dir: Path, batch_id: str) -> None:
        self.out = out_dir
        self.dir = out_dir / STATE_DIR
        self.batch_id = batch_id
        self.segments: list[Path] = []
        self.removed_unrecorded = 0
        self.released_on_repair = 0
        self._writers: ThreadPoolExecutor | None = None
        self._writing: list[Future[None]] = []

    def check_marker(self) -> None:
        marker = self.dir / "batch"
        try:
            current = marker.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            write_atomically(marker, self.batch_id + "\n", mode=0o600)
            return
        if current != self.batch_id:
            raise InputError(BATCH_OUT_MISMATCH, f"{self.out} holds the credentials of another batch ({current[:12]}…); "
                             "use a new --out directory for this CSV")

    def stage(self, issued: list[tuple[int, Issued]]) -> Path:
        lines = "".join(_staged_line(n, i) for n, i in issued)
        path = self.dir / f"pending-{os.getpid()}-{len(self.segments):06d}-{os.urandom(4).hex()}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, lines.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.segments.append(path)
        return path

    def discard(self, segment: Path) -> None:
        segment.unlink(missing_ok=True)
        if segment in self.segments:
            self.segments.remove(segment)

    def release(self, issued: list[tuple[int, Issued]]) -> None:
        """Write the row files of a committed group, in writer threads: creating a file can wait on the
        file system's journal for milliseconds (other processes' fsyncs), and the next group is committed
        meanwhile. Each new file is written in place (one open and one write, no temporary and rename):
        until :meth:`finish` has waited for the writers and synced, the group's staged copy is kept, and a
        repair rewrites any row file that differs from it, a torn or missing one included."""
        self._raise_failed()
        if self._writers is None:
            self._writers = ThreadPoolExecutor(WRITER_THREADS, thread_name_prefix="kaga-batch-release")
        files = [(f"row-{number:06d}.{item.extension}", item.document) for number, item in issued]
        step = max(1, -(-len(files) // WRITER_THREADS))
        self._writing.extend(self._writers.submit(self._write_files, files[i:i + step])
                             for i in range(0, len(files), step))

    def _write_files(self, files: list[tuple[str, str]]) -> None:
        directory = os.open(self.out, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            for name, document in files:
                try:
                    fd = os.open(name, _NEW_FILE, 0o600, dir_fd=directory)
                except FileExistsError:  # not a credential (repair leaves those): replaced by rename
                    _write_row_file(self.out / name, document)
                    continue
                try:
                    os.write(fd, document.encode("utf-8"))
                finally:
                    os.close(fd)
        finally:
            os.close(directory)

    def _raise_failed(self) -> None:
        done = [f for f in self._writing if f.done()]
        self._writing = [f for f in self._writing if not f.done()]
        for future in done:
            future.result()  # a writer's error (disk full …) stops the batch here

    def finish(self) -> None:
        """Wait for the writers, sync the released files, then drop the staging copies they no longer
        need. If a writer failed the staging copies stay: the next run's repair releases from them."""
        try:
            for future in self._writing:
                future.result()
        finally:
            self._writing = []
            if self._writers is not None:
                self._writers.shutdown(wait=True)
                self._writers = None
        if self.segments:
            _sync_directory_tree(self.out)
            for segment in self.segments:
                segment.unlink(missing_ok=True)
            self.segments.clear()

    def repair(self, store: IssuanceStore, journal: Mapping[str, BatchRow]) -> None:
        """Make ``out_dir`` agree with the records (see the module docstring)."""
        allowed: dict[int, set[str]] = {}
        for row in journal.values():
            if row.outcome == "issued" and row.credential_id:
                allowed.setdefault(row.row_number, set()).add(row.credential_id)
        for stale in self.out.glob(".row-*.tmp"):
            stale.unlink(missing_ok=True)
        pending = sorted(self.dir.glob("pending-*.jsonl"))
        for segment in pending:
            try:
                lines = segment.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            for line in lines:
                try:
                    entry = json.loads(line)
                    number, ext, cid, doc = int(entry["row"]), str(entry["ext"]), str(entry["id"]), str(entry["doc"])
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line: that group was never committed
                if ext not in ("jwt", "json") or cid not in allowed.get(number, ()):
                    continue  # staged but never recorded: never released
                path = output_path(self.out, number, ext)
                try:
                    if path.read_text(encoding="utf-8") == doc:
                        continue
                except (OSError, UnicodeDecodeError):
                    pass
                _write_row_file(path, doc)
                self.released_on_repair += 1
        if pending:
            _sync_directory_tree(self.out)
            for segment in pending:
                segment.unlink(missing_ok=True)
        for path in self.out.iterdir():
            match = _ROW_FILE.match(path.name)
            if match is None or not path.is_file() or path.is_symlink():
                continue
            try:
                found = credential_id_of(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                found = None
            if found is None or found in allowed.get(int(match.group(1)), ()):
                continue  # recorded for this row (or not a credential at all: not ours to judge)
            if store.get(found) is not None:
                raise InputError(BATCH_OUT_MISMATCH, f"{self.out} holds credentials of another batch ({path.name}); "
                                 "use a new --out directory for this CSV")
            path.unlink()  # a signed credential the records do not know: it must not be handed out
            self.removed_unrecorded += 1


@contextmanager
def _file_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``, waiting up to ``timeout`` seconds (released if the process dies)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RecordsError(BATCH_IN_PROGRESS, f"another batch run is {what}; waited {timeout:g} s. "
                                       "Let it finish (or stop it), then run again: the rerun resumes") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def run_batch(
    rows: Iterable[Mapping[str, str]] | str | os.PathLike[str],
    issue_one: IssueOne | None,
    result_path: str | Path,
    state_path_or_store: IssuanceStore | str | os.PathLike[str],
    *,
    out_dir: str | Path | None = None,
    batch_id: str | None = None,
    progress: bool = True,
    on_row: Callable[[int, str], None] | None = None,
    issue_group: IssueGroup | None = None,
    group_size: int = 1,
    lock_timeout: float = 10.0,
) -> BatchSummary:
    """Issue every row (a CSV path or row dicts), skipping rows a previous run of this batch issued.

    ``state_path_or_store`` is the :class:`IssuanceStore` (or its URL / SQLite path) holding records and
    the journal; ``out_dir`` receives one credential file per issued row (``row-000001.json`` …);
    ``result_path`` gets one line per row (``.csv``, or ``.jsonl``). Rows are issued by ``issue_one(row)``
    one at a time, or by ``issue_group(items)`` ``group_size`` at a time (``items`` are ``(number, row)``;
    it returns an ``Issued`` or a ``KagaError`` per item). A ``KagaError`` rejects its row and the batch
    goes on; any other exception, and Ctrl-C, stop the batch (the groups committed so far stay done, and
    the result file is written for them). ``on_row(number, outcome)`` is called after each row's commit.
    """
    if issue_group is None:
        if issue_one is None:
            raise TypeError("run_batch needs issue_one or issue_group")
        issue_group = _one_by_one(issue_one)
    data = read_csv_rows(rows) if isinstance(rows, (str, os.PathLike)) else [dict(r) for r in rows]
    contents = [_row_bytes(row) for row in data]  # once per row, for the batch id and the row keys
    batch = batch_id or _batch_id(contents)
    store, owned = _store(state_path_or_store)
    out = Path(out_dir) if out_dir is not None else None
    summary = BatchSummary(batch, total=len(data), result_path=Path(result_path))
    outcomes: dict[int, tuple[str, str | None, str | None, str | None]] = {}
    finished = False
    try:
        with ExitStack() as locks:
            locks.enter_context(store.batch_lock(batch, timeout=lock_timeout))
            staging: _Staging | None = None
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                locks.enter_context(_file_lock(out / STATE_DIR / "lock", lock_timeout, f"writing into {out}"))
                staging = _Staging(out, batch)
                staging.check_marker()
            done = store.batch_rows(batch)
            if staging is not None:
                staging.repair(store, done)
                summary.repaired = staging.released_on_repair
                summary.removed_unrecorded = staging.removed_unrecorded
            _remove_stale_result_temporaries(Path(result_path))
            try:
                with _progress(progress, len(data)) as advance:
                    todo: list[tuple[int, Mapping[str, str], str]] = []
                    for number, (row, content) in enumerate(zip(data, contents, strict=True), start=1):
                        key = _key_of(number, content)
                        previous = done.get(key)
                        if previous is not None:
                            summary.already_issued += 1
                            outcomes[number] = ("issued", previous.credential_id, None, "issued by an earlier run")
                            advance()
                        else:
                            todo.append((number, row, key))
                    # An issue_group with submit() (the process pool) signs the next group while this
                    # one is recorded and released: the overlap is only of signing, never of release
                    # (a group in flight when the batch stops is dropped, never recorded nor released).
                    submit = getattr(issue_group, "submit", None)
                    position = 0
                    ahead: tuple[list[tuple[int, Mapping[str, str], str]], Callable[[], Any]] | None = None
                    while position < len(todo) or ahead is not None:
                        if ahead is None:
                            group = todo[position:position + max(group_size, 1)]
                            position += len(group)
                            results = None if submit is None else submit([(n, r) for n, r, _k in group])
                        else:
                            (group, results), ahead = ahead, None
                        if submit is not None and position < len(todo):
                            following = todo[position:position + max(group_size, 1)]
                            position += len(following)
                            ahead = following, submit([(n, r) for n, r, _k in following])
                        retry = _issue_and_commit(group, issue_group, store, staging, batch, summary, outcomes,
                                                  advance, on_row, results=results)
                        todo.extend(retry)
            finally:
                if staging is not None:
                    staging.finish()
        finished = True
    except KeyboardInterrupt:
        finished = True  # Ctrl-C: keep the lines of the rows handled so far, then stop
        raise
    finally:
        if finished:
            writer = _ResultWriter(Path(result_path))
            for number in sorted(outcomes):
                outcome, cid, code, detail = outcomes[number]
                writer.write(number, outcome, cid, code=code, detail=detail)
            writer.finish()
        if owned:
            store.close()
    return summary


def _one_by_one(issue_one: IssueOne) -> IssueGroup:
    def group(items: list[tuple[int, Mapping[str, str]]]) -> list[Issued | KagaError]:
        out: list[Issued | KagaError] = []
        for _number, row in items:
            try:
                out.append(issue_one(row))
            except KagaError as error:
                out.append(error)
        return out

    return group


def _issue_and_commit(
    group: list[tuple[int, Mapping[str, str], str]],
    issue_group: IssueGroup,
    store: IssuanceStore,
    staging: _Staging | None,
    batch: str,
    summary: BatchSummary,
    outcomes: dict[int, tuple[str, str | None, str | None, str | None]],
    advance: Callable[[], None],
    on_row: Callable[[int, str], None] | None,
    *,
    results: Callable[[], list[Issued | KagaError]] | None = None,
) -> list[tuple[int, Mapping[str, str], str]]:
    """Issue one group (or collect its ``results`` submitted earlier), commit its records in one
    transaction, then release its files; the rows to retry."""
    results_of = results() if results is not None else issue_group([(number, row) for number, row, _key in group])
    issued: list[tuple[int, str, Issued]] = []
    for (number, _row, key), result in zip(group, results_of, strict=True):
        if isinstance(result, KagaError):
            summary.rejected += 1
            summary.rejected_codes[result.code] = summary.rejected_codes.get(result.code, 0) + 1
            outcomes[number] = ("rejected", None, result.code, result.detail)
            advance()
            if on_row:
                on_row(number, "rejected")
        else:
            issued.append((number, key, result))
    if not issued:
        return []
    segment = staging.stage([(n, i) for n, _k, i in issued]) if staging is not None else None
    now = datetime.now(UTC)
    try:
        with store.transaction() as conn:
            unclaimed: dict[str, list[int]] = {}
            for _n, _k, item in issued:
                if not item.claimed and item.status_list_id is not None and item.status_index is not None:
                    unclaimed.setdefault(item.status_list_id, []).append(item.status_index)
            taken: set[tuple[str, int]] = set()
            for list_id, indices in unclaimed.items():
                claimed = store.claim_status_indices(conn, list_id, indices, now)
                taken.update((list_id, i) for i in indices if i not in claimed)
            kept = [(n, k, i) for n, k, i in issued if i.claimed or (i.status_list_id, i.status_index) not in taken]
            retry = [n for n, _k, i in issued if not i.claimed and (i.status_list_id, i.status_index) in taken]
            store.record_group(conn, [_record_of(i, batch, k) for _n, k, i in kept],
                               [BatchRow(batch, k, n, "issued", i.credential_id, None, now) for n, k, i in kept])
    except BaseException:
        if segment is not None and staging is not None:
            staging.discard(segment)  # nothing of this group was committed: its credentials are void
        raise
    note_taken = getattr(issue_group, "taken", None)
    if callable(note_taken):
        for list_id, index in taken:
            note_taken(list_id, index)
    if staging is not None:
        staging.release([(n, i) for n, _k, i in kept])
    for number, _key, item in kept:
        summary.issued += 1
        outcomes[number] = ("issued", item.credential_id, None, None)
        advance()
        if on_row:
            on_row(number, "issued")
    by_number = {number: (number, row, key) for number, row, key in group}
    return [by_number[n] for n in retry]


def _record_of(item: Issued, batch: str, key: str) -> dict[str, Any]:
    return {"credential_id": item.credential_id, "type": item.type, "subject_did": item.subject_did,
            "status_list_id": item.status_list_id, "status_index": item.status_index, "staff": item.staff,
            "format": item.format, "issued_at": item.issued_at, "batch_id": batch, "row_key": key,
            "digest": item.digest, "verification_method": item.verification_method}


def _remove_stale_result_temporaries(result_path: Path) -> None:
    """Delete the temporary result files a killed run left behind (never a finished file)."""
    if result_path.parent.is_dir():
        for stale in result_path.parent.glob(f".{result_path.name}.*.tmp"):
            stale.unlink(missing_ok=True)


__all__ = ["BatchSummary", "IssueGroup", "IssueOne", "Issued", "batch_id_of", "credential_id_of", "output_path",
           "read_csv_rows", "row_key", "run_batch"]
