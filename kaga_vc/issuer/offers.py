"""Credential offers for OpenID4VCI's pre-authorized code flow, stored durably beside the issuance records.

An offer is what city staff hand a proofed resident (a QR code on screen or on a letter, the PIN by
another channel). What the database holds cannot be redeemed nor read by whoever reads the database:

- the pre-authorized code only as its SHA-256 (``code_hash``), the PIN only as SHA-256 over code and PIN
  (a 6-digit PIN cannot be brute-forced from the table without the code, which is not in it);
- the resident's claims encrypted (AES-256-GCM) under a key derived from the pre-authorized code, and,
  once a token was issued, again under a key derived from the access token (``token_claims``);
- access tokens and ``c_nonce`` values as their SHA-256.

Lifecycle: ``offered`` → (token request with the right PIN) ``offered`` with a live access token →
(credential issued) ``issued``. The offer is spent only in the transaction that records the issued
credential (:meth:`OfferStore.spend`, run inside :meth:`CityIssuer.issue`'s transaction): a wallet whose
credential request failed can ask again. Five wrong PINs lock the offer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .._encoding import b64url_encode
from ..errors import (
    ACCESS_TOKEN_INVALID,
    KEY_PROOF_NONCE_INVALID,
    OFFER_EXPIRED,
    OFFER_LOCKED,
    OFFER_TX_CODE_WRONG,
    OFFER_UNKNOWN,
    OFFER_USED,
    ProtocolError,
)

JSONObject = dict[str, Any]
MAX_PIN_ATTEMPTS = 5
DEFAULT_OFFER_LIFETIME = timedelta(days=30)
ACCESS_TOKEN_LIFETIME = timedelta(minutes=10)
C_NONCE_LIFETIME = timedelta(minutes=5)
PIN_LENGTH = 6

metadata = sa.MetaData()
offers_table = sa.Table(
    "oid4vci_offers", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("pin_hash", sa.String(64), nullable=True),
    sa.Column("configuration_id", sa.String(128), nullable=False),
    sa.Column("claims", sa.Text, nullable=False),  # encrypted under the pre-authorized code
    sa.Column("staff", sa.String(200), nullable=False),
    sa.Column("label", sa.String(200), nullable=True),  # e.g. the CSV row, never personal data
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("token_expires_at", sa.Integer, nullable=True),
    sa.Column("token_claims", sa.Text, nullable=True),  # encrypted under the access token
    sa.Column("credential_id", sa.String(200), nullable=True),
    sa.Column("issued_at", sa.Integer, nullable=True),
)
nonces_table = sa.Table(
    "oid4vci_nonces", metadata,
    sa.Column("nonce_hash", sa.String(64), primary_key=True),
    sa.Column("expires_at", sa.Integer, nullable=False),
)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _pin_hash(code: str, pin: str) -> str:
    return _sha256(f"{code}\x00{pin}")


def _seal(secret: str, aad: str, data: JSONObject) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(hashes.SHA256(), 32, salt=None, info=b"kaga-vc openid4vci offer claims").derive(secret.encode())
    nonce = secrets.token_bytes(12)
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return b64url_encode(nonce + AESGCM(key).encrypt(nonce, body, aad.encode()))


def _open(secret: str, aad: str, sealed: str) -> JSONObject:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from .._encoding import b64url_decode

    key = HKDF(hashes.SHA256(), 32, salt=None, info=b"kaga-vc openid4vci offer claims").derive(secret.encode())
    raw = b64url_decode(sealed)
    try:
        data = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode()))
    except (InvalidTag, ValueError):
        raise ProtocolError(OFFER_UNKNOWN, "the offer's stored claims do not open with this code",
                            oauth_error="invalid_grant") from None
    if not isinstance(data, dict):
        raise ProtocolError(OFFER_UNKNOWN, "the offer's stored claims are malformed", oauth_error="invalid_grant")
    return data


@dataclass(frozen=True, slots=True)
class CreatedOffer:
    """A new offer: the secrets (code, PIN) exist only here, for the QR code and the letter."""

    id: str
    pre_authorized_code: str
    tx_code: str | None
    configuration_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What a live access token grants: one credential of ``configuration_id`` with these claims."""

    offer_id: str
    configuration_id: str
    claims: JSONObject
    staff: str


def _now(now: datetime | None) -> int:
    return int((now or datetime.now(UTC)).timestamp())


class OfferStore:
    """Offers and ``c_nonce`` values in the issuance records' database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    # -- offers --------------------------------------------------------------------------------
    def create(self, configuration_id: str, claims: JSONObject, *, staff: str, with_pin: bool = True,
               lifetime: timedelta = DEFAULT_OFFER_LIFETIME, label: str | None = None, now: datetime | None = None,
               randbytes: Callable[[int], bytes] = secrets.token_bytes, conn: Connection | None = None) -> CreatedOffer:
        """Store a new offer; the returned code and PIN are not kept anywhere else."""
        created = _now(now)
        offer_id = randbytes(16).hex()
        code = b64url_encode(randbytes(32))
        pin = None
        if with_pin:
            pin = str(int.from_bytes(randbytes(8), "big") % 10**PIN_LENGTH).zfill(PIN_LENGTH)
        row = {
            "id": offer_id, "code_hash": _sha256(code), "pin_hash": _pin_hash(code, pin) if pin else None,
            "configuration_id": configuration_id, "claims": _seal(code, offer_id, claims), "staff": staff,
            "label": label, "created_at": created, "expires_at": created + int(lifetime.total_seconds()),
            "state": "offered", "attempts": 0,
        }
        if conn is not None:
            conn.execute(offers_table.insert().values(**row))
        else:
            with self.engine.begin() as c:
                c.execute(offers_table.insert().values(**row))
        return CreatedOffer(offer_id, code, pin, configuration_id,
                            datetime.fromtimestamp(int(str(row["expires_at"])), UTC))

    def create_many(self, items: Sequence[tuple[str, JSONObject, str | None]], *, staff: str, with_pin: bool = True,
                    lifetime: timedelta = DEFAULT_OFFER_LIFETIME, now: datetime | None = None) -> list[CreatedOffer]:
        """Store many offers in one transaction (``(configuration_id, claims, label)`` each)."""
        with self.engine.begin() as conn:
            return [self.create(cid, claims, staff=staff, with_pin=with_pin, lifetime=lifetime, label=label,
                                now=now, conn=conn) for cid, claims, label in items]

    def redeem(self, code: str, tx_code: str | None, *, now: datetime | None = None,
               randbytes: Callable[[int], bytes] = secrets.token_bytes) -> tuple[str, int]:
        """Token request: check the code and PIN, return ``(access_token, expires_in)``.

        A new token replaces an earlier unspent one (a wallet that lost its token may ask again
        with the PIN). Raises :class:`ProtocolError` ``kaga:offer-unknown`` / ``-tx-code-wrong`` /
        ``-locked`` / ``-used`` / ``-expired`` (OAuth ``invalid_grant``).
        """
        at = _now(now)
        if not isinstance(code, str) or not code or len(code) > 200:
            raise ProtocolError(OFFER_UNKNOWN, "no pre-authorized code", oauth_error="invalid_grant")
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(offers_table).where(offers_table.c.code_hash == _sha256(code))
                               .with_for_update()).mappings().first()
            if row is None:
                raise ProtocolError(OFFER_UNKNOWN, "no offer has this pre-authorized code", oauth_error="invalid_grant")
            if row["state"] == "issued":
                raise ProtocolError(OFFER_USED, "this offer's credential was already issued", oauth_error="invalid_grant")
            if row["state"] == "locked":
                raise ProtocolError(OFFER_LOCKED, "too many wrong transaction codes: ask the city for a new offer",
                                    oauth_error="invalid_grant")
            if at >= row["expires_at"]:
                raise ProtocolError(OFFER_EXPIRED, "this offer has expired: ask the city for a new one",
                                    oauth_error="invalid_grant")
            if row["pin_hash"] is not None:
                given = _pin_hash(code, tx_code) if isinstance(tx_code, str) and len(tx_code) <= 64 else ""
                if not hmac.compare_digest(given, row["pin_hash"]):
                    attempts = row["attempts"] + 1
                    state = "locked" if attempts >= MAX_PIN_ATTEMPTS else row["state"]
                    conn.execute(offers_table.update().where(offers_table.c.id == row["id"])
                                 .values(attempts=attempts, state=state))
                    # committed on purpose: the count of wrong PINs must survive this refusal
                    error = ProtocolError(OFFER_TX_CODE_WRONG, "the transaction code (PIN) is wrong",
                                          oauth_error="invalid_grant", attempts_left=MAX_PIN_ATTEMPTS - attempts)
                else:
                    error = None
            else:
                error = None
            if error is None:
                claims = _open(code, row["id"], row["claims"])
                token = b64url_encode(randbytes(32))
                lifetime = int(ACCESS_TOKEN_LIFETIME.total_seconds())
                conn.execute(offers_table.update().where(offers_table.c.id == row["id"]).values(
                    token_hash=_sha256(token), token_expires_at=at + lifetime,
                    token_claims=_seal(token, row["id"], claims)))
        if error is not None:
            raise error
        return token, lifetime

    def granted(self, access_token: str, *, now: datetime | None = None) -> Redeemed:
        """What a live access token grants; ``kaga:access-token-invalid`` / ``kaga:offer-used`` otherwise."""
        if not isinstance(access_token, str) or not access_token or len(access_token) > 200:
            raise ProtocolError(ACCESS_TOKEN_INVALID, "no access token", oauth_error="invalid_token", status=401)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(offers_table).where(offers_table.c.token_hash == _sha256(access_token))
                               ).mappings().first()
        if row is None:
            raise ProtocolError(ACCESS_TOKEN_INVALID, "unknown access token", oauth_error="invalid_token", status=401)
        if row["state"] == "issued":
            raise ProtocolError(OFFER_USED, "this offer's credential was already issued",
                                oauth_error="invalid_token", status=401)
        if row["state"] != "offered" or _now(now) >= (row["token_expires_at"] or 0):
            raise ProtocolError(ACCESS_TOKEN_INVALID, "the access token has expired", oauth_error="invalid_token",
                                status=401)
        return Redeemed(row["id"], row["configuration_id"], _open(access_token, row["id"], row["token_claims"]),
                        row["staff"])

    def spend(self, conn: Connection | None, access_token: str, c_nonce: str, credential_id: str, *,
              now: datetime | None = None) -> None:
        """Mark the offer issued and consume the ``c_nonce``, in the caller's transaction.

        Called from inside the issuance transaction: if either was already spent (a concurrent or
        replayed request), this raises and the credential, its record and status index roll back.
        """
        at = _now(now)

        def work(c: Connection) -> None:
            done = c.execute(offers_table.update().where(
                offers_table.c.token_hash == _sha256(access_token), offers_table.c.state == "offered",
                offers_table.c.token_expires_at > at,
            ).values(state="issued", credential_id=credential_id, issued_at=at, token_claims=None, claims=""))
            if done.rowcount != 1:
                raise ProtocolError(OFFER_USED, "this offer's credential was already issued",
                                    oauth_error="invalid_token", status=401)
            self._consume_nonce(c, c_nonce, at)

        if conn is None:
            with self.engine.begin() as c:
                work(c)
        else:
            work(conn)

    def get(self, offer_id: str) -> JSONObject | None:
        """The public facts of one offer (state, dates, label), never its claims or secrets."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(offers_table).where(offers_table.c.id == offer_id)).mappings().first()
        if row is None:
            return None
        return {"id": row["id"], "configurationId": row["configuration_id"], "state": row["state"],
                "label": row["label"], "staff": row["staff"], "attempts": row["attempts"],
                "createdAt": datetime.fromtimestamp(row["created_at"], UTC).isoformat(),
                "expiresAt": datetime.fromtimestamp(row["expires_at"], UTC).isoformat(),
                "credentialId": row["credential_id"]}

    # -- c_nonce -------------------------------------------------------------------------------
    def new_nonce(self, *, now: datetime | None = None, randbytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
        """A fresh ``c_nonce`` (Nonce Endpoint); stored as its hash until used or expired."""
        at = _now(now)
        nonce = b64url_encode(randbytes(24))
        with self.engine.begin() as conn:
            conn.execute(nonces_table.delete().where(nonces_table.c.expires_at < at))
            conn.execute(nonces_table.insert().values(nonce_hash=_sha256(nonce),
                                                      expires_at=at + int(C_NONCE_LIFETIME.total_seconds())))
        return nonce

    def check_nonce(self, nonce: Any, *, now: datetime | None = None) -> None:
        """Refuse (``kaga:key-proof-nonce-invalid``) a nonce that is not live; consumes nothing."""
        if not isinstance(nonce, str) or not nonce or len(nonce) > 200:
            raise ProtocolError(KEY_PROOF_NONCE_INVALID, "the key proof has no nonce", oauth_error="invalid_nonce")
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(nonces_table.c.expires_at).where(
                nonces_table.c.nonce_hash == _sha256(nonce))).first()
        if row is None or row[0] <= _now(now):
            raise ProtocolError(KEY_PROOF_NONCE_INVALID, "the key proof's nonce is unknown, used or expired",
                                oauth_error="invalid_nonce")

    def _consume_nonce(self, conn: Connection, nonce: str, at: int) -> None:
        done = conn.execute(nonces_table.delete().where(nonces_table.c.nonce_hash == _sha256(nonce),
                                                        nonces_table.c.expires_at > at))
        if done.rowcount != 1:
            raise ProtocolError(KEY_PROOF_NONCE_INVALID, "the key proof's nonce is unknown, used or expired",
                                oauth_error="invalid_nonce")


__all__ = ["CreatedOffer", "OfferStore", "Redeemed"]
