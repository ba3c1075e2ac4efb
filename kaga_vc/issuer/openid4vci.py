"""OpenID for Verifiable Credential Issuance 1.0: the city as Credential Issuer and its own authorization server.

Only the **pre-authorized code flow with a transaction code** (OpenID4VCI §3.5): staff who proofed a
resident create an offer (:func:`create_offer`: an ``openid-credential-offer://`` URI for a QR code,
the PIN for another channel); the resident's wallet

1. reads the Credential Issuer Metadata (:func:`issuer_metadata`, §12.2) and the authorization
   server metadata (:func:`authorization_server_metadata`, RFC 8414);
2. sends a Token Request (:func:`token_response`, §6) with the pre-authorized code and the PIN;
3. gets a ``c_nonce`` from the Nonce Endpoint (:func:`nonce_response`, §7);
4. sends a Credential Request (:func:`credential_response`, §8) with a key proof
   (``openid4vci-proof+jwt``, Appendix F.1): ``aud`` the issuer, ``nonce`` the c_nonce, signed by the
   key in its header (``jwk`` or a did:key ``kid``). The credential is bound to that key: SD-JWT VC
   ``cnf.jwk``, the subject is its did:key.

The credential is issued by :meth:`CityIssuer.issue` exactly as `kaga-vc issue` does (status entries,
issuance record), and the offer and the c_nonce are spent inside that same transaction.
Every refusal is a :class:`~kaga_vc.errors.ProtocolError` with a stable code and its OAuth error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ..credentials.kaga import CredentialKind
from ..credentials.verify import DATA_INTEGRITY, JWT_VC11, SD_JWT
from ..errors import (
    CREDENTIAL_CONFIGURATION_UNKNOWN,
    CREDENTIAL_REQUEST_INVALID,
    KEY_PROOF_INVALID,
    KagaError,
    ProtocolError,
)
from ..keys import PublicKey
from .offers import DEFAULT_OFFER_LIFETIME, CreatedOffer, OfferStore, Redeemed
from .service import CityIssuer

JSONObject = dict[str, Any]
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
OFFER_SCHEME = "openid-credential-offer://"
PROOF_ALGS = ("EdDSA", "ES256", "ES384", "ES256K")
MAX_PROOF_AGE = timedelta(minutes=10)
MAX_CLOCK_SKEW = timedelta(minutes=5)

# endpoint paths under the issuer's base URL (the server layer mounts them there)
TOKEN_PATH = "/openid4vci/token"
NONCE_PATH = "/openid4vci/nonce"
CREDENTIAL_PATH = "/openid4vci/credential"

CITY_DISPLAY = [{"name": "加賀市", "locale": "ja-JP"}, {"name": "City of Kaga", "locale": "en-US"}]
_TYPE_DISPLAY = {
    CredentialKind.KYC: ("加賀市 本人確認証明", "Kaga identity (KYC) credential"),
    CredentialKind.RESIDENCY: ("加賀市 住民証明", "Kaga residency credential"),
    CredentialKind.VIRTUAL_RESIDENT: ("加賀市 e-加賀市民証", "Kaga virtual resident credential"),
    CredentialKind.VOTING_ELIGIBILITY: ("加賀市 投票資格証明", "Kaga voting eligibility credential"),
    CredentialKind.VACCINATION: ("加賀市 予防接種証明書", "Kaga vaccination certificate"),
    CredentialKind.VOLUNTEER: ("加賀市 ボランティア活動証明", "Kaga volunteer contribution credential"),
}
_CLAIM_DISPLAY = {
    "fullName": ("氏名", "Full name"), "fullNameKana": ("氏名（カナ）", "Full name (kana)"),
    "birthDate": ("生年月日", "Date of birth"), "gender": ("性別", "Gender"), "address": ("住所", "Address"),
    "ageOver18": ("18歳以上", "Aged 18 or over"), "ageOver20": ("20歳以上", "Aged 20 or over"),
    "residentOfKaga": ("加賀市民", "Resident of Kaga"), "residentSince": ("転入日", "Resident since"),
    "virtualResidentSince": ("e-加賀市民登録日", "Virtual resident since"),
    "eligibleToVote": ("投票資格", "Eligible to vote"), "vaccine": ("ワクチン", "Vaccine"),
    "vaccinatedOn": ("接種日", "Vaccinated on"), "dose": ("接種回数", "Dose"), "activity": ("活動", "Activity"),
    "organiser": ("主催", "Organiser"), "hours": ("時間", "Hours"), "volunteeredOn": ("活動日", "Volunteered on"),
}
# configuration id suffix → (OpenID4VCI format identifier, kaga_vc format constant)
_FORMATS = {"sd-jwt": ("dc+sd-jwt", SD_JWT), "ldp": ("ldp_vc", DATA_INTEGRITY), "jwt": ("jwt_vc_json", JWT_VC11)}


@dataclass(frozen=True, slots=True)
class Configuration:
    """One entry of ``credential_configurations_supported``."""

    id: str
    kind: CredentialKind
    wire_format: str  # dc+sd-jwt, ldp_vc, jwt_vc_json
    format: str  # the kaga_vc format constant

    @classmethod
    def parse(cls, configuration_id: Any) -> Configuration:
        if isinstance(configuration_id, str):
            name, _, suffix = configuration_id.partition("-")
            for kind in CredentialKind:
                if kind.type_name == name and suffix in _FORMATS:
                    return cls(configuration_id, kind, *_FORMATS[suffix])
        raise ProtocolError(CREDENTIAL_CONFIGURATION_UNKNOWN, "unknown credential configuration",
                            oauth_error="unknown_credential_configuration")


def configuration_id(kind: CredentialKind | str, format: str = "sd-jwt") -> str:
    """``KycCredential-sd-jwt`` (also ``-ldp`` for Data Integrity, ``-jwt`` for the VC 1.1 JWT)."""
    if format not in _FORMATS:
        raise ProtocolError(CREDENTIAL_CONFIGURATION_UNKNOWN, f"offers are made as {', '.join(_FORMATS)}",
                            oauth_error="unknown_credential_configuration")
    return f"{CredentialKind.parse(kind).type_name}-{format}"


def _display(ja: str, en: str, **extra: Any) -> list[JSONObject]:
    return [{"name": ja, "locale": "ja-JP", **extra}, {"name": en, "locale": "en-US", **extra}]


def _configuration_metadata(kind: CredentialKind, suffix: str) -> JSONObject:
    wire, _ = _FORMATS[suffix]
    ja, en = _TYPE_DISPLAY[kind]
    spec = kind.spec
    claims = [{"path": [name], "display": _display(*_CLAIM_DISPLAY[name])}
              for name in (spec.carried or (*spec.required, *spec.optional, "ageOver18", "ageOver20", "residentOfKaga"))
              if name in _CLAIM_DISPLAY and (name in spec.disclosable or suffix != "sd-jwt")]
    unique: dict[str, JSONObject] = {}
    for claim in claims:
        path = claim["path"]
        unique.setdefault(str(path[0]) if isinstance(path, list) else "", claim)
    claims = list(unique.values())
    entry: JSONObject = {
        "format": wire,
        "scope": f"{kind.type_name}",
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGS)}},
        "credential_metadata": {"display": _display(ja, en, background_color="#1b4f72", text_color="#ffffff"),
                                "claims": claims},
    }
    if suffix == "sd-jwt":
        entry.update(vct=spec.vct, cryptographic_binding_methods_supported=["jwk"],
                     credential_signing_alg_values_supported=["EdDSA"])
    else:
        from ..credentials import VC_V1, VC_V2
        from ..credentials.kaga import KAGA_CONTEXT

        types = ["VerifiableCredential", kind.type_name]
        definition: JSONObject = {"type": types}
        if suffix == "ldp":
            definition["@context"] = [VC_V2, KAGA_CONTEXT]
        else:
            definition["@context"] = [VC_V1, KAGA_CONTEXT]
        entry.update(credential_definition=definition, cryptographic_binding_methods_supported=["did:key"],
                     credential_signing_alg_values_supported=["eddsa-rdfc-2022" if suffix == "ldp" else "ES256K"])
        entry.pop("scope")  # one scope per type: the SD-JWT VC one
    return entry


def issuer_metadata(base_url: str) -> JSONObject:
    """Credential Issuer Metadata (OpenID4VCI §12.2.4) for ``/.well-known/openid-credential-issuer``."""
    base = base_url.rstrip("/")
    configurations = {configuration_id(kind, suffix): _configuration_metadata(kind, suffix)
                      for kind in CredentialKind for suffix in _FORMATS}
    return {
        "credential_issuer": base,
        "credential_endpoint": base + CREDENTIAL_PATH,
        "nonce_endpoint": base + NONCE_PATH,
        "display": CITY_DISPLAY,
        "credential_configurations_supported": configurations,
    }


def authorization_server_metadata(base_url: str) -> JSONObject:
    """RFC 8414 metadata for ``/.well-known/oauth-authorization-server``: the issuer is its own AS."""
    base = base_url.rstrip("/")
    return {
        "issuer": base,
        "token_endpoint": base + TOKEN_PATH,
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": [],
    }


# -- offers ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Offer:
    """A credential offer for one resident: the URI for the QR code, the PIN for the letter."""

    id: str
    uri: str
    tx_code: str | None
    configuration_id: str
    expires_at: datetime
    document: JSONObject

    def to_json(self) -> JSONObject:
        return {"id": self.id, "uri": self.uri, "txCode": self.tx_code, "configurationId": self.configuration_id,
                "expiresAt": self.expires_at.isoformat(), "credentialOffer": self.document}


def offer_document(base_url: str, created: CreatedOffer) -> JSONObject:
    """The Credential Offer object (§4.1.1) with the pre-authorized code grant and its ``tx_code``."""
    grant: JSONObject = {"pre-authorized_code": created.pre_authorized_code}
    if created.tx_code is not None:
        grant["tx_code"] = {"input_mode": "numeric", "length": len(created.tx_code),
                            "description": "別便でお届けした暗証番号 / the PIN sent to you separately"}
    return {"credential_issuer": base_url.rstrip("/"), "credential_configuration_ids": [created.configuration_id],
            "grants": {PRE_AUTHORIZED_GRANT: grant}}


def offer_uri(document: JSONObject) -> str:
    """``openid-credential-offer://?credential_offer=<the offer, URL-encoded>`` (§4.1)."""
    return OFFER_SCHEME + "?credential_offer=" + quote(json.dumps(document, separators=(",", ":"),
                                                                  ensure_ascii=False), safe="")


def _checked_claims(kind: CredentialKind, claims: Mapping[str, Any], now: datetime | None) -> JSONObject:
    from ..credentials.kaga import refuse_individual_number, validate_claims

    refuse_individual_number(dict(claims), "claims")
    validate_claims(kind, claims, today=(now or datetime.now(UTC)).date())  # refuse bad claims now, not at the wallet
    return dict(claims)


def create_offer(store: OfferStore, base_url: str, kind: CredentialKind | str, claims: Mapping[str, Any], *,
                 staff: str, format: str = "sd-jwt", with_pin: bool = True,
                 lifetime: timedelta = DEFAULT_OFFER_LIFETIME, label: str | None = None,
                 now: datetime | None = None) -> Offer:
    """Validate ``claims`` for ``kind`` and store a single-use, expiring offer for them.

    Raises :class:`~kaga_vc.errors.InputError` with the claim rule's code (as ``kaga-vc issue`` does)
    before anything is stored.
    """
    parsed = CredentialKind.parse(kind)
    cid = configuration_id(parsed, format)
    created = store.create(cid, _checked_claims(parsed, claims, now), staff=staff, with_pin=with_pin,
                           lifetime=lifetime, label=label, now=now)
    document = offer_document(base_url, created)
    return Offer(created.id, offer_uri(document), created.tx_code, cid, created.expires_at, document)


def create_offers(store: OfferStore, base_url: str, rows: list[tuple[str, JSONObject, str | None]], *, staff: str,
                  format: str = "sd-jwt", with_pin: bool = True, lifetime: timedelta = DEFAULT_OFFER_LIFETIME,
                  now: datetime | None = None) -> list[Offer]:
    """Many offers in one transaction: ``(kind, claims, label)`` per resident, all validated first."""
    items = []
    for kind, claims, label in rows:
        parsed = CredentialKind.parse(kind)
        items.append((configuration_id(parsed, format), _checked_claims(parsed, claims, now), label))
    created = store.create_many(items, staff=staff, with_pin=with_pin, lifetime=lifetime, now=now)
    out = []
    for one in created:
        document = offer_document(base_url, one)
        out.append(Offer(one.id, offer_uri(document), one.tx_code, one.configuration_id, one.expires_at, document))
    return out


# -- token and nonce endpoints ----------------------------------------------------------------------
def token_response(store: OfferStore, form: Mapping[str, Any], *, now: datetime | None = None) -> JSONObject:
    """Token Endpoint (§6): the pre-authorized code and PIN for a Bearer access token."""
    grant = form.get("grant_type")
    if grant != PRE_AUTHORIZED_GRANT:
        raise ProtocolError(CREDENTIAL_REQUEST_INVALID, "only the pre-authorized code grant is supported",
                            oauth_error="unsupported_grant_type")
    token, expires_in = store.redeem(str(form.get("pre-authorized_code") or ""), _opt_str(form.get("tx_code")), now=now)
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def nonce_response(store: OfferStore, *, now: datetime | None = None) -> JSONObject:
    """Nonce Endpoint (§7): a fresh ``c_nonce`` (serve it with ``Cache-Control: no-store``)."""
    return {"c_nonce": store.new_nonce(now=now)}


# -- credential endpoint ----------------------------------------------------------------------------
def bearer_token(authorization: str | None) -> str:
    """The access token of an ``Authorization: Bearer …`` header (RFC 6750 §2.1)."""
    if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 300:
        from ..errors import ACCESS_TOKEN_INVALID

        raise ProtocolError(ACCESS_TOKEN_INVALID, "the credential request needs a Bearer access token",
                            oauth_error="invalid_token", status=401)
    return authorization[len("Bearer "):].strip()


@dataclass(frozen=True, slots=True)
class KeyProof:
    """A verified key proof: the wallet's key and the c_nonce it signed."""

    key: PublicKey
    nonce: str


def verify_key_proof(jwt: Any, *, credential_issuer: str, now: datetime | None = None) -> KeyProof:
    """Check an ``openid4vci-proof+jwt`` (Appendix F.1, F.4) and return the key it proves possession of.

    Header: ``typ`` exactly ``openid4vci-proof+jwt``, an asymmetric ``alg``, exactly one of ``jwk``
    (public members only) or ``kid`` (a did:key DID URL); signature by that key; ``aud`` the Credential
    Issuer Identifier; ``iat`` neither in the future nor older than 10 minutes; a ``nonce``. Raises
    :class:`ProtocolError` ``kaga:key-proof-invalid`` (OAuth ``invalid_proof``); the nonce is checked by
    the caller against the store.
    """
    from ..proofs.jose import parse_compact, verify_with_public_key

    def refuse(detail: str) -> ProtocolError:
        return ProtocolError(KEY_PROOF_INVALID, detail, oauth_error="invalid_proof")

    if not isinstance(jwt, str):
        raise refuse("the key proof must be a compact JWT")
    try:
        jws = parse_compact(jwt, allowed_algs=PROOF_ALGS)
    except KagaError as error:
        raise refuse(f"the key proof is not a usable JWS: {error.detail}") from None
    header, payload = jws.header, jws.payload
    if header.get("typ") != PROOF_TYP:
        raise refuse(f"the key proof's typ must be {PROOF_TYP!r}")
    carriers = [name for name in ("jwk", "kid", "x5c", "trust_chain", "key_attestation") if name in header]
    if carriers not in (["jwk"], ["kid"]):
        raise refuse("the key proof must name its key by exactly one of 'jwk' or 'kid' (a did:key DID URL)")
    try:
        if "jwk" in header:
            jwk = header["jwk"]
            if not isinstance(jwk, dict) or "d" in jwk:
                raise refuse("the key proof's jwk must be a public key")
            key = PublicKey.from_jwk(jwk)
        else:
            from ..did import public_key_from_did_key

            kid = str(header["kid"])
            did, _, fragment = kid.partition("#")
            if not did.startswith("did:key:") or not fragment:
                raise refuse("the key proof's kid must be a did:key DID URL")
            key = public_key_from_did_key(did)
        verify_with_public_key(jws, key)
    except ProtocolError:
        raise
    except KagaError as error:
        raise refuse(f"the key proof is not signed by the key it names: {error.detail}") from None
    aud = payload.get("aud")
    if not (aud == credential_issuer or (isinstance(aud, list) and aud == [credential_issuer])):
        raise refuse("the key proof's aud is not this Credential Issuer")
    iat = payload.get("iat")
    at = now or datetime.now(UTC)
    if isinstance(iat, bool) or not isinstance(iat, (int, float)):
        raise refuse("the key proof has no iat")
    if iat > (at + MAX_CLOCK_SKEW).timestamp() or iat < (at - MAX_PROOF_AGE - MAX_CLOCK_SKEW).timestamp():
        raise refuse("the key proof's iat is outside the accepted window")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        from ..errors import KEY_PROOF_NONCE_INVALID

        raise ProtocolError(KEY_PROOF_NONCE_INVALID, "the key proof has no nonce (get one from the nonce endpoint)",
                            oauth_error="invalid_nonce")
    return KeyProof(key, nonce)


def _proof_jwt(body: Mapping[str, Any]) -> Any:
    proofs, proof = body.get("proofs"), body.get("proof")
    if proofs is not None and proof is not None:
        raise ProtocolError(CREDENTIAL_REQUEST_INVALID, "give 'proofs' or 'proof', not both")
    if isinstance(proofs, dict):
        jwts = proofs.get("jwt")
        if set(proofs) != {"jwt"} or not isinstance(jwts, list) or len(jwts) != 1:
            raise ProtocolError(CREDENTIAL_REQUEST_INVALID, "exactly one 'jwt' key proof is accepted (no batch)",
                                oauth_error="invalid_proof")
        return jwts[0]
    if isinstance(proof, dict) and proof.get("proof_type") == "jwt":  # the pre-1.0 form, still sent by wallets
        return proof.get("jwt")
    raise ProtocolError(KEY_PROOF_INVALID, "the credential request carries no jwt key proof", oauth_error="invalid_proof")


def credential_response(
    issuer: CityIssuer,
    store: OfferStore,
    *,
    authorization: str | None,
    body: Any,
    credential_issuer: str,
    now: datetime | None = None,
) -> JSONObject:
    """Credential Endpoint (§8): issue the offered credential bound to the key proof's key.

    The credential is signed, recorded and given its status entries by :meth:`CityIssuer.issue`;
    the offer and the c_nonce are spent in the same transaction, so a failure anywhere spends
    nothing and a replayed request cannot get a second credential.
    """
    from ..did import did_key_from_public_key

    token = bearer_token(authorization)
    granted: Redeemed = store.granted(token, now=now)
    if not isinstance(body, dict):
        raise ProtocolError(CREDENTIAL_REQUEST_INVALID, "the credential request must be a JSON object")
    requested = body.get("credential_configuration_id")
    if requested is None and isinstance(body.get("credential_identifier"), str):
        requested = body["credential_identifier"]
    if requested != granted.configuration_id:
        raise ProtocolError(CREDENTIAL_CONFIGURATION_UNKNOWN, "this access token is for another credential configuration",
                            oauth_error="unknown_credential_configuration")
    configuration = Configuration.parse(requested)
    proof = verify_key_proof(_proof_jwt(body), credential_issuer=credential_issuer.rstrip("/"), now=now)
    store.check_nonce(proof.nonce, now=now)
    subject = did_key_from_public_key(proof.key)

    def spend(conn: Any, credential_id: str) -> None:
        store.spend(conn, token, proof.nonce, credential_id, now=now)

    issued = issuer.issue(configuration.kind, subject, granted.claims, format=configuration.format,
                          staff=granted.staff, holder_key=proof.key if configuration.format == SD_JWT else None,
                          now=now, within=spend)
    return {"credentials": [{"credential": issued.document}]}


def open_offer_store(issuer: CityIssuer) -> OfferStore:
    """The offers table in the issuer's records database (the one its credentials are recorded in)."""
    engine = getattr(issuer.records, "engine", None)
    if engine is None:
        raise ProtocolError(CREDENTIAL_REQUEST_INVALID, "offers need the issuance records database",
                            oauth_error="server_error", status=500)
    return OfferStore(engine)


__all__ = [
    "CREDENTIAL_PATH",
    "NONCE_PATH",
    "PRE_AUTHORIZED_GRANT",
    "PROOF_TYP",
    "TOKEN_PATH",
    "Configuration",
    "KeyProof",
    "Offer",
    "authorization_server_metadata",
    "bearer_token",
    "configuration_id",
    "create_offer",
    "create_offers",
    "credential_response",
    "issuer_metadata",
    "nonce_response",
    "offer_document",
    "offer_uri",
    "open_offer_store",
    "token_response",
    "verify_key_proof",
]
