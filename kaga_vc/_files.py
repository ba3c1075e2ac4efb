"""Atomic, durable file replacement: the one writer for keystores, wallets, status lists, bundles.

Readers see the old file or the new one, never half of either; a crash after return loses nothing
(the file and the rename are both fsynced). The temporary file is created 0600 and only given its
final ``mode`` before the rename, so secrets are never briefly world-readable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], text: str, *, mode: int = 0o600) -> Path:
    """Replace ``path`` with ``text`` (UTF-8) atomically and durably, with permissions ``mode``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)
    return target


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ensure_private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` empty with mode 0600 if it is missing, else tighten it to 0600; never through a symlink.

    For SQLite databases holding personal data (issuance records, access log): SQLite creates its
    file with the process umask (usually 0644) and gives its ``-wal`` / ``-shm`` files the database
    file's permissions, so creating the file first is what keeps all three private.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        side = target.with_name(target.name + suffix)
        if side.exists() and not side.is_symlink():
            os.chmod(side, 0o600)
    return target


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL (None for memory databases and other engines)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path)
