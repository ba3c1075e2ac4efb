"""The resident's wallet: a holder key and credentials, encrypted at rest, answering presentation requests.

Storage: one file (``wallet.json``, mode 0600, written atomically) in the keystore's scheme
(:mod:`kaga_vc.keys.keystore`: scrypt → AES-256-GCM, everything but the ciphertext bound as
associated data). The clear header names the holder's DID and public key; the ciphertext holds the
private key and every credential. The derived key stays in memory while the wallet is open, so
adding a credential costs one encryption, not another scrypt.

Presenting (:meth:`Wallet.present`): the request is checked first (signature by the verifier it
names, the expected verifier if the holder gave one, expiry); then, for every requested claim, a
credential that holds it is chosen, SD-JWT VCs first. An SD-JWT VC is presented with only the
Disclosures of the requested claims and a KB-JWT (``aud`` = verifier, ``nonce`` = the request's)
signed by the holder key its ``cnf`` names. Other credentials cannot hide claims: they go whole
into one Data Integrity presentation (``challenge`` = nonce, ``domain`` = verifier), and the result
carries the warning ``kaga:full-disclosure`` for each.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .._encoding import b64url_decode, b64url_encode
from .._home import default_home
from ..credentials import SD_JWT, Problem, VerificationResult, create_presentation, detect_format, parse_json
from ..did import Resolver, did_key_from_public_key
from ..errors import (
    HOLDER_NOT_SUBJECT,
    KEYSTORE_CORRUPTED,
    MALFORMED_VALUE_ERROR,
    REQUEST_NOT_SATISFIABLE,
    WALLET_EXISTS,
    WALLET_NOT_FOUND,
    InputError,
    KagaError,
    KeystoreError,
)
from ..keys import KeySigner, KeyType, PrivateKey, PublicKey
from ..keys.keystore import (
    DEFAULT_SCRYPT_N,
    derive_data_key,
    new_kdf_params,
    open_sealed,
    seal_data,
    write_private_file,
)
from ..verifier import (
    ANY_TYPE,
    PresentationRequest,
    PresentationResponse,
    credential_types,
    disclosed_claims,
    encode_response,
    issuance_of,
    read_request,
)

JSONObject = dict[str, Any]
WALLET_VERSION = 1
WALLET_FILE = "wallet.json"
FULL_DISCLOSURE = "kaga:full-disclosure"
_MAX_FILE = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """A credential in the wallet with what the holder needs to choose it (read, not verified)."""

    id: str
    format: str
    issuer: str | None
    types: tuple[str, ...]
    subject: str | None
    claims: JSONObject
    added_at: str
    data: Any

    def summary(self) -> JSONObject:
        return {"id": self.id, "format": self.format, "issuer": self.issuer, "types": list(self.types),
                "subject": self.subject, "claims": sorted(self.claims), "addedAt": self.added_at}


@dataclass(frozen=True, slots=True)
class WalletPresentation:
    """The wallet's answer: the response (and its compact string), what it disclosed, warnings."""

    request: PresentationRequest
    response: PresentationResponse
    compact: str
    disclosed: dict[str, list[str]]
    warnings: tuple[Problem, ...] = field(default_factory=tuple)


def describe_credential(data: Any) -> tuple[str, str | None, tuple[str, ...], str | None, JSONObject]:
    """Format, issuer, types, subject and claims of a credential as held (nothing is verified)."""
    fmt = detect_format(data)
    if isinstance(data, str) and data.strip().startswith("{"):
        data = parse_json(data)
    if fmt == SD_JWT:
        from ..proofs.jose.sd_jwt import process_disclosures, split_sd_jwt, unverified_payload

        parts = split_sd_jwt(data)
        payload = unverified_payload(parts.jwt)
        processed = process_disclosures(payload, parts.disclosures, payload.get("_sd_alg", "sha-256")).payload
        view = VerificationResult(False, fmt, credential=processed)
        subject = processed.get("sub") if isinstance(processed.get("sub"), str) else None
    elif isinstance(data, dict):
        view = VerificationResult(False, fmt, credential=data)
        subj = data.get("credentialSubject")
        subj = subj[0] if isinstance(subj, list) and subj else subj
        subject = subj.get("id") if isinstance(subj, dict) else None
    else:
        from ..proofs.jose import json_object

        parts3 = data.split(".")
        if len(parts3) != 3:
            raise InputError(MALFORMED_VALUE_ERROR, "not a JWT credential")
        payload = json_object(parts3[1], "JWT payload")
        view = VerificationResult(False, fmt, credential=payload)
        inner: JSONObject = payload["vc"] if isinstance(payload.get("vc"), dict) else payload
        subj = inner.get("credentialSubject")
        subj = subj[0] if isinstance(subj, list) and subj else subj
        subject = payload.get("sub") or (subj.get("id") if isinstance(subj, dict) else None)
    issuer, _ = issuance_of(data)
    return fmt, issuer, tuple(credential_types(view)), subject, disclosed_claims(view)


def _cnf_key(data: str) -> PublicKey | None:
    from ..proofs.jose.sd_jwt import split_sd_jwt, unverified_payload

    cnf = unverified_payload(split_sd_jwt(data).jwt).get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    try:
        return PublicKey.from_jwk(jwk) if isinstance(jwk, dict) else None
    except KagaError:
        return None


class Wallet:
    """An open wallet. Create one with :func:`create_wallet`, open one with :func:`open_wallet`."""

    def __init__(self, path: Path, key: PrivateKey, credentials: list[StoredCredential], kdf: JSONObject,
                 data_key: bytes) -> None:
        self.path = path
        self._key = key
        self._credentials = credentials
        self._kdf = kdf
        self._data_key = data_key

    # -- identity ----------------------------------------------------------------------------
    @property
    def did(self) -> str:
        return did_key_from_public_key(self._key.public_key)

    @property
    def public_key(self) -> PublicKey:
        return self._key.public_key

    @property
    def signer(self) -> KeySigner:
        multikey = self._key.public_key.to_multikey()
        return KeySigner(self._key, f"{self.did}#{multikey}")

    def __repr__(self) -> str:
        return f"Wallet({self.did!r}, {len(self._credentials)} credentials)"

    # -- credentials -------------------------------------------------------------------------
    def credentials(self) -> list[StoredCredential]:
        return list(self._credentials)

    def add(self, credential: str | JSONObject, *, now: datetime | None = None) -> StoredCredential:
        """Store a credential issued to this holder (subject = the wallet's DID, or SD-JWT ``cnf`` = its key).

        Raises InputError for an unreadable credential, ``kaga:holder-not-subject`` for one issued to
        someone else (the wallet could not present it bound to its DID).
        """
        if isinstance(credential, str):
            credential = credential.strip()
            if credential.startswith("{"):
                credential = parse_json(credential)
        try:
            fmt, issuer, types, subject, claims = describe_credential(credential)
        except KagaError:
            raise
        except (ValueError, TypeError, AttributeError):
            raise InputError(MALFORMED_VALUE_ERROR, "the credential cannot be read") from None
        if fmt == SD_JWT:
            if _cnf_key(str(credential)) != self.public_key:
                raise InputError(HOLDER_NOT_SUBJECT, "the SD-JWT's cnf key is not this wallet's key")
        elif subject != self.did:
            raise InputError(HOLDER_NOT_SUBJECT, f"the credential's subject is {subject}, not this wallet's DID")
        raw = credential if isinstance(credential, str) else json.dumps(credential, sort_keys=True)
        ident = "urn:sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
        existing = next((c for c in self._credentials if c.id == ident), None)
        if existing is not None:
            return existing
        stored = StoredCredential(ident, fmt, issuer, types, subject, claims,
                                  (now or datetime.now(UTC)).replace(microsecond=0).isoformat(), credential)
        self._credentials.append(stored)
        self.save()
        return stored

    def remove(self, credential_id: str) -> None:
        before = len(self._credentials)
        self._credentials = [c for c in self._credentials if c.id != credential_id]
        if len(self._credentials) == before:
            raise InputError(MALFORMED_VALUE_ERROR, f"no credential {credential_id} in the wallet")
        self.save()

    # -- presenting --------------------------------------------------------------------------
    def present(
        self,
        request: str | PresentationRequest,
        *,
        resolver: Resolver | None = None,
        expected_verifier: str | Iterable[str] | None = None,
        now: datetime | None = None,
        max_clock_skew: timedelta = timedelta(minutes=5),
    ) -> WalletPresentation:
        """Answer a request, disclosing only what it asks where the format allows.

        ``resolver`` resolves the verifier's DID (did:key by default; pass a bundle's resolver for
        did:ethr verifiers). Raises what :func:`~kaga_vc.verifier.read_request` raises for a request
        from a verifier that is not who it claims, ``kaga:request-not-satisfiable`` when the wallet
        lacks a requested claim.
        """
        from ..did import KeyMethod

        token = request.token if isinstance(request, PresentationRequest) else request
        req = read_request(token, resolver=resolver or Resolver({"key": KeyMethod()}),
                           expected_verifier=expected_verifier, now=now, max_clock_skew=max_clock_skew)
        plan = self._plan(req)
        presentations: list[str | JSONObject] = []
        warnings: list[Problem] = []
        whole: list[StoredCredential] = []
        disclosed: dict[str, list[str]] = {}
        for stored, claims in plan:
            if stored.format == SD_JWT:
                from ..proofs.jose.sd_jwt import present_sd_jwt

                presentations.append(present_sd_jwt(str(stored.data), disclose=sorted(claims), holder_signer=self.signer,
                                                    audience=req.verifier, nonce=req.nonce, now=now))
                disclosed[stored.id] = sorted(claims)
            else:
                whole.append(stored)
                disclosed[stored.id] = sorted(stored.claims)
                warnings.append(Problem(FULL_DISCLOSURE, f"{stored.format} cannot disclose selectively: the whole "
                                        f"credential ({', '.join(sorted(stored.claims))}) is shown",
                                        None, {"credential": stored.id}))
        if whole:
            presentations.append(create_presentation([c.data for c in whole], signer=self.signer,
                                                     challenge=req.nonce, domain=req.verifier, created=now))
        response = PresentationResponse(req.id, tuple(presentations))
        return WalletPresentation(req, response, encode_response(response), disclosed, tuple(warnings))

    def _plan(self, req: PresentationRequest) -> list[tuple[StoredCredential, set[str]]]:
        chosen: dict[str, tuple[StoredCredential, set[str]]] = {}
        for query in req.credentials:
            for claim in query.claims:
                candidates = [c for c in self._credentials
                              if claim in c.claims and (query.type == ANY_TYPE or query.type in c.types)]
                if not candidates:
                    raise InputError(REQUEST_NOT_SATISFIABLE,
                                     f"the wallet holds no credential with {claim!r} ({query.type})",
                                     claim=claim, type=query.type)
                # prefer a credential already chosen, then selective disclosure, then the newest
                candidates.sort(key=lambda c: (c.id not in chosen, c.format != SD_JWT, c.added_at), reverse=False)
                best = candidates[0]
                chosen.setdefault(best.id, (best, set()))[1].add(claim)
        return list(chosen.values())

    # -- storage -----------------------------------------------------------------------------
    def save(self) -> None:
        """Encrypt and write the wallet atomically (mode 0600)."""
        body = json.dumps({
            "key": b64url_encode(self._key.to_bytes()),
            "credentials": [{"addedAt": c.added_at, "data": c.data} for c in self._credentials],
        }, separators=(",", ":")).encode("utf-8")
        header = {"kagaVcWallet": WALLET_VERSION, "did": self.did, "keyType": self._key.key_type.value,
                  "publicKeyMultibase": self._key.public_key.to_multikey(), "kdf": self._kdf}
        write_private_file(self.path, json.dumps(seal_data(self._data_key, body, header), indent=2) + "\n",
                           prefix=".wallet-")


def default_wallet_path(home: str | os.PathLike[str] | None = None) -> Path:
    """``$KAGA_VC_HOME/wallet/wallet.json``."""
    return Path(default_home() if home is None else home) / "wallet" / WALLET_FILE


def create_wallet(path: str | os.PathLike[str], password: str, *, key_type: KeyType | str = KeyType.ED25519,
                  scrypt_n: int = DEFAULT_SCRYPT_N) -> Wallet:
    """Create a wallet with a new holder key (did:key); refuse to replace an existing one."""
    target = Path(path)
    if target.exists():
        raise KeystoreError(WALLET_EXISTS, f"{target} exists; refusing to replace a wallet")
    kdf = new_kdf_params(scrypt_n)
    wallet = Wallet(target, PrivateKey.generate(key_type), [], kdf, derive_data_key(password, kdf))
    wallet.save()
    return wallet


def read_wallet_did(path: str | os.PathLike[str]) -> str:
    """The holder DID in a wallet's clear header, without the password (``wallet init`` run twice).

    The header is authenticated only when the wallet is opened; this reads it for display, and checks
    that the DID is the did:key of the header's public key.
    """
    target = Path(path)
    try:
        sealed = json.loads(target.read_bytes()[: _MAX_FILE + 1])
        if not isinstance(sealed, dict) or sealed.get("kagaVcWallet") != WALLET_VERSION:
            raise ValueError("not a wallet")
        did, multikey = str(sealed["did"]), str(sealed["publicKeyMultibase"])
    except OSError as exc:
        raise KeystoreError(WALLET_NOT_FOUND, f"cannot read {target}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError):
        raise KeystoreError(KEYSTORE_CORRUPTED, f"{target} is not a kaga-vc wallet") from None
    if did != f"did:key:{multikey}":
        raise KeystoreError(KEYSTORE_CORRUPTED, f"{target}: the wallet's DID is not its key's")
    return did


def open_wallet(path: str | os.PathLike[str], password: str) -> Wallet:
    """Open (decrypt) a wallet; KeystoreError on a wrong password or a damaged file."""
    target = Path(path)
    try:
        raw = target.read_bytes()[: _MAX_FILE + 1]
    except FileNotFoundError:
        raise KeystoreError(WALLET_NOT_FOUND, f"no wallet at {target}: run `kaga-vc wallet init`") from None
    except OSError as exc:
        raise KeystoreError(WALLET_NOT_FOUND, f"cannot read {target}: {exc.strerror}") from None
    try:
        sealed = json.loads(raw)
        if not isinstance(sealed, dict) or sealed.get("kagaVcWallet") != WALLET_VERSION:
            raise ValueError("not a wallet")
        kdf = sealed["kdf"]
    except (ValueError, KeyError, TypeError):
        raise KeystoreError(KEYSTORE_CORRUPTED, f"{target} is not a kaga-vc wallet") from None
    data_key = derive_data_key(password, kdf)
    body = open_sealed(data_key, sealed)
    try:
        data = json.loads(body)
        key = PrivateKey(KeyType(sealed["keyType"]), b64url_decode(data["key"]))
        if key.public_key.to_multikey() != sealed.get("publicKeyMultibase"):
            raise ValueError("key mismatch")
        wallet = Wallet(target, key, [], kdf, data_key)
        for entry in data["credentials"]:
            fmt, issuer, types, subject, claims = describe_credential(entry["data"])
            raw_item = entry["data"] if isinstance(entry["data"], str) else json.dumps(entry["data"], sort_keys=True)
            ident = "urn:sha256:" + hashlib.sha256(raw_item.encode("utf-8")).hexdigest()[:32]
            wallet._credentials.append(StoredCredential(ident, fmt, issuer, types, subject, claims,
                                                        str(entry["addedAt"]), entry["data"]))
    except (ValueError, KeyError, TypeError, KagaError):
        raise KeystoreError(KEYSTORE_CORRUPTED, f"{target}: the decrypted wallet is malformed") from None
    return wallet


__all__ = [
    "FULL_DISCLOSURE",
    "StoredCredential",
    "Wallet",
    "WalletPresentation",
    "create_wallet",
    "default_wallet_path",
    "describe_credential",
    "open_wallet",
    "read_wallet_did",
]
