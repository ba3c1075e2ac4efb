"""The verifier's own state in ``$KAGA_VC_HOME``: the pinned city, the verifier key, the access log.

Shared by ``kaga-vc verify`` (which must start without typer: README "Cold start") and the
``bundle``, ``request`` and ``log`` commands, which re-export these names.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._output import note, read_password

TRUSTED_CITY_ENV = "KAGA_VC_TRUSTED_CITY"
VERIFIER_KEY_FILE = "verifier-key.json"


def trusted_city(value: str | None, *, quiet: bool = False) -> str | None:
    """The pinned city: ``--city``, else ``$KAGA_VC_TRUSTED_CITY``, else this home's own city.

    The last one is the city's own home trusting itself: ``$KAGA_VC_HOME/city`` holds the city's
    configuration *and* its owner keystore (made by ``kaga-vc city init`` here). A shop's home has no
    city, so a shop pins nothing implicitly and is refused until it names the city; a copied
    ``city.json`` without the keys is not "this home's city" either. When the home's city is used, a
    note on stderr says so (``quiet`` skips it).
    """
    import os

    if value or os.environ.get(TRUSTED_CITY_ENV):
        return value or os.environ.get(TRUSTED_CITY_ENV)
    city = home_city()
    if city is not None and not quiet:
        note(f"note: trusting this home's own city {city} ($KAGA_VC_HOME/city); "
             "pass --city or set $KAGA_VC_TRUSTED_CITY to pin another")
    return city


def home_city() -> str | None:
    """The DID of the city set up in ``$KAGA_VC_HOME`` with its keys (``city init``), else None."""
    from ..errors import KagaError
    from ..issuer.service import OWNER_FILE, city_dir, read_city

    if not (city_dir() / OWNER_FILE).is_file():
        return None
    try:
        return read_city().did
    except KagaError:
        return None


def verifier_key_path(home: str | None = None) -> Path:
    """``$KAGA_VC_HOME/verifier/verifier-key.json``."""
    from ..verifier.nonces import default_nonce_path

    return default_nonce_path(home).parent / VERIFIER_KEY_FILE


def verifier_signer(key: Path | None, password_file: Path | None) -> Any:
    """The verifier's signer (did:key of its keystore); the default keystore is created on first use."""
    from ..did import did_key_from_public_key
    from ..keys import KeySigner, KeyType, PrivateKey
    from ..keys.keystore import load_key, save_key

    path = key or verifier_key_path()
    password = read_password(password_file, prompt="Verifier keystore password")
    if path.exists():
        private = load_key(path, password)
    elif key is None:
        private = PrivateKey.generate(KeyType.ED25519)
        save_key(path, private, password, label="verifier")
        note(f"created the verifier key {path}")
    else:
        private = load_key(path, password)  # raises kaga:keystore-unreadable
    did = did_key_from_public_key(private.public_key)
    return KeySigner(private, f"{did}#{did.rsplit(':', 1)[-1]}")


def _home() -> Path:
    from .._home import default_home

    return default_home()


def log_key_path(option: Path | None) -> Path:
    from ..accesslog import DEFAULT_KEY_FILE, ENV_LOG_KEY

    if option is not None:
        return option
    env = os.environ.get(ENV_LOG_KEY)
    return Path(env) if env else _home() / DEFAULT_KEY_FILE


@contextmanager
def opened_log(target: str | None, key_file: Path | None = None, *, need_key: bool = False,
               create_key: bool = False, resolver: Any = None) -> Iterator[Any]:
    """Open the log for one command (with its key when the command needs it)."""
    from ..accesslog import AccessLog, load_or_create_log_key, log_url

    url = log_url(target)
    if url.startswith("sqlite:///") and not need_key and not Path(url[len("sqlite:///"):]).exists():
        from ..errors import LOG_UNAVAILABLE, AccessLogError

        raise AccessLogError(LOG_UNAVAILABLE, f"no access log at {url[len('sqlite:///'):]}")
    key = load_or_create_log_key(log_key_path(key_file), create=create_key) if need_key else None
    log = AccessLog.open(url, log_key=key, resolver=resolver)
    try:
        yield log
    finally:
        log.close()


@contextmanager
def verification_recorder(*, verifier_key: Path | None, log: str | None, category: str | None,
                          quiet: bool = False, password_file: Path | None = None) -> Iterator[Any]:
    """Unlock the verifier's key and open the access log BEFORE ``kaga-vc verify --request`` verifies.

    Yields the ``on_complete`` callback for :func:`kaga_vc.verifier.verify_response`: it records the
    outcome, accepted or refused, signed by the verifier's key, before the nonce is committed. A wrong
    password, an unusable log or another verifier's log (``kaga:log-verifier-mismatch``: a log is one
    verifier's) therefore fails first and consumes nothing (issue 13). The key is
    ``--verifier-key`` or the one ``kaga-vc request create`` made; without either the verification is
    not recorded, a warning says so (stderr), and ``None`` is yielded.
    """
    path = verifier_key or verifier_key_path()
    if not path.exists():
        note(f"[yellow]warning[/] not recorded in the access log: no verifier key at {path}")
        yield None
        return
    from ..accesslog import AccessEntry

    signer = verifier_signer(path, password_file)
    from ..did import DIDURL

    verifier = str(DIDURL.parse(signer.key_id).did)
    with opened_log(log, need_key=True, create_key=True) as opened:
        identity = opened.identity()
        if identity is not None and identity.verifier != verifier:  # before verifying: no nonce consumed
            from ..errors import LOG_VERIFIER_MISMATCH, AccessLogError

            raise AccessLogError(LOG_VERIFIER_MISMATCH, f"this access log is {identity.verifier}'s, not {verifier}'s "
                                 "(the verifier key's): a log is one verifier's — give this verifier its own --log")

        def record(result: Any) -> None:
            entry = AccessEntry.from_verification(result, verifier=verifier, verifier_category=category)
            recorded = opened.record(entry, signer=signer)
            if not quiet:
                note(f"recorded as access-log entry {recorded.seq}")

        yield record
