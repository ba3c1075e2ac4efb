"""SD-JWT (RFC 9901) and SD-JWT VC (``dc+sd-jwt``): issue, present a subset, verify with key binding.

Issuance (RFC 9901 §4.2): each claim named by a *path* becomes a Disclosure ``[salt, name, value]`` (an
object property) or ``[salt, value]`` (an array element, path index or ``[*]``); its base64url digest
replaces it in the payload (``_sd`` array, or ``{"...": digest}`` in an array). Paths nest, so a
disclosable object may hold disclosable members (recursive disclosures). Decoy digests (§4.2.5) are
added with the given randomness. Holder binding: ``cnf.jwk`` (RFC 7800) in the issuer-signed payload.

Presentation (§7.2): the holder keeps the Disclosures of the requested paths (and their ancestors) and,
when asked, appends a KB-JWT (``typ`` ``kb+jwt``; ``iat``, ``aud``, ``nonce``, ``sd_hash`` over
``<jwt>~<d1>~...~<dN>~``).

Verification (§7.1, §7.3) rejects: a digest algorithm outside the allow-list, a Disclosure that is not
``[salt, name, value]``/``[salt, value]`` where it is used, ``_sd``/``...`` as a disclosed name, a name
already present, a digest that appears twice, a Disclosure given twice or referenced nowhere, and, for
key binding, a KB-JWT with another ``typ``, a signature not by ``cnf.jwk``, a stale or future ``iat``, a
wrong ``nonce``/``aud`` or an ``sd_hash`` over different Disclosures. The issuer-signed JWT and the
KB-JWT go through the same JOSE hygiene as every other JWS here (:mod:`._jws`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ..._encoding import b64url_decode, b64url_encode
from ...did import Resolver
from ...errors import (
    DOCUMENT_TOO_DEEP,
    DOCUMENT_TOO_LARGE,
    INVALID_TYP,
    ISSUED_IN_FUTURE,
    KB_JWT_EXPIRED,
    KB_JWT_INVALID,
    KB_JWT_MISSING,
    KB_JWT_SD_HASH_MISMATCH,
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    SD_DIGEST_DUPLICATE,
    SD_DISCLOSURE_DUPLICATE,
    SD_DISCLOSURE_INVALID,
    SD_DISCLOSURE_UNREFERENCED,
    SD_HASH_ALGORITHM_NOT_ALLOWED,
    InputError,
    KagaError,
)
from ...keys import PublicKey, Signer
from ...results import VerificationResult
from ._claims import (
    DEFAULT_MAX_CLOCK_SKEW,
    Problems,
    check_audience,
    check_nonce,
    check_window,
    numeric_date,
    utc_now,
)
from ._common import build_result, check_signature, id_of, parse_or_report
from ._jws import (
    DEFAULT_LIMITS,
    JOSELimits,
    alg_for_key_type,
    canonical_json,
    json_object,
    sign_compact,
    strict_json_loads,
    verify_with_public_key,
)

JSONObject = dict[str, Any]
FORMAT = "dc+sd-jwt"
SD_JWT_VC_TYP = "dc+sd-jwt"
LEGACY_SD_JWT_VC_TYP = "vc+sd-jwt"
KB_JWT_TYP = "kb+jwt"
HASHES: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}
DEFAULT_SD_ALGS = ("sha-256", "sha-384", "sha-512")
# SD-JWT VC §3.2.2.2: claims that must stay in the clear.
NEVER_DISCLOSABLE = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "_sd_alg"})
DEFAULT_KB_MAX_AGE = timedelta(minutes=5)

PathItem = str | int
Path = tuple[PathItem, ...]
WILDCARD = "*"


# -- paths ---------------------------------------------------------------------------------------
_PATH_TOKEN = re.compile(r"\[(\d+|\*)\]|\.?([^.\[\]]+)")


def parse_path(path: str) -> Path:
    """Parse ``address.street_address``, ``nationalities[0]``, ``nationalities[*]`` into a tuple."""
    if isinstance(path, str) and len(path) <= 200:
        return _parse_path_cached(path)  # a batch parses the same few paths for every credential
    return _parse_path(path)


@lru_cache(maxsize=1024)
def _parse_path_cached(path: str) -> Path:
    return _parse_path(path)


def _parse_path(path: str) -> Path:
    if not isinstance(path, str) or not path or path.startswith(".") or path.endswith("."):
        raise InputError(MALFORMED_VALUE_ERROR, f"not a claim path: {path!r}")
    out: list[PathItem] = []
    pos = 0
    while pos < len(path):
        match = _PATH_TOKEN.match(path, pos)
        if not match or (match.group(2) is not None and pos > 0 and path[pos] != "." and path[pos - 1] != "]"):
            raise InputError(MALFORMED_VALUE_ERROR, f"not a claim path: {path!r}")
        if match.group(1) is not None:
            out.append(WILDCARD if match.group(1) == "*" else int(match.group(1)))
        else:
            out.append(match.group(2))
        pos = match.end()
    return tuple(out)


def format_path(path: Path) -> str:
    text = ""
    for item in path:
        if isinstance(item, int) or item == WILDCARD:
            text += f"[{item}]"
        else:
            text += ("." if text else "") + item
    return text


def _matches(pattern: Path, path: Path) -> bool:
    return len(pattern) == len(path) and all(p == WILDCARD and isinstance(q, int) or p == q for p, q in zip(pattern, path))


def _prefix_of(pattern: Path, path: Path) -> bool:
    return len(pattern) <= len(path) and _matches(pattern, path[: len(pattern)])


# -- disclosures ---------------------------------------------------------------------------------
def digest_of(disclosure: str, sd_alg: str = "sha-256") -> str:
    """RFC 9901 §4.2.3: base64url of the hash over the ASCII of the encoded Disclosure."""
    return b64url_encode(HASHES[sd_alg](disclosure.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class Disclosure:
    encoded: str
    salt: str
    name: str | None
    value: Any

    @classmethod
    def make(cls, salt: str, name: str | None, value: Any) -> Disclosure:
        content = [salt, value] if name is None else [salt, name, value]
        return cls(b64url_encode(canonical_json(content)), salt, name, value)

    @classmethod
    def decode(cls, encoded: str, *, max_depth: int = DEFAULT_LIMITS.max_depth) -> Disclosure:
        try:
            content = strict_json_loads(b64url_decode(encoded), max_depth=max_depth)
        except KagaError:
            raise InputError(SD_DISCLOSURE_INVALID, "a Disclosure is not base64url-encoded JSON") from None
        if not isinstance(content, list) or len(content) not in (2, 3) or not isinstance(content[0], str):
            raise InputError(SD_DISCLOSURE_INVALID, "a Disclosure must be [salt, value] or [salt, name, value]")
        if len(content) == 3:
            if not isinstance(content[1], str):
                raise InputError(SD_DISCLOSURE_INVALID, "a Disclosure's claim name must be a string")
            return cls(encoded, content[0], content[1], content[2])
        return cls(encoded, content[0], None, content[1])


# -- issuance ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Decoys:
    """How many decoy digests to add to each object or array that has disclosable members."""

    minimum: int = 0
    maximum: int = 0


def issue_sd_jwt(
    claims: JSONObject,
    *,
    signer: Signer,
    disclosable: Iterable[str] = (),
    holder_key: PublicKey | None = None,
    typ: str = SD_JWT_VC_TYP,
    sd_alg: str = "sha-256",
    decoys: Decoys = Decoys(),
    randbytes: Callable[[int], bytes] = secrets.token_bytes,
    randbelow: Callable[[int], int] = secrets.randbelow,
) -> str:
    """Issue an SD-JWT ``<jwt>~<disclosure>~...~`` over ``claims``, making each path in ``disclosable``
    selectively disclosable. ``holder_key`` becomes ``cnf.jwk``. ``kid`` is the signer's ``key_id``.

    Raises :class:`InputError` for a path that matches no claim, a claim that must stay in the clear
    (``iss``, ``vct``, ``cnf``, ``exp`` …), or claims that already use ``_sd`` / ``...``.
    """
    if not isinstance(claims, dict):
        raise InputError(MALFORMED_VALUE_ERROR, "SD-JWT claims must be a JSON object")
    if sd_alg not in HASHES:
        raise InputError(SD_HASH_ALGORITHM_NOT_ALLOWED, f"unsupported digest algorithm {sd_alg!r}")
    patterns = [parse_path(p) for p in disclosable]
    for pattern in patterns:
        if len(pattern) == 1 and pattern[0] in NEVER_DISCLOSABLE:
            raise InputError(MALFORMED_VALUE_ERROR, f"claim {pattern[0]!r} must not be selectively disclosable")
    used: set[Path] = set()
    disclosures: list[str] = []
    digest = HASHES[sd_alg]

    def salt() -> str:
        return b64url_encode(randbytes(16))

    def decoy_count() -> int:
        span = decoys.maximum - decoys.minimum
        return decoys.minimum + (randbelow(span + 1) if span > 0 else 0)

    # a set lookup for the plain paths (most of them), the pattern match only for those with a wildcard
    exact = {p for p in patterns if WILDCARD not in p}
    wild = [p for p in patterns if WILDCARD in p]

    def disclosable_at(path: Path) -> bool:
        if not wild:
            if path in exact:
                used.add(path)
                return True
            return False
        hit = [p for p in wild if _matches(p, path)]
        if path in exact:
            hit.append(path)
        used.update(hit)
        return bool(hit)

    # below a path that starts no pattern nothing is disclosable: that subtree is only checked, not rebuilt
    starts = {p[:i] for p in exact for i in range(1, len(p))}

    def member_of(value: Any, path: Path) -> Any:
        if wild or path in starts:
            return walk(value, path)
        if isinstance(value, (dict, list)):
            _refuse_reserved(value)
        return value

    def disclose(content: list[Any]) -> str:
        encoded = b64url_encode(canonical_json(content))
        disclosures.append(encoded)
        return b64url_encode(digest(encoded.encode("ascii")).digest())

    def walk(value: Any, path: Path) -> Any:
        if isinstance(value, dict):
            if "_sd" in value or "..." in value or "_sd_alg" in value:
                raise InputError(MALFORMED_VALUE_ERROR, "claims must not use the reserved names _sd, _sd_alg or ...")
            out: JSONObject = {}
            digests: list[str] = []
            for key, member in value.items():
                here = path + (key,)
                child = member_of(member, here)
                if disclosable_at(here):
                    digests.append(disclose([salt(), key, child]))
                else:
                    out[key] = child
            if digests:
                digests += [digest_of(salt(), sd_alg) for _ in range(decoy_count())]
                out["_sd"] = sorted(digests)
            return out
        if isinstance(value, list):
            items: list[Any] = []
            any_disclosable = False
            for index, member in enumerate(value):
                here = path + (index,)
                child = member_of(member, here)
                if disclosable_at(here):
                    items.append({"...": disclose([salt(), child])})
                    any_disclosable = True
                else:
                    items.append(child)
            if any_disclosable:
                for _ in range(decoy_count()):
                    items.insert(randbelow(len(items) + 1), {"...": digest_of(salt(), sd_alg)})
            return items
        return value

    payload = walk(claims, ())
    unused = [format_path(p) for p in patterns if p not in used]
    if unused:
        raise InputError(MALFORMED_VALUE_ERROR, f"disclosable path(s) match no claim: {unused}")
    payload["_sd_alg"] = sd_alg
    if holder_key is not None:
        payload["cnf"] = {"jwk": holder_key.to_jwk()}
    header = {"alg": alg_for_key_type(signer.key_type), "typ": typ, "kid": signer.key_id}
    jwt = sign_compact(header, payload, signer)
    return "~".join([jwt, *disclosures]) + "~"


def _refuse_reserved(value: Any) -> None:
    """The reserved-name check of :func:`issue_sd_jwt`'s walk, for a subtree it leaves as it is."""
    if isinstance(value, dict):
        if "_sd" in value or "..." in value or "_sd_alg" in value:
            raise InputError(MALFORMED_VALUE_ERROR, "claims must not use the reserved names _sd, _sd_alg or ...")
        for member in value.values():
            _refuse_reserved(member)
    elif isinstance(value, list):
        for member in value:
            _refuse_reserved(member)


def sd_jwt_vc_claims(
    credential: JSONObject,
    *,
    vct: str | None = None,
    now: datetime | None = None,
) -> JSONObject:
    """Map a VCDM credential to SD-JWT VC claims: subject properties at the top, ``iss``, ``sub``,
    ``vct`` (given, or ``urn:kaga:vct:<last type>``), ``iat``, ``nbf``/``exp`` from validFrom/validUntil."""
    from ._claims import parse_datetime

    if not isinstance(credential, dict):
        raise InputError(MALFORMED_VALUE_ERROR, "a credential must be a JSON object")
    issuer = id_of(credential.get("issuer"))
    if issuer is None:
        raise InputError(MALFORMED_VALUE_ERROR, "the credential has no issuer id")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise InputError(MALFORMED_VALUE_ERROR, "SD-JWT VC needs a single credentialSubject object")
    if vct is None:
        types = credential.get("type")
        names = [t for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)]
        vct = "urn:kaga:vct:" + (names[-1] if names else "VerifiableCredential")
    claims: JSONObject = {"iss": issuer, "vct": vct, "iat": int(utc_now(now).timestamp())}
    if isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]
    problems = Problems()
    for source, target in (("validFrom", "nbf"), ("issuanceDate", "nbf"), ("validUntil", "exp"), ("expirationDate", "exp")):
        if source in credential:
            parsed = parse_datetime(credential[source], source, problems)
            if parsed is None:
                raise InputError(MALFORMED_VALUE_ERROR, f"{source} is not a dateTime with a time zone")
            claims[target] = int(parsed.timestamp())
    if isinstance(credential.get("id"), str):
        claims["jti"] = credential["id"]
    for key, value in subject.items():
        if key != "id":
            if key in claims:
                raise InputError(MALFORMED_VALUE_ERROR, f"subject property {key!r} clashes with a JWT claim")
            claims[key] = value
    return claims


def strip_subject_prefix(paths: Iterable[str]) -> list[str]:
    """Accept ``credentialSubject.x`` paths on the command line for the SD-JWT VC claim ``x``."""
    return [p.removeprefix("credentialSubject.") for p in paths]


# -- splitting and processing ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SDJWTParts:
    jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None

    @property
    def presented(self) -> str:
        """``<jwt>~<d1>~...~<dN>~``: the bytes ``sd_hash`` is computed over."""
        return "~".join([self.jwt, *self.disclosures]) + "~"


def split_sd_jwt(text: str, *, limits: JOSELimits = DEFAULT_LIMITS) -> SDJWTParts:
    """Split the compact serialisation; an empty middle part or a missing final ``~`` is malformed."""
    if not isinstance(text, str):
        raise InputError(PARSING_ERROR, "an SD-JWT must be a string")
    text = text.strip()
    if len(text) > limits.max_token_bytes:
        raise InputError(DOCUMENT_TOO_LARGE, f"SD-JWT longer than {limits.max_token_bytes} bytes")
    if not text.isascii():  # every part is base64url (RFC 9901 §4); a non-ASCII one crashed the KB-JWT check
        raise InputError(PARSING_ERROR, "an SD-JWT is ASCII (base64url parts separated by '~')")
    parts = text.split("~")
    if len(parts) < 2:
        raise InputError(PARSING_ERROR, "an SD-JWT has the form <jwt>~<disclosures>~[<kb-jwt>]")
    disclosures = tuple(parts[1:-1])
    if len(disclosures) > limits.max_disclosures:
        raise InputError(DOCUMENT_TOO_LARGE, f"more than {limits.max_disclosures} Disclosures")
    if any(not d for d in disclosures):
        raise InputError(PARSING_ERROR, "empty Disclosure between '~' separators")
    return SDJWTParts(parts[0], disclosures, parts[-1] or None)


@dataclass(frozen=True, slots=True)
class Processed:
    payload: JSONObject
    paths: dict[str, Path]  # encoded Disclosure → path of the claim it discloses


def process_disclosures(
    payload: JSONObject, disclosures: Sequence[str], sd_alg: str, *, limits: JOSELimits = DEFAULT_LIMITS
) -> Processed:
    """RFC 9901 §7.1 step 3-5: replace digests by disclosed claims; raise on any rule broken."""
    by_digest: dict[str, Disclosure] = {}
    for encoded in disclosures:
        digest = digest_of(encoded, sd_alg) if encoded.isascii() else ""
        if digest in by_digest:
            raise InputError(SD_DISCLOSURE_DUPLICATE, "the same Disclosure is given twice")
        by_digest[digest] = Disclosure.decode(encoded, max_depth=limits.max_depth)
    seen: set[str] = set()
    paths: dict[str, Path] = {}

    def visit(digest: Any) -> Disclosure | None:
        if not isinstance(digest, str):
            raise InputError(MALFORMED_VALUE_ERROR, "a digest must be a string")
        if digest in seen:
            raise InputError(SD_DIGEST_DUPLICATE, "a digest appears more than once")
        seen.add(digest)
        return by_digest.get(digest)

    def walk(value: Any, path: Path, depth: int) -> Any:
        if depth > limits.max_depth:
            raise InputError(DOCUMENT_TOO_DEEP, "SD-JWT payload nested too deeply", limit=limits.max_depth)
        if isinstance(value, dict):
            out: JSONObject = {}
            inline = depth < limits.max_depth  # a scalar member one level down is within the limit
            for key, member in value.items():
                if key == "_sd" or (key == "_sd_alg" and not path):
                    continue
                # a scalar is its own result: no call, no path tuple (most members of a payload)
                out[key] = member if inline and not isinstance(member, (dict, list)) else \
                    walk(member, path + (key,), depth + 1)
            sd = value.get("_sd", [])
            if not isinstance(sd, list):
                raise InputError(MALFORMED_VALUE_ERROR, "_sd must be an array of digests")
            for digest in sd:
                disclosure = visit(digest)
                if disclosure is None:
                    continue  # a decoy, or a claim not disclosed
                if disclosure.name is None:
                    raise InputError(SD_DISCLOSURE_INVALID, "an array-element Disclosure is referenced from _sd")
                if disclosure.name in ("_sd", "...", "_sd_alg"):
                    raise InputError(SD_DISCLOSURE_INVALID, f"disclosed claim name {disclosure.name!r} is reserved")
                if disclosure.name in out:
                    raise InputError(SD_DISCLOSURE_INVALID, f"disclosed claim {disclosure.name!r} already exists")
                child = path + (disclosure.name,)
                paths[disclosure.encoded] = child
                out[disclosure.name] = walk(disclosure.value, child, depth + 1)
            return out
        if isinstance(value, list):
            items: list[Any] = []
            inline = depth < limits.max_depth
            for member in value:
                if inline and not isinstance(member, (dict, list)):
                    items.append(member)
                elif isinstance(member, dict) and len(member) == 1 and "..." in member:
                    disclosure = visit(member["..."])
                    if disclosure is None:
                        continue
                    if disclosure.name is not None:
                        raise InputError(SD_DISCLOSURE_INVALID, "an object-property Disclosure is used as an array element")
                    child = path + (len(items),)
                    paths[disclosure.encoded] = child
                    items.append(walk(disclosure.value, child, depth + 1))
                else:
                    items.append(walk(member, path + (len(items),), depth + 1))
            return items
        return value

    processed = walk(payload, (), 0)
    unreferenced = [d for d in by_digest.values() if d.encoded not in paths]
    if unreferenced:
        raise InputError(SD_DISCLOSURE_UNREFERENCED, f"{len(unreferenced)} Disclosure(s) referenced by no digest")
    return Processed(processed, paths)


# -- presentation --------------------------------------------------------------------------------
def select_disclosures(issued: str, disclose: Iterable[str] | None) -> list[str]:
    """The holder's choice: the Disclosures for ``disclose`` paths, their ancestors and descendants."""
    parts = split_sd_jwt(issued)
    if disclose is None:
        return list(parts.disclosures)
    jws = unverified_payload(parts.jwt)
    sd_alg = jws.get("_sd_alg", "sha-256")
    if not isinstance(sd_alg, str) or sd_alg not in HASHES:
        raise InputError(SD_HASH_ALGORITHM_NOT_ALLOWED, f"unsupported digest algorithm {sd_alg!r}")
    processed = process_disclosures(jws, parts.disclosures, sd_alg)
    wanted = [parse_path(p) for p in disclose]
    chosen = []
    for encoded in parts.disclosures:
        path = processed.paths[encoded]
        if any(_prefix_of(w, path) or _prefix_of(path, w) or _prefix_of(path, _concrete(w, path)) for w in wanted):
            chosen.append(encoded)
    return chosen


def _concrete(pattern: Path, path: Path) -> Path:
    # Fill wildcards of ``pattern`` from ``path`` so an ancestor test can compare like with like.
    return tuple(path[i] if p == WILDCARD and i < len(path) else p for i, p in enumerate(pattern))


def unverified_payload(jwt: str) -> JSONObject:
    """The issuer-signed JWT's payload, unchecked: for a holder reading its own stored credential."""
    parts = jwt.split(".")
    if len(parts) != 3:
        raise InputError(PARSING_ERROR, "the issuer-signed part is not a compact JWS")
    return json_object(parts[1], "SD-JWT payload")


def present_sd_jwt(
    issued: str,
    *,
    disclose: Iterable[str] | None = None,
    holder_signer: Signer | None = None,
    audience: str | None = None,
    nonce: str | None = None,
    now: datetime | None = None,
) -> str:
    """Build a presentation disclosing ``disclose`` paths (all if None), with a KB-JWT if a
    ``holder_signer`` is given (then ``audience`` and ``nonce`` are required)."""
    parts = split_sd_jwt(issued)
    if parts.kb_jwt is not None:
        raise InputError(PARSING_ERROR, "the holder received an SD-JWT+KB, not an SD-JWT (RFC 9901 §7.2)")
    chosen = SDJWTParts(parts.jwt, tuple(select_disclosures(issued, disclose)), None)
    if holder_signer is None:
        return chosen.presented
    if audience is None or nonce is None:
        raise InputError(MALFORMED_VALUE_ERROR, "key binding needs an audience and a nonce")
    payload = unverified_payload(parts.jwt)
    sd_alg = payload.get("_sd_alg", "sha-256")
    if not isinstance(sd_alg, str) or sd_alg not in HASHES:
        raise InputError(SD_HASH_ALGORITHM_NOT_ALLOWED, "unsupported digest algorithm (_sd_alg)")
    kb_payload = {
        "iat": int(utc_now(now).timestamp()),
        "aud": audience,
        "nonce": nonce,
        "sd_hash": b64url_encode(HASHES[sd_alg](chosen.presented.encode("ascii")).digest()),
    }
    kb_header = {"alg": alg_for_key_type(holder_signer.key_type), "typ": KB_JWT_TYP}
    return chosen.presented + sign_compact(kb_header, kb_payload, holder_signer)


# -- verification --------------------------------------------------------------------------------
def verify_sd_jwt(
    text: str,
    *,
    resolver: Resolver | None = None,
    issuer_key: PublicKey | None = None,
    expected_typ: Sequence[str] = (SD_JWT_VC_TYP, LEGACY_SD_JWT_VC_TYP),
    require_key_binding: bool = False,
    audience: str | Sequence[str] | None = None,
    nonce: str | None = None,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    max_kb_age: timedelta = DEFAULT_KB_MAX_AGE,
    allowed_sd_algs: Sequence[str] = DEFAULT_SD_ALGS,
    limits: JOSELimits = DEFAULT_LIMITS,
) -> VerificationResult:
    """Verify an SD-JWT (VC) and, if required or present, its KB-JWT; ``credential`` is the processed payload.

    The issuer key comes from ``issuer_key`` if given, else from the issuer's DID (``iss``, ``kid`` a DID
    URL, ``assertionMethod``) through ``resolver``. When ``require_key_binding`` is set the KB-JWT must
    be present and carry ``audience`` and ``nonce``.
    """
    now = utc_now(now)
    problems = Problems()
    try:
        parts = split_sd_jwt(text, limits=limits)
    except KagaError as exc:
        problems.add_error(exc)
        return build_result(FORMAT, problems, now=now)
    jws = parse_or_report(parts.jwt, problems, limits)
    if jws is None:
        return build_result(FORMAT, problems, now=now)
    header, payload = jws.header, jws.payload
    if header.get("typ") not in expected_typ:
        problems.add(INVALID_TYP, f"header typ must be one of {list(expected_typ)}", typ=header.get("typ"))
    issuer = payload.get("iss") if isinstance(payload.get("iss"), str) else None
    # §7.1 step 2: the issuer signature.
    method_id = None
    if issuer_key is not None:
        try:
            verify_with_public_key(jws, issuer_key)
            problems.checks.append("signature")
        except KagaError as exc:
            problems.add_error(exc)
    elif resolver is None:
        raise TypeError("verify_sd_jwt needs a resolver or an issuer_key")
    elif issuer is None:
        problems.add(MALFORMED_VALUE_ERROR, "the SD-JWT has no 'iss'")
    else:
        method_id = check_signature(
            jws, problems, resolver=resolver, signer_id=issuer, relationship="assertionMethod", require_kid=True
        )
    # §7.1 step 2.4 and 3-5: digests and Disclosures.
    sd_alg = payload.get("_sd_alg", "sha-256")
    if not isinstance(sd_alg, str):  # a list or object here must be a problem, not a TypeError
        sd_alg = ""
    processed: Processed | None = None
    if sd_alg not in HASHES or sd_alg not in allowed_sd_algs:
        problems.add(SD_HASH_ALGORITHM_NOT_ALLOWED, "the digest algorithm (_sd_alg) is not allowed",
                     sd_alg=str(payload.get("_sd_alg"))[:40])
    else:
        try:
            processed = process_disclosures(payload, parts.disclosures, sd_alg, limits=limits)
            problems.checks.append("disclosures")
        except KagaError as exc:
            problems.add_error(exc)
    if processed is not None:
        # SD-JWT VC §3.2.2.2: these stay in the clear. A holder must not be able to drop ``status`` (or
        # ``cnf``, ``exp``) by leaving its Disclosure out, whatever the issuer's software allowed.
        hidden = sorted({str(path[0]) for path in processed.paths.values() if len(path) == 1} & NEVER_DISCLOSABLE)
        if hidden:
            problems.add(SD_DISCLOSURE_INVALID, f"claim(s) {hidden} must not be selectively disclosable", claims=hidden)
            processed = None
    claims = processed.payload if processed is not None else None
    # §7.1 step 6: validity (validity claims are never selectively disclosable: read the signed payload).
    nbf = numeric_date(payload, "nbf", problems)
    exp = numeric_date(payload, "exp", problems)
    check_window(
        problems, now=now, skew=max_clock_skew, not_before=nbf, expires=exp, issued_at=numeric_date(payload, "iat", problems)
    )
    problems.checks.append("validity-period")
    if header.get("typ") in (SD_JWT_VC_TYP, LEGACY_SD_JWT_VC_TYP) and not isinstance(payload.get("vct"), str):
        problems.add(MALFORMED_VALUE_ERROR, "an SD-JWT VC needs a 'vct' string")
    # §7.3: key binding.
    key_bound = False
    if parts.kb_jwt is None:
        if require_key_binding:
            problems.add(KB_JWT_MISSING, "key binding is required but no KB-JWT was presented")
    elif sd_alg in HASHES:
        key_bound = _check_kb_jwt(
            parts, payload, sd_alg, problems, audience=audience, nonce=nonce, now=now,
            skew=max_clock_skew, max_age=max_kb_age, limits=limits,
        )
        if key_bound and not require_key_binding and audience is None and nonce is None:
            problems.warn("kaga:kb-jwt-not-bound", "a KB-JWT was present but no audience/nonce was asked for")
    disclosed = sorted(format_path(p) for p in processed.paths.values()) if processed else []
    subject = claims.get("sub") if claims and isinstance(claims.get("sub"), str) else None
    return build_result(
        FORMAT,
        problems,
        now=now,
        issuer=issuer,
        subject=subject,
        valid_from=nbf,
        valid_until=exp,
        credential=claims,
        details={
            "header": header,
            "verificationMethod": method_id,
            "disclosed": disclosed,
            "keyBinding": key_bound,
        },
    )


def holder_public_key(jwk: JSONObject) -> PublicKey:
    """``PublicKey.from_jwk(jwk)`` (raises like it), remembered by the members it reads (bounded LRU)."""
    members = tuple(jwk.get(name) for name in ("kty", "crv", "x", "y"))
    if not all(value is None or isinstance(value, str) for value in members):
        return PublicKey.from_jwk(jwk)
    return _holder_key(members)


@lru_cache(maxsize=1024)
def _holder_key(members: tuple[str | None, str | None, str | None, str | None]) -> PublicKey:
    # a holder key is parsed (and its point checked) once, not once per presentation
    return PublicKey.from_jwk({name: value for name, value in zip(("kty", "crv", "x", "y"), members, strict=True)
                               if value is not None})


def _check_kb_jwt(
    parts: SDJWTParts,
    payload: JSONObject,
    sd_alg: str,
    problems: Problems,
    *,
    audience: str | Sequence[str] | None,
    nonce: str | None,
    now: datetime,
    skew: timedelta,
    max_age: timedelta,
    limits: JOSELimits,
) -> bool:
    before = len(problems.items)
    kb = parse_or_report(parts.kb_jwt, problems, limits)
    if kb is None:
        return False
    if kb.header.get("typ") != KB_JWT_TYP:
        problems.add(KB_JWT_INVALID, f"KB-JWT typ must be {KB_JWT_TYP!r}", typ=kb.header.get("typ"))
    cnf = payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        problems.add(KB_JWT_INVALID, "the SD-JWT has no cnf.jwk holder key to check the KB-JWT with")
    else:
        try:
            verify_with_public_key(kb, holder_public_key(jwk))
        except KagaError as exc:
            problems.add_error(exc, part="kb-jwt")
    iat = numeric_date(kb.payload, "iat", problems)
    if iat is None:
        problems.add(KB_JWT_INVALID, "the KB-JWT has no iat")
    elif now + skew < iat:
        problems.add(ISSUED_IN_FUTURE, "the KB-JWT was issued in the future", iat=iat, now=now)
    elif iat < now - skew - max_age:
        problems.add(KB_JWT_EXPIRED, "the KB-JWT is older than the accepted window", iat=iat, now=now)
    check_audience(problems, kb.payload.get("aud"), audience)
    check_nonce(problems, kb.payload.get("nonce"), nonce)
    if audience is None and not isinstance(kb.payload.get("aud"), (str, list)):
        problems.add(KB_JWT_INVALID, "the KB-JWT has no aud")
    if nonce is None and not isinstance(kb.payload.get("nonce"), str):
        problems.add(KB_JWT_INVALID, "the KB-JWT has no nonce")
    expected_hash = b64url_encode(HASHES[sd_alg](parts.presented.encode("ascii")).digest())
    if kb.payload.get("sd_hash") != expected_hash:
        problems.add(KB_JWT_SD_HASH_MISMATCH, "the KB-JWT's sd_hash is not over these Disclosures")
    ok = len(problems.items) == before
    if ok:
        problems.checks.append("key-binding")
    return ok


__all__ = [
    "FORMAT",
    "Decoys",
    "Disclosure",
    "digest_of",
    "format_path",
    "issue_sd_jwt",
    "parse_path",
    "present_sd_jwt",
    "process_disclosures",
    "sd_jwt_vc_claims",
    "select_disclosures",
    "split_sd_jwt",
    "unverified_payload",
    "verify_sd_jwt",
]

