"""Where a verifier finds status list credentials: a Protocol and offline implementations.

Verification stays offline: a source reads files or memory, never the network. The trust bundle
(issue 7) implements :class:`StatusListSource` as well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from ..errors import STATUS_LIST_UNAVAILABLE, StatusError

JSONObject = dict[str, Any]
StatusListDocument = str | JSONObject
"""A status list credential as received: a Data Integrity JSON object, or a ``vc+jwt`` / JWT string."""

MAX_FILE_BYTES = 32 * 1024 * 1024


@runtime_checkable
class StatusListSource(Protocol):
    """Gives the status list credential published at a URL."""

    def fetch(self, url: str) -> StatusListDocument:
        """Return the credential at ``url``; raise ``StatusError(kaga:status-list-unavailable)`` if absent."""
        ...


def _unavailable(url: str, why: str) -> StatusError:
    return StatusError(STATUS_LIST_UNAVAILABLE, f"status list {url}: {why}", url=url)


def _parse(text: str, url: str) -> StatusListDocument:
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            raise _unavailable(url, "the stored copy is not JSON") from None
        if not isinstance(value, dict):
            raise _unavailable(url, "the stored copy is not a JSON object")
        return value
    return text


class MappingStatusListSource:
    """Status list credentials held in memory, by URL."""

    def __init__(self, documents: Mapping[str, StatusListDocument]) -> None:
        self.documents = dict(documents)

    def fetch(self, url: str) -> StatusListDocument:
        try:
            document = self.documents[url]
        except KeyError:
            raise _unavailable(url, "not in the given status lists") from None
        return _parse(document, url) if isinstance(document, str) else document


class FileStatusListSource(MappingStatusListSource):
    """A file written by ``kaga-vc status publish --out FILE``: one JSON object ``{url: credential}``."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise _unavailable(str(path), "the file is too large")
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise _unavailable(str(path), f"cannot read the file ({type(exc).__name__})") from None
        if not isinstance(data, dict) or not all(isinstance(v, (str, dict)) for v in data.values()):
            raise _unavailable(str(path), "the file is not a JSON object of status list credentials by URL")
        super().__init__(data)


class DirectoryStatusListSource:
    """A directory written by ``kaga-vc status publish --out DIR``: the file for a URL is its path below ``base_url``."""

    def __init__(self, root: str | Path, base_url: str) -> None:
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/") + "/"

    def path_for(self, url: str) -> Path:
        if not url.startswith(self.base_url):
            raise _unavailable(url, f"not below {self.base_url}")
        relative = urlsplit(url[len(self.base_url):]).path
        parts = [p for p in relative.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise _unavailable(url, "not a file below the published directory")
        return self.root.joinpath(*parts)

    def fetch(self, url: str) -> StatusListDocument:
        path = self.path_for(url)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise _unavailable(url, "the file is too large")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise _unavailable(url, "no published file for it") from None
        return _parse(text, url)


def _document_id(document: StatusListDocument) -> str | None:
    """The ``id`` a status list credential names itself by (a JWT's payload is read unverified, only to index it)."""
    if isinstance(document, dict):
        value = document.get("id")
        return value if isinstance(value, str) else None
    from .._encoding import b64url_decode

    try:
        payload = json.loads(b64url_decode(document.split("~", 1)[0].split(".")[1]))
    except (IndexError, ValueError):
        return None
    if isinstance(payload, dict):
        vc = payload["vc"] if isinstance(payload.get("vc"), dict) else payload
        value = vc.get("id", payload.get("jti"))
        return value if isinstance(value, str) else None
    return None


def load_status_lists(path: str | Path, *, max_files: int = 10_000) -> MappingStatusListSource:
    """Status list credentials from a file written by ``status publish --out FILE``, or from a directory
    (published with ``--out DIR``, or any copy of it), each indexed by the ``id`` it carries.

    Verification still checks every list's signature, issuer and that its ``id`` is the URL asked for.
    """
    path = Path(path)
    if path.is_file():
        try:
            return FileStatusListSource(path)
        except StatusError:
            pass  # not a published bundle: maybe one status list credential (JSON or JWT)
        try:
            document = _parse(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError):
            raise _unavailable(str(path), "cannot read the file") from None
        key = _document_id(document)
        if key is None:
            raise _unavailable(str(path), "neither published status lists nor a status list credential")
        return MappingStatusListSource({key: document})
    if not path.is_dir():
        raise _unavailable(str(path), "no such file or directory")
    documents: dict[str, StatusListDocument] = {}
    for count, file in enumerate(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))):
        if count >= max_files:
            raise _unavailable(str(path), f"more than {max_files} files")
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                continue
            document = _parse(file.read_text(encoding="utf-8"), str(file))
        except (OSError, UnicodeDecodeError, StatusError):
            continue
        key = _document_id(document)
        if key is not None:
            documents[key] = document
    return MappingStatusListSource(documents)
