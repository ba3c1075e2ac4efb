"""The log key (the HMAC key of the subject index): a file of its own, never in the database."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..errors import KEYSTORE_UNREADABLE, MALFORMED_VALUE_ERROR, InputError, KeystoreError

ENV_LOG_KEY = "KAGA_VC_ACCESSLOG_KEY"
DEFAULT_KEY_FILE = "accesslog.key"


def load_or_create_log_key(path: str | os.PathLike[str], *, create: bool = True) -> bytes:
    """Read the 32-byte log key (hex) at ``path``; create it (mode 0600) if missing and ``create``.

    The key stays apart from the log so that whoever holds only the database cannot link entries to
    a DID they know. Raises :class:`KeystoreError` if it cannot be read, :class:`InputError` if malformed.
    """
    file = Path(path)
    if not file.exists():
        if not create:
            raise KeystoreError(KEYSTORE_UNREADABLE, f"no log key at {file.name}")
        file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create_log_key(file, create=False)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    try:
        text = file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise KeystoreError(KEYSTORE_UNREADABLE, f"cannot read the log key {file.name}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise InputError(MALFORMED_VALUE_ERROR, "the log key file holds no hex key") from None
    if len(key) < 16:
        raise InputError(MALFORMED_VALUE_ERROR, "the log key is too short")
    return key
