"""A real PostgreSQL server for the test session: ``postgres_url`` (session-scoped) and ``fresh_database``.

The server is initialised with ``initdb`` in a temporary directory and started on a free loopback
port (and a unix socket in the same directory), as an unprivileged user when the tests run as root
(PostgreSQL refuses to run as root): the ``postgres`` system user if it exists, else a dedicated
``kagapg`` user created for the purpose. It is stopped at the end of the session, even after failures.

``scripts/test.sh`` installs PostgreSQL when it is missing. Outside it a missing server skips the
tests that need one; under it (``KAGA_VC_REQUIRE_NODE=1``) a missing server is a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DEDICATED_USER = "kagapg"
START_TIMEOUT = 60.0


def find_postgres_bin() -> Path | None:
    """The directory holding ``initdb`` and ``postgres`` (the newest Debian install, else PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                        if Path(p).parent.name.isdigit() else 0, reverse=True)
    for directory in candidates:
        if (Path(directory) / "initdb").exists() and (Path(directory) / "postgres").exists():
            return Path(directory)
    initdb = shutil.which("initdb")
    if initdb:
        directory = Path(os.path.realpath(initdb)).parent
        if (directory / "postgres").exists():
            return directory
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """None when not root (run as ourselves); else an unprivileged account, created if needed."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", DEDICATED_USER):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", DEDICATED_USER],
                   check=True, stdin=subprocess.DEVNULL, capture_output=True)
    return pwd.getpwnam(DEDICATED_USER)


class PostgresServer:
    """One throw-away PostgreSQL cluster."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="kaga-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.root / "server.log"
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.url = f"postgresql://kaga@127.0.0.1:{self.port}/kaga"

    def _as_user(self) -> dict[str, Any]:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def start(self) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
        init = subprocess.run(
            [str(self.bindir / "initdb"), "-D", str(self.data), "-U", "kaga", "--auth=trust", "--encoding=UTF8",
             "--locale=C", "--no-sync"],
            env=env, capture_output=True, stdin=subprocess.DEVNULL, cwd=self.root, check=False, **self._as_user(),
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.decode(errors='replace')[-2000:]}")
        log = open(self.log, "wb")  # noqa: SIM115 - kept open for the server's lifetime
        self.process = subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
             "-k", str(self.root), "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=100"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.root,
            start_new_session=True, **self._as_user(),
        )
        log.close()
        self._wait_ready()
        self.execute("postgres", "CREATE DATABASE kaga")

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited at start: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                psycopg.connect(host="127.0.0.1", port=self.port, user="kaga", dbname="postgres",
                                connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError("postgres did not accept connections in time") from None
                time.sleep(0.1)

    def execute(self, dbname: str, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="kaga", dbname=dbname, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends sessions, checkpoints, exits
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def _missing(reason: str) -> None:
    if os.environ.get("KAGA_VC_REQUIRE_NODE") == "1":
        pytest.fail(f"PostgreSQL is required under the test command: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (started on first use)."""
    bindir = find_postgres_bin()
    if bindir is None:
        _missing("PostgreSQL (initdb, postgres) is not installed; scripts/test.sh installs it")
    try:
        import psycopg  # noqa: F401
    except ModuleNotFoundError:
        _missing("psycopg is not installed (the [test] extra brings it)")
    server = PostgresServer(bindir)  # type: ignore[arg-type]
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """``postgresql://kaga@127.0.0.1:PORT/kaga``: a database on a real server, shared by the session."""
    return postgres_server.url


def fresh_database(server: PostgresServer, prefix: str = "t") -> str:
    """Create an empty database on ``server`` and return its URL (for tests that need isolation)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    server.execute("postgres", f'CREATE DATABASE "{name}"')
    return f"postgresql://kaga@127.0.0.1:{server.port}/{name}"


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database for one test."""
    return fresh_database(postgres_server)
