"""The city's issuing service: its did:ethr, its keys, and :meth:`CityIssuer.issue` in every format.

City setup (:func:`init_city`) creates four keys in encrypted keystores under ``$KAGA_VC_HOME/city``:
the DID owner (secp256k1, controls the registry entry and signs nothing else), the assertion key
(Ed25519: Data Integrity ``eddsa-rdfc-2022``, ``vc+jwt`` and SD-JWT VC) and a secp256k1 assertion key
(ES256K, for the VC 1.1 JWT encoding that did-jwt-vc speaks), and the bundle key (Ed25519, signs
trust bundles under the owner's certificate, :mod:`kaga_vc.issuer.bundle_keys`). Both assertion keys,
the bundle key (as a ``KagaBundleKey`` service) and a service endpoint are published as ERC-1056 attributes of the city's did:ethr. ``city.json`` beside the
keystores holds only public data (the DID, the verification method ids, the chain).

Every credential gets Bitstring Status List entries (revocation and suspension, random indexes)
and an issuance record (:mod:`kaga_vc.issuer.records`), both provided by their own modules.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from .._files import write_atomically
from ..credentials.digest import credential_digest
from ..credentials.formats import DATA_INTEGRITY, JWT_VC11, SD_JWT, VC_JWT
from ..credentials.kaga import CredentialKind, build_credential, check_subject_did, validate_claims
from ..errors import MALFORMED_VALUE_ERROR, UNSUPPORTED_FORMAT, InputError, KagaError
from ..keys import KeySigner, KeyType, PrivateKey, PublicKey

# The formats come from credentials.formats, not credentials.verify, and the bundle signer is imported
# where it is used: the batch's signing workers import this module and neither verify nor sign bundles.
if TYPE_CHECKING:
    from ..verifier.bundle_key import BundleKeySigner

JSONObject = dict[str, Any]

CITY_EXISTS = "kaga:city-exists"
CITY_NOT_INITIALISED = "kaga:city-not-initialised"

DEFAULT_SERVICE_ENDPOINT = "https://city.kaga.ishikawa.jp"
SERVICE_TYPE = "LinkedDomains"
CITY_FILE = "city.json"
OWNER_FILE, ED25519_FILE, SECP256K1_FILE = "owner.json", "assertion-ed25519.json", "assertion-secp256k1.json"

# CLI spelling → format constant (kaga_vc.credentials.verify); the constants are accepted too.
FORMATS: dict[str, str] = {"data-integrity": DATA_INTEGRITY, "vc-jwt": VC_JWT, "jwt-vc11": JWT_VC11, "sd-jwt": SD_JWT}
DEFAULT_FORMAT = "sd-jwt"


def parse_format(value: str) -> str:
    """The format constant for a CLI spelling (``sd-jwt``) or a constant (``dc+sd-jwt``)."""
    if value in FORMATS:
        return FORMATS[value]
    if value in FORMATS.values():
        return value
    # the caller's option value, not something received: bad input (exit 3), not "invalid"
    raise InputError(UNSUPPORTED_FORMAT, f"format must be one of {', '.join(FORMATS)}")


def city_dir(home: str | os.PathLike[str] | None = None) -> Path:
    """``<home>/city``, with ``home`` defaulting to ``$KAGA_VC_HOME`` (else the user data dir)."""
    if home is None:
        from .._home import default_home

        home = default_home()
    return Path(home) / "city"


@dataclass(frozen=True, slots=True)
class CityConfig:
    """The public half of the city's setup (``city.json``): no secret lives here."""

    did: str
    ed25519_method: str
    secp256k1_method: str
    service_endpoint: str
    chain_id: int
    rpc_url: str | None = None
    registry: str | None = None
    created_at: str = ""
    # When the keys above were last changed on the registry (the block's time). A credential must not
    # claim to be valid before its key was published: block times can run ahead of the wall clock
    # (the embedded chain stamps a burst of blocks one second apart), and a verifier that resolves the
    # issuer's DID at the credential's issuance time would not find the key yet.
    keys_published_at: str = ""
    # The keystores (under the city directory) of the current assertion keys: `city rotate-key`
    # writes new ones and records them here, so issuance and status-list signing follow.
    ed25519_file: str = ED25519_FILE
    secp256k1_file: str = SECP256K1_FILE
    # The bundle-signing key (kaga_vc.verifier.bundle_key): its keystore under the city directory and
    # the owner key's certificate for it (public). Empty in a city made before bundle keys.
    bundle_key_file: str = ""
    bundle_key_certificate: str = ""

    @property
    def status_base_url(self) -> str:
        """Where the status list credentials are served: ``<service endpoint>/status``."""
        return self.service_endpoint.rstrip("/") + "/status"

    def to_json(self) -> JSONObject:
        return {"kagaVcCity": 1, **asdict(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CityConfig:
        if data.get("kagaVcCity") != 1:
            raise InputError(MALFORMED_VALUE_ERROR, "city.json is not a kaga-vc city configuration")
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


def read_city(home: str | os.PathLike[str] | None = None) -> CityConfig:
    """The city's configuration; ``kaga:city-not-initialised`` before ``kaga-vc city init``."""
    path = city_dir(home) / CITY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(CITY_NOT_INITIALISED, "no city here yet: run `kaga-vc city init` first") from None
    except (OSError, ValueError):
        raise InputError(MALFORMED_VALUE_ERROR, f"{path} is unreadable") from None
    return CityConfig.from_json(data)


def _chain_settings(config: CityConfig | None, rpc_url: str | None, registry: str | None,
                    chain_id: int | None, home: Path) -> Any:
    from ..registry import ChainSettings

    if config is not None:
        return ChainSettings(rpc_url=config.rpc_url, registry=config.registry, chain_id=config.chain_id, home=home)
    return ChainSettings.from_env(rpc_url=rpc_url, registry=registry, chain_id=chain_id, home=home)


def _key(path: Path, key_type: KeyType, password: str, label: str, scrypt_n: int | None) -> PrivateKey:
    """Load the keystore at ``path``, or create it (a resumed ``city init`` reuses what exists)."""
    from ..keys.keystore import DEFAULT_SCRYPT_N, load_key, save_key

    if path.exists():
        key = load_key(path, password)
        if key.key_type is not key_type:
            raise InputError(MALFORMED_VALUE_ERROR, f"{path.name} holds a {key.key_type.value} key, not {key_type.value}")
        return key
    key = PrivateKey.generate(key_type)
    save_key(path, key, password, label=label, scrypt_n=scrypt_n or DEFAULT_SCRYPT_N)
    return key


def _find_method(document: JSONObject, public_key: PublicKey) -> str | None:
    from ..did import DIDDocument

    for method in DIDDocument(document).verification_methods():
        try:
            if method.public_key() == public_key:
                return method.id
        except KagaError:
            continue
    return None


def init_city(
    password: str,
    *,
    home: str | os.PathLike[str] | None = None,
    service_endpoint: str = DEFAULT_SERVICE_ENDPOINT,
    rpc_url: str | None = None,
    registry: str | None = None,
    chain_id: int | None = None,
    scrypt_n: int | None = None,
) -> tuple[CityConfig, bool]:
    """Create the city's keys and did:ethr (assertion keys and service endpoint on the registry).

    Returns ``(config, created)``. An existing city is returned untouched (``created`` False): keys
    are never replaced. A setup interrupted midway resumes with the keys already written and
    publishes only what the registry does not list yet. The chain is the embedded one in ``home``
    unless ``rpc_url``/``registry`` (or ``$KAGA_VC_RPC_URL``/``$KAGA_VC_REGISTRY``) name a node.
    """
    directory = city_dir(home)
    if (directory / CITY_FILE).exists():
        return read_city(home), False
    from ..did import Resolver
    from ..keys import ethereum_address
    from ..registry import (
        close_registry,
        did_for,
        ethr_method,
        key_attribute,
        open_registry,
        service_attribute,
    )

    if not service_endpoint.startswith("https://"):
        raise InputError(MALFORMED_VALUE_ERROR, "the service endpoint must be an https:// URL")
    directory.mkdir(parents=True, exist_ok=True)
    owner = _key(directory / OWNER_FILE, KeyType.SECP256K1, password, "city DID owner", scrypt_n)
    ed25519 = _key(directory / ED25519_FILE, KeyType.ED25519, password, "city assertion (Ed25519)", scrypt_n)
    secp = _key(directory / SECP256K1_FILE, KeyType.SECP256K1, password, "city assertion (ES256K)", scrypt_n)
    settings = _chain_settings(None, rpc_url, registry, chain_id, Path(home) if home is not None else directory.parent)
    reg = open_registry(settings)
    try:
        did = did_for(reg, ethereum_address(owner.public_key))
        resolver = Resolver({"ethr": ethr_method(reg)})
        document = resolver.resolve(did).did_document
        address = ethereum_address(owner.public_key)
        for public_key in (ed25519.public_key, secp.public_key):
            if _find_method(document, public_key) is None:
                name, value = key_attribute(public_key, "veriKey")
                reg.set_attribute(address, name, value, signer=owner)
        if not any(s.get("serviceEndpoint") == service_endpoint for s in document.get("service", [])):
            name, value = service_attribute(SERVICE_TYPE, service_endpoint)
            reg.set_attribute(address, name, value, signer=owner)
        resolved = resolver.resolve(did)
        document = resolved.did_document
        ed_id, k1_id = _find_method(document, ed25519.public_key), _find_method(document, secp.public_key)
        if ed_id is None or k1_id is None:  # pragma: no cover - the registry just listed them
            raise KagaError("kaga:city-setup-failed", "the assertion keys are not in the resolved DID document")
        from .bundle_keys import bundle_key_file, publish_bundle_key

        bundle_key = _key(directory / bundle_key_file(1), KeyType.ED25519, password, "city bundle key", scrypt_n)
        certificate = publish_bundle_key(reg, owner, did, bundle_key, 1)
        config = CityConfig(
            did=did, ed25519_method=ed_id, secp256k1_method=k1_id, service_endpoint=service_endpoint,
            chain_id=reg.chain_id, rpc_url=settings.rpc_url, registry=settings.registry if settings.rpc_url else None,
            created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            keys_published_at=str(resolved.did_document_metadata.get("updated", "")),
            bundle_key_file=bundle_key_file(1), bundle_key_certificate=certificate.token,
        )
    finally:
        close_registry(reg)
    _write_json(directory / CITY_FILE, config.to_json())
    return config, True


def _write_json(path: Path, data: JSONObject) -> None:
    write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", mode=0o644)


# --- what the issuer needs from the status and records layers -----------------------------------


class StatusAllocator(Protocol):
    """Allocates one status list index with an entry per purpose (:class:`kaga_vc.status.StatusLists`)."""

    def allocate_entries(self, *, now: datetime | None = None, conn: Any = None) -> Sequence[Any]: ...


class IssuanceRecorder(Protocol):
    """Stores what status management and audit need about one issued credential, no claims
    (:class:`kaga_vc.issuer.records.IssuanceStore`)."""

    def record_issued(self, credential_id: str, type: str, subject_did: str | None, status_list_id: str | None,
                      status_index: int | None, staff: str, format: str, issued_at: datetime, *,
                      conn: Any = None, digest: bytes | None = None, verification_method: str | None = None,
                      ) -> Any: ...


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """One issued credential: ``document`` is a JSON object (Data Integrity) or a compact token."""

    id: str
    kind: CredentialKind
    format: str
    subject: str
    document: JSONObject | str
    issued_at: datetime
    status: list[JSONObject] = field(default_factory=list)
    status_list_id: str | None = None
    status_index: int | None = None
    verification_method: str | None = None
    """The verification method that signed it."""

    def serialise(self) -> str:
        """The file form: pretty JSON for Data Integrity, the token plus a newline otherwise."""
        if isinstance(self.document, dict):
            return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"
        return self.document + "\n"


class CityIssuer:
    """Issues the city's credentials with its did:ethr keys (see :func:`open_city_issuer`)."""

    def __init__(
        self,
        config: CityConfig,
        *,
        ed25519: PrivateKey,
        secp256k1: PrivateKey,
        status: StatusAllocator | None = None,
        records: IssuanceRecorder | None = None,
    ) -> None:
        self.config = config
        self.did = config.did
        self.ed25519_signer = KeySigner(ed25519, config.ed25519_method)
        self.secp256k1_signer = KeySigner(secp256k1, config.secp256k1_method)
        self.status = status
        self.records = records

    def close(self) -> None:
        """Close the issuance records (if they can be closed)."""
        close = getattr(self.records, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _earliest_issuance(self, wall_clock: datetime) -> datetime:
        """The wall clock, but never before the city's keys were published (see ``keys_published_at``)."""
        published = _published_at(self.config.keys_published_at)
        return max(wall_clock, published) if published is not None else wall_clock

    def issue(
        self,
        type: CredentialKind | str,
        subject_did: str,
        claims: Mapping[str, Any],
        *,
        format: str = DEFAULT_FORMAT,
        staff: str = "",
        holder_key: PublicKey | None = None,
        now: datetime | None = None,
        valid_for: timedelta | None = None,
        credential_id: str | None = None,
        record: bool = True,
        within: Any = None,
    ) -> IssuedCredential:
        """Validate ``claims``, build the credential, add status entries, sign it and record it.

        ``format``: ``sd-jwt`` (default; personal and derived claims selectively disclosable, the
        subject's did:key — or ``holder_key`` — as ``cnf``), ``data-integrity`` (``eddsa-rdfc-2022``),
        ``vc-jwt`` or ``jwt-vc11`` (ES256K, VC 1.1). ``staff`` names who issued it, for the record
        (``record=False`` leaves recording to the caller, as the batch engine does in its own transaction).
        ``within(conn, credential_id)`` runs in the same transaction after the record (OpenID4VCI spends
        its offer there): if it raises, nothing is committed and no credential is returned.
        Raises :class:`InputError` with a claim rule's code before anything is allocated or signed.
        """
        kind = CredentialKind.parse(type)
        fmt = parse_format(format)
        now = (now or self._earliest_issuance(datetime.now(UTC))).astimezone(UTC).replace(microsecond=0)
        checked = validate_claims(kind, claims, today=now.date())
        subject = check_subject_did(subject_did)

        def make(conn: Any) -> IssuedCredential:
            list_id: str | None = None
            index: int | None = None
            entries: list[JSONObject] = []
            if self.status is not None:
                allocated = list(self.status.allocate_entries(now=now) if conn is None
                                 else self.status.allocate_entries(now=now, conn=conn))
                list_id, index = allocated[0].list_id, allocated[0].index
                entries = [entry.to_credential_status() for entry in allocated]
            credential = build_credential(
                checked, issuer=self.did, subject_did=subject, now=now, valid_for=valid_for,
                credential_id=credential_id, credential_status=entries,
                vc_version="1.1" if fmt == JWT_VC11 else "2.0",
            )
            document = self._secure(credential, kind, fmt, holder_key, now)
            method = (self.secp256k1_signer if fmt == JWT_VC11 else self.ed25519_signer).key_id
            if record and self.records is not None:
                extra: dict[str, Any] = {} if conn is None else {"conn": conn}
                # with its digest: pending anchoring from here (kaga-vc city anchor --pending)
                self.records.record_issued(credential["id"], kind.type_name, subject, list_id, index,
                                           staff or "unknown", fmt, now, digest=credential_digest(document),
                                           verification_method=method, **extra)
            if within is not None:
                within(conn, credential["id"])
            return IssuedCredential(credential["id"], kind, fmt, subject, document, now, entries, list_id, index,
                                    method)

        transaction = getattr(self.records, "transaction", None) if record else None
        if transaction is None or self.status is None or not hasattr(self.status, "forget"):
            return make(None)
        # The index claim and the record commit together: a crash or an error before the commit
        # leaves neither, and the credential is returned (handed out) only after it.
        try:
            with transaction() as conn:
                return make(conn)
        except BaseException:
            self.status.forget()  # what it cached about the current list may have been rolled back
            raise

    def _secure(self, credential: JSONObject, kind: CredentialKind, fmt: str, holder_key: PublicKey | None,
                now: datetime) -> JSONObject | str:
        if fmt == DATA_INTEGRITY:
            from ..credentials import issue_credential

            return issue_credential(credential, signer=self.ed25519_signer, created=now)
        if fmt == VC_JWT:
            from ..proofs.jose.vc_jose import sign_vc_jwt

            return sign_vc_jwt(credential, self.ed25519_signer)
        if fmt == JWT_VC11:
            from ..proofs.jose.jwt_vc11 import sign_jwt_vc11

            return sign_jwt_vc11(credential, self.secp256k1_signer)
        return self._sd_jwt(credential, kind, holder_key, now)

    def _sd_jwt(self, credential: JSONObject, kind: CredentialKind, holder_key: PublicKey | None,
                now: datetime) -> str:
        from ..did import public_key_from_did_key
        from ..proofs.jose.sd_jwt import Decoys, issue_sd_jwt, sd_jwt_vc_claims

        subject = credential["credentialSubject"]
        if holder_key is None and subject["id"].startswith("did:key:"):
            holder_key = public_key_from_did_key(subject["id"])
        claims = sd_jwt_vc_claims(credential, vct=kind.spec.vct, now=now)
        claims["evidence"] = credential["evidence"]
        claims["credentialSchema"] = credential["credentialSchema"]
        if "credentialStatus" in credential:
            status = credential["credentialStatus"]
            claims["status"] = status if isinstance(status, list) else [status]  # BitstringStatusListEntry values
        disclosable = [p for p in kind.spec.disclosable if _present(subject, p)]
        return issue_sd_jwt(claims, signer=self.ed25519_signer, disclosable=disclosable, holder_key=holder_key,
                            decoys=Decoys(1, 3), randbytes=_RandomPool().take)


class _RandomPool:
    """The salts of one SD-JWT from one draw of the operating system's CSPRNG (an SD-JWT takes some
    twenty salts; one system call each cost more than the rest of making them)."""

    SIZE = 512

    def __init__(self) -> None:
        self.buffer = secrets.token_bytes(self.SIZE)
        self.used = 0

    def take(self, size: int) -> bytes:
        if self.used + size > len(self.buffer):
            self.buffer, self.used = secrets.token_bytes(max(self.SIZE, size)), 0
        out = self.buffer[self.used:self.used + size]
        self.used += size
        return out


@lru_cache(maxsize=16)
def _published_at(text: str) -> datetime | None:
    """``keys_published_at`` parsed (once per value: every credential of a batch asks)."""
    try:
        published = datetime.fromisoformat(text)
    except ValueError:
        return None
    return published.astimezone(UTC) if published.tzinfo else None


def _present(subject: JSONObject, path: str) -> bool:
    value: Any = subject
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True


def open_city_issuer(
    password: str,
    *,
    home: str | os.PathLike[str] | None = None,
    records_url: str | None = None,
) -> CityIssuer:
    """The city's issuer: keys decrypted from the keystores under ``<home>/city``, the issuance
    records at ``records_url`` (default: SQLite in ``home``) and the status lists kept in them.

    Close it with :meth:`CityIssuer.close` (or use it as a context manager).
    """
    from ..keys.keystore import load_key
    from ..status import StatusLists
    from .records import IssuanceStore

    config = read_city(home)
    directory = city_dir(home)
    ed25519 = load_key(directory / config.ed25519_file, password)
    secp256k1 = load_key(directory / config.secp256k1_file, password)
    store = IssuanceStore.open(records_url, home=Path(home) if home is not None else None)
    status = StatusLists(store, config.status_base_url)
    return CityIssuer(config, ed25519=ed25519, secp256k1=secp256k1, status=status, records=store)


def city_bundle_signer(password: str, *, home: str | os.PathLike[str] | None = None) -> BundleKeySigner:
    """The signer for trust bundles: the city's bundle key with the owner key's certificate for it.

    Not the owner key: it controls the DID and is needed only to rotate the bundle key (see
    :mod:`kaga_vc.verifier.bundle_key`). A city made before bundle keys gets one with
    ``kaga-vc city bundle-key --rotate`` (``kaga:city-not-initialised`` until then).
    """
    from ..keys.keystore import load_key
    from ..verifier.bundle_key import BundleKeySigner, read_certificate

    config = read_city(home)
    if not config.bundle_key_file or not config.bundle_key_certificate:
        raise InputError(CITY_NOT_INITIALISED, "this city has no bundle-signing key yet: run "
                                               "`kaga-vc city bundle-key --rotate` (it needs the owner key once)")
    certificate = read_certificate(config.bundle_key_certificate, config.did)
    return BundleKeySigner(load_key(city_dir(home) / config.bundle_key_file, password), certificate)


BATCH_COLUMNS = ("type", "subject", "fullName", "fullNameKana", "birthDate", "gender", "address", "residentSince",
                 "evidence", "assuranceLevel")


def check_batch_header(csv_path: str | os.PathLike[str]) -> None:
    """Refuse a CSV whose header is not a residents' file before the batch starts.

    Per-row problems go to the result file without stopping the batch; a wrong header would make
    every row fail, so it is the caller's input error (exit 3) instead of a batch of rejections.
    """
    from .batch import read_csv_header

    columns = read_csv_header(csv_path)
    unknown = sorted(set(columns) - set(BATCH_COLUMNS))
    missing = [c for c in ("type", "subject") if c not in columns]
    if unknown or missing:
        raise InputError(MALFORMED_VALUE_ERROR, f"{Path(csv_path).name} is not a residents CSV: "
                         f"unknown column(s) {unknown}, missing {missing}; expected {', '.join(BATCH_COLUMNS)}")


def row_claims(row: Mapping[str, str]) -> tuple[str, str, JSONObject]:
    """``(type, subject, claims)`` of one CSV row; ``evidence`` is ``;``-separated. My Number refused first."""
    from ..credentials.kaga import refuse_individual_number

    refuse_individual_number(dict(row), "row")
    unknown = sorted(set(row) - set(BATCH_COLUMNS))
    if unknown:
        raise InputError(MALFORMED_VALUE_ERROR, f"unknown column(s) {unknown}; expected {', '.join(BATCH_COLUMNS)}")
    values = {k: (v or "").strip() for k, v in row.items()}
    kind = CredentialKind.parse(values.get("type", ""))
    claims: JSONObject = {k: values[k] for k in BATCH_COLUMNS[2:] if values.get(k)}
    if "evidence" in claims:
        claims["evidence"] = [e.strip() for e in claims["evidence"].split(";") if e.strip()]
    if kind is CredentialKind.VIRTUAL_RESIDENT and "residentSince" in claims:
        claims["virtualResidentSince"] = claims.pop("residentSince")
    return kind.value, values.get("subject", ""), claims


def run_csv_batch(
    issuer: CityIssuer,
    csv_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    format: str = DEFAULT_FORMAT,
    staff: str = "",
    progress: bool = True,
    result_name: str = "results.csv",
    on_row: Any = None,
    workers: int | None = None,
    group_size: int = 500,
    lock_timeout: float = 10.0,
) -> JSONObject:
    """Issue one credential per CSV row into ``out_dir`` (``row-000001.jwt`` …) with the batch engine
    of :mod:`kaga_vc.issuer.batch`: per-row errors in ``out_dir/results.csv``, resumable, exactly once,
    released only after the records commit; signed in ``workers`` processes (default: one per core),
    ``group_size`` rows per commit.
    """
    from ._parallel import ParallelIssuer
    from .batch import read_csv_rows, run_batch

    if issuer.records is None:
        raise InputError(MALFORMED_VALUE_ERROR, "batch issuance needs the issuance records")
    fmt = parse_format(format)
    staff = staff or "batch"
    check_batch_header(csv_path)
    rows = read_csv_rows(csv_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    store: Any = issuer.records
    signer = ParallelIssuer(issuer, fmt, staff, workers=workers, rows=len(rows))
    try:
        summary = run_batch(rows, None, out / result_name, store, out_dir=out, progress=progress, on_row=on_row,
                            issue_group=signer, group_size=group_size, lock_timeout=lock_timeout)
    finally:
        signer.close()
    return {**summary.to_json(), "outDir": str(out)}
