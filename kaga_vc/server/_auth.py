"""Who may call the admin endpoints (issue, status changes): the city's staff, by bearer token.

The tokens file is sealed in the keystore's scheme (scrypt → AES-256-GCM, header bound as associated
data) under the keystore password, so a copy of the file gives neither the tokens nor who holds them.
Inside: each client's name, the SHA-256 of its secret and its scopes, plus a random key that signs
short-lived OAuth2 access tokens. A client authenticates either

* with its secret as a bearer token (``Authorization: Bearer <secret>``), or
* with OAuth2 client credentials (RFC 6749 §4.4: ``POST /oauth2/token``, ``grant_type=client_credentials``,
  client id and secret by HTTP Basic or in the form) and then the access token it was given.

Access tokens are ``kat1.<payload>.<HMAC-SHA256>``, checked by every worker with the shared key; they
expire after :data:`ACCESS_TOKEN_TTL`. Comparisons are constant time; nothing here logs a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._encoding import b64url_decode, b64url_encode
from ..errors import ADMIN_TOKENS_INVALID, FORBIDDEN, UNAUTHORIZED, AuthError, InputError, KagaError

FORMAT = "kaga-vc/admin-tokens/1"
SCOPES = ("issue", "status")
ACCESS_TOKEN_TTL = 3600
_PREFIX = "kat1."


@dataclass(frozen=True, slots=True)
class Client:
    name: str
    secret_sha256: str
    scopes: tuple[str, ...]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class AdminAuth:
    """The admin clients and the access-token key, opened from a sealed tokens file."""

    def __init__(self, clients: Iterable[Client], token_key: bytes) -> None:
        self.clients = {c.name: c for c in clients}
        self._token_key = token_key

    def __repr__(self) -> str:
        return f"AdminAuth({len(self.clients)} client(s))"

    # -- the file ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], password: str) -> AdminAuth:
        data = _open_file(Path(path), password)
        try:
            clients = [Client(str(c["name"]), str(c["secretSha256"]), tuple(str(s) for s in c["scopes"]))
                       for c in data["clients"]]
            key = b64url_decode(data["tokenKey"])
        except (KeyError, TypeError, ValueError, InputError):
            raise InputError(ADMIN_TOKENS_INVALID, "the admin tokens file is malformed") from None
        return cls(clients, key)

    # -- checking ---------------------------------------------------------------------------------

    def client_for_secret(self, client_id: str | None, secret: str) -> Client:
        digest = _digest(secret)
        found = None
        for client in self.clients.values():  # constant time over every client: no early exit
            if hmac.compare_digest(client.secret_sha256, digest) and (client_id is None or client.name == client_id):
                found = client
        if found is None:
            raise AuthError(UNAUTHORIZED, "unknown client or wrong secret")
        return found

    def issue_access_token(self, client: Client, *, now: float | None = None) -> tuple[str, int]:
        expires = int((now or time.time()) + ACCESS_TOKEN_TTL)
        payload = b64url_encode(json.dumps({"sub": client.name, "scope": list(client.scopes), "exp": expires},
                                           separators=(",", ":")).encode())
        mac = b64url_encode(hmac.new(self._token_key, payload.encode(), hashlib.sha256).digest())
        return f"{_PREFIX}{payload}.{mac}", ACCESS_TOKEN_TTL

    def authenticate(self, authorization: str | None, scope: str, *, now: float | None = None) -> str:
        """The client name behind an ``Authorization`` header allowed ``scope``; AuthError otherwise."""
        if not authorization or not authorization[:7].lower() == "bearer ":
            raise AuthError(UNAUTHORIZED, "this endpoint needs an admin bearer token")
        token = authorization[7:].strip()
        if token.startswith(_PREFIX):
            name, scopes = self._check_access_token(token, now)
        else:
            client = self.client_for_secret(None, token)
            name, scopes = client.name, client.scopes
        if scope not in scopes:
            raise AuthError(FORBIDDEN, f"this client may not {scope}")
        return name

    def _check_access_token(self, token: str, now: float | None) -> tuple[str, tuple[str, ...]]:
        try:
            payload, mac = token[len(_PREFIX):].split(".")
            expected = b64url_encode(hmac.new(self._token_key, payload.encode(), hashlib.sha256).digest())
            if not hmac.compare_digest(expected, mac):
                raise AuthError(UNAUTHORIZED, "the access token is not valid")
            claims = json.loads(b64url_decode(payload))
            name, scopes, exp = str(claims["sub"]), tuple(str(s) for s in claims["scope"]), int(claims["exp"])
        except (ValueError, KeyError, TypeError, InputError):
            raise AuthError(UNAUTHORIZED, "the access token is not valid") from None
        if exp < (now or time.time()):
            raise AuthError(UNAUTHORIZED, "the access token has expired")
        if name not in self.clients:  # a client removed from the file loses its tokens at the next restart
            raise AuthError(UNAUTHORIZED, "the access token's client is no longer known")
        return name, scopes


def _open_file(path: Path, password: str) -> Any:
    from ..keys.keystore import derive_data_key, open_sealed

    try:
        sealed = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(sealed, dict) or sealed.get("format") != FORMAT:
            raise ValueError("not an admin tokens file")
        plain = open_sealed(derive_data_key(password, sealed["kdf"]), sealed)
        return json.loads(plain)
    except KagaError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(ADMIN_TOKENS_INVALID, f"cannot read the admin tokens file ({type(exc).__name__})") from None


def list_clients(path: str | os.PathLike[str], password: str) -> list[tuple[str, tuple[str, ...]]]:
    """``(name, scopes)`` of every client in the tokens file (never a secret: the file holds none)."""
    auth = AdminAuth.open(path, password)
    return [(c.name, c.scopes) for c in auth.clients.values()]


def remove_client(path: str | os.PathLike[str], password: str, name: str) -> None:
    """Remove a client (its secret stops working; its access tokens at the servers' next restart)."""
    from ..keys.keystore import derive_data_key, new_kdf_params, seal_data, write_private_file

    target = Path(path)
    data = _open_file(target, password)
    kept = [c for c in data["clients"] if c.get("name") != name]
    if len(kept) == len(data["clients"]):
        raise InputError("MALFORMED_VALUE_ERROR", f"no client named {name!r}")
    data["clients"] = kept
    old = json.loads(target.read_text(encoding="utf-8"))["kdf"]
    kdf = new_kdf_params(int(old["n"]))
    sealed = seal_data(derive_data_key(password, kdf), json.dumps(data).encode(), {"format": FORMAT, "kdf": kdf})
    write_private_file(target, json.dumps(sealed, indent=2) + "\n")


def add_client(path: str | os.PathLike[str], password: str, name: str, *,
               scopes: Iterable[str] = SCOPES, scrypt_n: int | None = None) -> str:
    """Add a client to the tokens file (created if missing) and return its secret, shown only once."""
    from ..keys.keystore import derive_data_key, new_kdf_params, seal_data, write_private_file

    scopes = tuple(scopes)
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InputError("MALFORMED_VALUE_ERROR", "a client name is letters, digits, - _ .")
    if any(s not in SCOPES for s in scopes):
        raise InputError("MALFORMED_VALUE_ERROR", f"scopes are {', '.join(SCOPES)}")
    target = Path(path)
    if target.exists():
        data = _open_file(target, password)
        if any(c.get("name") == name for c in data["clients"]):
            raise InputError("MALFORMED_VALUE_ERROR", f"a client named {name!r} exists already")
    else:
        data = {"clients": [], "tokenKey": b64url_encode(secrets.token_bytes(32))}
    secret = secrets.token_urlsafe(32)
    data["clients"].append({"name": name, "secretSha256": _digest(secret), "scopes": list(scopes)})
    kdf = new_kdf_params(scrypt_n) if scrypt_n else new_kdf_params()
    sealed = seal_data(derive_data_key(password, kdf), json.dumps(data).encode(), {"format": FORMAT, "kdf": kdf})
    write_private_file(target, json.dumps(sealed, indent=2) + "\n")
    return secret
