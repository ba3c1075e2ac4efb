"""Atomic, durable file replacement: the one writer for keystores, wallets, status lists, bundles.

Readers see the old file or the new one, never half of either; a crash after return loses nothing
(the file and the rename are both fsynced). The temporary file is created 0600 and only given its
final ``mode`` before the rename, so secrets are never briefly world-readable.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], text: str, *, mode: int = 0o600) -> Path:
    """Replace ``path`` with ``text`` (UTF-8) atomically and durably, with permissions ``mode``."""
    import tempfile  # here: tempfile imports shutil, bz2 and lzma, which a read-only verify never needs

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

    An existing file is never opened here: closing *any* descriptor of a file drops every POSIX lock
    the process holds on it (fcntl semantics), so an open-and-close beside a live SQLite connection of
    this process silently removes that connection's locks. Another process then believes it is the
    last user, checkpoints and deletes the WAL, and the two processes go on with diverging copies of
    the database (a second open of the issuance records in a server made new offers invisible to it,
    and would have lost its own writes).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:  # a new file: nobody (no SQLite connection of ours either) can hold a lock on it yet
        fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        if target.is_symlink():
            raise OSError(errno.ELOOP, "refusing a database path that is a symbolic link", str(target)) from None
        if stat.S_IMODE(target.stat().st_mode) != 0o600:
            os.chmod(target, 0o600)
    else:
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        side = target.with_name(target.name + suffix)
        if side.exists() and not side.is_symlink() and stat.S_IMODE(side.stat().st_mode) != 0o600:
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
