"""Start ``kaga-vc serve`` as a real process on a free 127.0.0.1 port, with real TLS.

The certificate is self-signed, made here with ``cryptography`` (subjectAltName 127.0.0.1 and
localhost); clients trust exactly that certificate (``verify=cert_path``), so nothing is turned off.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "server test password"
START_TIMEOUT = 60.0


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for 127.0.0.1 / localhost: ``(cert.pem, key.pem)``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kaga-vc test server")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``kaga-vc serve`` process."""

    process: subprocess.Popen[bytes]
    base_url: str
    cert: Path | None
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> httpx.Client:
        verify: Any = ssl.create_default_context(cafile=str(self.cert)) if self.cert else True
        return httpx.Client(base_url=self.base_url, verify=verify, timeout=30.0, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def terminate(self, timeout: float = 40.0) -> int:
        """SIGTERM and wait; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def start_server(args: list[str], *, workdir: Path, tls: bool = True, env: dict[str, str] | None = None,
                 name: str = "serve") -> Server:
    """Run ``kaga-vc serve ARGS`` (plus --port, and TLS) and wait until it answers."""
    port = free_port()
    full = [sys.executable, "-c", "from kaga_vc.cli import main; main()", "serve", "--port", str(port), *args]
    cert = None
    if tls:
        cert, key = make_certificate(workdir) if not (workdir / "cert.pem").exists() else (
            workdir / "cert.pem", workdir / "key.pem")
        full += ["--tls-cert", str(cert), "--tls-key", str(key)]
    environment = {**os.environ, "KAGA_VC_PASSWORD": PASSWORD, "KAGA_VC_HOME": str(workdir / "home"),
                   **(env or {})}
    log_path = workdir / f"{name}-{port}.log"
    process = subprocess.Popen(full, stdout=log_path.open("wb"), stderr=subprocess.STDOUT, env=environment,
                               cwd=workdir)
    server = Server(process, f"{'https' if tls else 'http'}://127.0.0.1:{port}", cert, log_path, environment)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kaga-vc serve exited with {process.returncode}:\n{server.log()}")
        try:
            with server.client() as client:
                client.get("/ns/credentials/v1")
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"kaga-vc serve did not answer within {START_TIMEOUT} s:\n{server.log()}")
