"""The issuers a server signs for: keystores (did:key, for the W3C suites) and the city (did:ethr).

:meth:`ServedIssuer.issue` is what ``POST /credentials/issue`` calls: it secures the credential it
is given with a Data Integrity proof, changing no member of it, except that an issuer keeping status
lists adds ``BitstringStatusListEntry`` values (revocation and suspension) when the credential has no
``credentialStatus`` of its own. The status index claim and the issuance record commit in one
transaction before the credential is returned, as ``CityIssuer.issue`` does.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..credentials import DATA_INTEGRITY, credential_digest, issue_credential
from ..did import did_key_from_public_key
from ..errors import (
    ISSUER_UNKNOWN,
    MALFORMED_VALUE_ERROR,
    UNSUPPORTED_CRYPTOSUITE,
    InputError,
    UnsupportedError,
)
from ..keys import KeySigner, KeyType
from ..proofs import default_suites, suite_for_key_type
from ._settings import IssuerSettings, ServerSettings

JSONObject = dict[str, Any]
T = TypeVar("T")

STATUS_LIST_VALIDITY = timedelta(days=1)  # a hosted list credential's validUntil: fresh, re-signed on demand
STATUS_LIST_TTL = timedelta(minutes=5)  # how long a verifier may cache it (the spec's ``ttl``, and Cache-Control)
_KNOWN_OPTIONS = {"created", "credentialStatus", "credentialId", "mandatoryPointers", "cryptosuite", "type",
                  "proofPurpose", "challenge", "domain"}


def _cryptosuite_name(key_type: KeyType) -> str:
    return str(suite_for_key_type(key_type).name)


@dataclass(slots=True)
class ServedIssuer:
    """One issuer: its DID, its assertion signer, and (optionally) its status lists and records."""

    name: str
    did: str
    signer: KeySigner
    status: Any = None  # kaga_vc.status.StatusLists
    records: Any = None  # kaga_vc.issuer.records.IssuanceStore
    # StatusLists keeps what it knows of the current list in memory: one allocation at a time per worker
    # (the database's uniqueness constraint is what keeps indices unique across workers)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # the city's keys_published_at: a proof is never dated before the key was on the registry (block times
    # can run ahead of the wall clock), or a verifier resolving the DID at that time would not find the key
    not_before: datetime | None = None

    @property
    def cryptosuite(self) -> str:
        return _cryptosuite_name(self.signer.key_type)

    @property
    def status_base_url(self) -> str | None:
        return None if self.status is None else str(self.status.base_url)

    def describe(self) -> JSONObject:
        return {"name": self.name, "id": self.did, "verificationMethod": self.signer.key_id,
                "cryptosuite": self.cryptosuite, "statusLists": self.status_base_url}

    def issue(self, credential: Any, options: Any = None, *, staff: str = "vc-api") -> JSONObject:
        """Secure ``credential`` (VC-API ``IssueCredentialRequest``); InputError for bad input."""
        if not isinstance(credential, dict):
            raise InputError(MALFORMED_VALUE_ERROR, "credential must be a JSON object")
        if "issuer" not in credential:
            # VCDM 2.0 §4.7: issuer is required; the VC-API issuer suite refuses a server that fills it in
            raise InputError(MALFORMED_VALUE_ERROR, "credential has no issuer", property="issuer")
        options = _options(options)
        suite = None
        wanted = options.get("cryptosuite")
        if wanted is not None:
            suite = default_suites().get(wanted) if isinstance(wanted, str) else None
            if suite is None or wanted != self.cryptosuite:
                raise UnsupportedError(UNSUPPORTED_CRYPTOSUITE, f"this issuer signs with {self.cryptosuite} only")
        created = _created(options.get("created"))
        if created is None and self.not_before is not None and datetime.now(UTC) < self.not_before:
            created = self.not_before
        if self.status is None or "credentialStatus" in credential:
            return issue_credential(credential, signer=self.signer, suite=suite, created=created)
        return self._issue_with_status(credential, suite, created, staff)

    def _issue_with_status(self, credential: JSONObject, suite: Any, created: datetime | None,
                           staff: str) -> JSONObject:
        now = (created or datetime.now(UTC)).replace(microsecond=0)
        given = credential.get("id")
        record_id = given if isinstance(given, str) else f"urn:uuid:{uuid.uuid4()}"
        types = credential.get("type")
        type_name = types[-1] if isinstance(types, list) and types and isinstance(types[-1], str) else "VerifiableCredential"
        subject = credential.get("credentialSubject")
        subject_id = subject.get("id") if isinstance(subject, dict) else None
        subject_did = subject_id if isinstance(subject_id, str) and subject_id.startswith("did:") else None
        with self.lock:
            return self._issue_locked(credential, suite, created, staff, now, record_id, type_name, subject_did)

    def _issue_locked(self, credential: JSONObject, suite: Any, created: datetime | None, staff: str,
                      now: datetime, record_id: str, type_name: str, subject_did: str | None) -> JSONObject:
        try:
            with self.records.transaction() as conn:
                entries = self.status.allocate_entries(now=now, conn=conn)
                document = dict(credential)
                document["credentialStatus"] = [entry.to_credential_status() for entry in entries]
                secured = issue_credential(document, signer=self.signer, suite=suite, created=created)
                self.records.record_issued(record_id, type_name, subject_did, entries[0].list_id, entries[0].index,
                                           staff, DATA_INTEGRITY, now, conn=conn, digest=credential_digest(secured),
                                           verification_method=self.signer.key_id)
        except BaseException:
            self.status.forget()
            raise
        return secured

    def sign_status_list(self, unsigned: JSONObject) -> JSONObject:
        return issue_credential(unsigned, signer=self.signer)

    def close(self) -> None:
        if self.records is not None:
            self.records.close()


def _options(options: Any) -> JSONObject:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise InputError(MALFORMED_VALUE_ERROR, "options must be a JSON object")
    unknown = sorted(set(options) - _KNOWN_OPTIONS)
    if unknown:
        raise InputError(MALFORMED_VALUE_ERROR, f"unknown option(s) {unknown}")
    return options


def _created(value: Any) -> datetime | None:
    if value is None:
        return None
    from ..proofs.data_integrity import parse_datetime

    return parse_datetime(value, "options.created")


def _did_key_signer(path: Path, password: str) -> KeySigner:
    from ..keys.keystore import load_key

    key = load_key(path, password)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")


def open_issuers(settings: ServerSettings, password: str | None) -> dict[str, ServedIssuer]:
    """Open every configured issuer (keystores decrypted, records and status lists opened)."""
    issuers: dict[str, ServedIssuer] = {}
    for item in settings.issuers:
        issuers[item.name] = _open(item, settings, password)
    return issuers


def _open(item: IssuerSettings, settings: ServerSettings, password: str | None) -> ServedIssuer:
    if password is None:
        raise InputError("kaga:password-required", f"issuer {item.name!r} needs the keystore password")
    if item.city:
        from ..issuer import open_city_issuer

        city = _first_open(lambda: open_city_issuer(password, home=settings.home, records_url=settings.records_url))
        published = None
        try:
            published = datetime.fromisoformat(city.config.keys_published_at).astimezone(UTC)
        except ValueError:
            pass
        return ServedIssuer(item.name, city.did, city.ed25519_signer, city.status, city.records, not_before=published)
    if not item.keystore:
        raise InputError(MALFORMED_VALUE_ERROR, f"issuer {item.name!r} has no keystore")
    signer = _did_key_signer(Path(item.keystore), password)
    served = ServedIssuer(item.name, str(signer.key_id).split("#", 1)[0], signer)
    if item.status:
        from ..issuer.records import IssuanceStore
        from ..status import StatusLists

        home = Path(settings.home) if settings.home else None
        url = _issuer_records_url(item, settings, home)
        store = _first_open(lambda: IssuanceStore.open(url))
        served.records = store
        served.status = StatusLists(store, f"{settings.base_url.rstrip('/')}/issuers/{item.name}/status")
    return served


def _first_open(open_one: Callable[[], T]) -> T:
    """Open a records store, retrying briefly: workers starting together race to create the tables of a
    new PostgreSQL database and one loses (``kaga:records-unavailable``; TODO issue 13: a safe first open)."""
    import time

    from ..errors import RecordsError

    for attempt in range(5):
        try:
            return open_one()
        except RecordsError:
            time.sleep(0.2 * (attempt + 1))
    return open_one()


def _issuer_records_url(item: IssuerSettings, settings: ServerSettings, home: Path | None) -> str:
    """A keystore issuer's own records: its ``records_url``, else a SQLite file beside the others (lists
    are per issuer: two issuers never share a records database)."""
    if item.records_url:
        return item.records_url
    if home is None:
        from .._home import default_home

        home = default_home()
    directory = home / "server"
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / f'issuer-{item.name}.sqlite3'}"


def find_issuer(issuers: Mapping[str, ServedIssuer], name: str | None) -> ServedIssuer:
    """The issuer of that name (or the first one configured); ``kaga:issuer-unknown`` otherwise."""
    if name is None:
        for issuer in issuers.values():
            return issuer
        raise InputError(ISSUER_UNKNOWN, "this server has no issuer configured")
    found = issuers.get(name)
    if found is None:
        raise InputError(ISSUER_UNKNOWN, f"no issuer named {name!r}")
    return found


def status_path(issuer: ServedIssuer) -> str | None:
    """The URL path below which ``issuer``'s status list credentials are hosted."""
    base = issuer.status_base_url
    return None if base is None else urlsplit(base).path.rstrip("/")
