"""Run the application under uvicorn: TLS, workers, clean shutdown, a loud warning on plain HTTP.

uvicorn handles SIGTERM (and SIGINT) by closing the listening socket, finishing the requests in
flight (up to ``graceful_timeout``) and running the app's lifespan shutdown, which closes the stores:
a request being answered when the signal comes is answered, and nothing is half-written.
"""

from __future__ import annotations

import logging
import os
import sys

from ._settings import SETTINGS_ENV, ServerSettings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
GRACEFUL_TIMEOUT = 30


def log_config() -> dict[str, object]:
    """uvicorn's logging, with our access log (one line per request, no client address) on stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},  # ours instead
            "kaga_vc.server": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


def serve(settings: ServerSettings, *, host: str = "127.0.0.1", port: int = 8443, tls_cert: str | None = None,
          tls_key: str | None = None, workers: int = 1, password: str | None = None) -> None:
    """Serve until SIGTERM / SIGINT. ``password`` reaches the workers as ``$KAGA_VC_PASSWORD``."""
    import uvicorn

    os.environ[SETTINGS_ENV] = settings.to_json()
    if password is not None:
        os.environ["KAGA_VC_PASSWORD"] = password
    if not tls_cert:
        logging.basicConfig(format=LOG_FORMAT)
        print("WARNING: serving plain HTTP (no --tls-cert): credentials, tokens and access histories cross "
              "the network unencrypted. Use this only behind a TLS proxy or on 127.0.0.1 for tests.",
              file=sys.stderr, flush=True)
    uvicorn.run(
        "kaga_vc.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        log_config=log_config(),
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_TIMEOUT,
        lifespan="on",
    )
