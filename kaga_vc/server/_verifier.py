"""The one verifier a server is (issue 12): its key signs the presentation requests, and its DID is the
verifier of every access-log entry the server writes — verifications at the counter and subject-access
calls alike. A log is one verifier's, so a server never writes into another verifier's log: a shop's
server has its own log (its home's, or ``--log``), and a server started on a log whose identity names
another verifier stops before it binds (:func:`check_log_owner`), instead of failing every customer.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from ..errors import LOG_UNAVAILABLE, LOG_VERIFIER_MISMATCH, AccessLogError, InputError
from ._settings import ServerSettings
from ._state import ServerState

VERIFIER_KEY_FILE = "verifier-key.json"
_LOCK = threading.Lock()


def _home(settings: ServerSettings) -> Path:
    if settings.home:
        return Path(settings.home)
    from .._home import default_home

    return default_home()


def verifier_key_file(settings: ServerSettings) -> Path:
    """``--verifier-key``, else ``$KAGA_VC_HOME/verifier/verifier-key.json`` (the one ``request create`` uses)."""
    from ..verifier.nonces import default_nonce_path

    chosen = settings.extra.get("verifier_key")
    return Path(chosen) if chosen else default_nonce_path(_home(settings)).parent / VERIFIER_KEY_FILE


def log_key_file(settings: ServerSettings) -> Path:
    """``--log-key``, else ``$KAGA_VC_ACCESSLOG_KEY``, else ``$KAGA_VC_HOME/accesslog.key``."""
    from ..accesslog import DEFAULT_KEY_FILE, ENV_LOG_KEY

    return Path(settings.extra.get("log_key") or os.environ.get(ENV_LOG_KEY) or _home(settings) / DEFAULT_KEY_FILE)


def verifier_signer(state: ServerState) -> Any:
    """The server's verifier signer (did:key of its keystore), created on first use; one per worker."""
    with _LOCK:
        found = state.extras.get("verifier")
        if found is not None:
            return found
        from ..did import did_key_from_public_key
        from ..keys import KeySigner, KeyType, PrivateKey
        from ..keys.keystore import load_key, save_key

        path = verifier_key_file(state.settings)
        if state.password is None:
            raise InputError("kaga:password-required", "the server's verifier key needs the keystore password")
        if path.exists():
            key = load_key(path, state.password)
        else:
            key = PrivateKey.generate(KeyType.ED25519)
            save_key(path, key, state.password, label="verifier")
        did = did_key_from_public_key(key.public_key)
        signer = state.extras["verifier"] = KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")
        return signer


def check_log_owner(settings: ServerSettings) -> None:
    """Refuse to start a verifying server on another verifier's log: ``kaga:log-verifier-mismatch``.

    Reads only public data: the log's identity (no log key needed) and the verifier keystore's public key
    (no password). A log with no entry yet, or none at all, is this server's to start.
    """
    if not settings.verifies:
        return
    from ..accesslog import AccessLog, log_url
    from ..did import did_key_from_public_key
    from ..keys.keystore import keystore_public_key

    home = _home(settings)
    url = log_url(settings.log_url, home=home)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return
    try:
        with AccessLog.open(url, log_key=None) as log:
            identity = log.identity()
    except AccessLogError as exc:
        if exc.code == LOG_UNAVAILABLE and "no access log here yet" in exc.detail:
            return
        raise
    if identity is None:
        return
    path = verifier_key_file(settings)
    did = did_key_from_public_key(keystore_public_key(path)) if path.exists() else None
    if did != identity.verifier:
        where = url.split("@")[-1] if "@" in url else url.removeprefix("sqlite:///")
        raise AccessLogError(LOG_VERIFIER_MISMATCH, f"the access log {where} is {identity.verifier}'s, and this "
                             f"server's verifier is {did or f'a new key ({path} does not exist)'}: a log is one "
                             "verifier's — give this server its own log (--log) or that verifier's key "
                             "(--verifier-key)")
