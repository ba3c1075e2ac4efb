"""Shared fixtures: repository paths, an offline guard, fast keystore settings."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

# the PostgreSQL server fixtures (postgres_url, postgres_database) for every test directory
pytest_plugins = ["tests._postgres"]

ROOT = Path(__file__).resolve().parent.parent
# reference copies of what tests compare against live inside tests/ (no test reads outside the repository)
VECTORS = ROOT / "tests" / "vectors"


class NetworkBlocked(RuntimeError):
    """Raised when code under an offline test tries to open a socket."""


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every socket for the duration of a test (proves a path is offline)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise NetworkBlocked("network access attempted in an offline test")

    # Patch the operations rather than the class: ssl and others subclass socket.socket at import.
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket.socket, "bind", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def password_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """Give CLI commands a keystore password through the environment, as scripts do."""
    password = "correct horse battery staple"
    monkeypatch.setenv("KAGA_VC_PASSWORD", password)
    return password


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Under scripts/test.sh (KAGA_VC_REQUIRE_NODE=1) a skipped interop test is a failure.

    Interop tests skip when their Node packages are absent (a developer's partial setup); the test
    command installs them, so there a skip would hide a broken install behind a green run.
    """
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("node") and os.environ.get("KAGA_VC_REQUIRE_NODE") == "1":
        report.outcome = "failed"
        report.longrepr = f"interop test skipped under the test command: {report.longrepr}"


# Every document the fast JSON-LD path canonicalises in any test is canonicalised by pyld as well, and a
# difference fails the test (kaga_vc/proofs/_jsonld.py, DIFFERENTIAL_ENV; inherited by CLI subprocesses).
os.environ.setdefault("KAGA_VC_JSONLD_DIFFERENTIAL", "1")
