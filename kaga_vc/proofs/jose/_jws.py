"""Compact JWS with strict JOSE hygiene: parse, sign through a ``Signer``, verify against a DID key.

What a verifier here refuses before any key is looked at (RFC 8725 §3, RFC 7515 §4.1.11):

* tokens over :attr:`JOSELimits.max_token_bytes`, segments that are not canonical base64url, headers and
  payloads that are not JSON objects, JSON with duplicate member names or NaN/Infinity;
* ``alg`` ``none``, every HMAC algorithm, and any algorithm outside :data:`ALGORITHMS`;
* a ``crit`` header naming anything (this library understands no JWS extension), and ``b64: false``.

The key is never taken from the token (``jwk``, ``jku``, ``x5u`` are ignored): it comes from the issuer's
DID document, and the header ``alg`` must be the one algorithm allowed for that key's type. Signature
verification against a public key calls the primitive directly (:mod:`._primitives`); ``ES256K``/``ES256K-R``
against an ``EcdsaSecp256k1RecoveryMethod2020`` (a ``blockchainAccountId``, no public key) recovers the
key with libsecp256k1 and compares Ethereum addresses, as did-jwt does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import coincurve

from ..._encoding import b64url_decode, b64url_encode
from ...errors import (
    ALGORITHM_KEY_MISMATCH,
    ALGORITHM_NOT_ALLOWED,
    DOCUMENT_TOO_DEEP,
    DOCUMENT_TOO_LARGE,
    DUPLICATE_JSON_KEY,
    INVALID_VERIFICATION_METHOD,
    PARSING_ERROR,
    PROOF_GENERATION_ERROR,
    PROOF_VERIFICATION_ERROR,
    UNSUPPORTED_CRITICAL_HEADER,
    InputError,
    KagaError,
    ProofError,
    UnsupportedError,
)
from ...keys import KeyType, PublicKey, Signer, keccak256
from ._primitives import prepared_check, verify_signature

JSONObject = dict[str, Any]

# The allow-list: JOSE algorithm → the one key type that may sign with it (RFC 8037, RFC 7518, RFC 8812).
# ES256K-R is did-jwt's recoverable form (r || s || recid, 65 bytes).
ALGORITHMS: dict[str, KeyType] = {
    "EdDSA": KeyType.ED25519,
    "ES256": KeyType.P256,
    "ES384": KeyType.P384,
    "ES512": KeyType.P521,
    "ES256K": KeyType.SECP256K1,
    "ES256K-R": KeyType.SECP256K1,
}
RECOVERY_METHOD_TYPES = ("EcdsaSecp256k1RecoveryMethod2020",)
_ALL_ALGORITHMS = frozenset(ALGORITHMS)


@dataclass(frozen=True, slots=True)
class JOSELimits:
    """Size limits applied before anything is decoded (a DoS guard, RFC 8725 §3.x spirit)."""

    max_token_bytes: int = 64 * 1024
    max_header_bytes: int = 4 * 1024
    max_disclosures: int = 512
    max_depth: int = 32
    #: the accepted ``alg`` values (a subset of :data:`ALGORITHMS`); ``None``: all of them
    algorithms: frozenset[str] | None = None


DEFAULT_LIMITS = JOSELimits()


@dataclass(frozen=True, slots=True)
class CompactJWS:
    """A parsed compact JWS: the decoded header and payload plus the exact bytes that were signed."""

    token: str
    header: JSONObject
    payload: JSONObject
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return str(self.header["alg"])


# -- strict JSON ---------------------------------------------------------------------------------
def _reject_duplicates(pairs: list[tuple[str, Any]]) -> JSONObject:
    out: JSONObject = dict(pairs)  # built in C; only a short count means a name came twice
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InputError(DUPLICATE_JSON_KEY, f"duplicate JSON member {key!r}", key=key)
            seen.add(key)
    return out


def _reject_constant(name: str) -> Any:
    raise InputError(PARSING_ERROR, f"JSON constant {name} is not allowed")


_OPENERS = frozenset(b"{[")
_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)


_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _decode(text: str) -> Any:
    """``_DECODER.decode(text)``; a text that is one object or array, no surrounding whitespace, skips
    decode's two whitespace scans (anything else, errors included, goes through decode itself)."""
    if text and text[0] in "{[":
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            return _DECODER.decode(text)
        if end == len(text):
            return value
    return _DECODER.decode(text)


def strict_json_loads(data: bytes | str, *, max_depth: int = DEFAULT_LIMITS.max_depth) -> Any:
    """Parse JSON refusing duplicate names, NaN/Infinity and nesting deeper than ``max_depth``."""
    try:
        # json.loads with hooks builds a decoder per call; this is json.loads with one decoder kept
        if isinstance(data, (bytes, bytearray)):
            # json.detect_encoding says UTF-8 whenever the first two bytes are non-zero and no BOM: a
            # JSON object or array opening with an ASCII bracket needs no detection
            utf8 = len(data) > 1 and data[0] in _OPENERS and data[1] != 0
            text = data.decode("utf-8" if utf8 else json.detect_encoding(data), "surrogatepass")
        elif isinstance(data, str):
            if data.startswith("\ufeff"):
                raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", data, 0)
            text = data
        else:
            raise TypeError(f"the JSON object must be str, bytes or bytearray, not {type(data).__name__}")
        value = _decode(text)
    except InputError:
        raise
    except RecursionError:
        raise InputError(DOCUMENT_TOO_DEEP, f"JSON nested deeper than {max_depth}", limit=max_depth) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(PARSING_ERROR, "not valid JSON") from exc
    # nesting needs an opening bracket per level: with few of them in the text, no walk is needed
    if text.count("{") + text.count("[") > max_depth and _depth(value, max_depth) > max_depth:
        raise InputError(DOCUMENT_TOO_DEEP, f"JSON nested deeper than {max_depth}", limit=max_depth)
    return value


def _depth(value: Any, limit: int, level: int = 0) -> int:
    if level > limit:
        return level
    if isinstance(value, dict):
        return max((_depth(v, limit, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, limit, level + 1) for v in value), default=level + 1)
    return level


def json_object(segment: str, what: str, *, max_depth: int = DEFAULT_LIMITS.max_depth) -> JSONObject:
    """Decode one base64url segment that must hold a JSON object."""
    try:
        raw = b64url_decode(segment)
    except InputError:
        raise InputError(PARSING_ERROR, f"{what} is not base64url") from None
    value = strict_json_loads(raw, max_depth=max_depth)
    if not isinstance(value, dict):
        raise InputError(PARSING_ERROR, f"{what} is not a JSON object")
    return value


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
"""What ``json.dumps`` with these options builds on every call, built once."""
_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_C_COMPACT = None if _MAKE_ENCODER is None else _MAKE_ENCODER(
    None, _COMPACT.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)
"""The C encoder that ``_COMPACT.encode`` makes afresh on every call (an SD-JWT encodes some twenty
values), made once; without the circular-reference check, which only values built in code could fail
(the recursion limit still stops them)."""


def canonical_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, as the JOSE header and payload are serialised when signing."""
    if _C_COMPACT is None:  # pragma: no cover - CPython always has the C encoder
        return _COMPACT.encode(value).encode("utf-8")
    return "".join(_C_COMPACT(value, 0)).encode("utf-8")


# -- parse ---------------------------------------------------------------------------------------
def parse_compact(
    token: str,
    *,
    limits: JOSELimits = DEFAULT_LIMITS,
    allowed_algs: Iterable[str] | None = None,
) -> CompactJWS:
    """Split and decode a compact JWS, applying every header rule that needs no key.

    Raises :class:`InputError` (``PARSING_ERROR``, ``kaga:document-too-large``) for malformed input and
    :class:`UnsupportedError` (``kaga:algorithm-not-allowed``, ``kaga:unsupported-critical-header``).
    """
    if not isinstance(token, str):
        raise InputError(PARSING_ERROR, "a JWS must be a string")
    if len(token) > limits.max_token_bytes:
        raise InputError(DOCUMENT_TOO_LARGE, f"token longer than {limits.max_token_bytes} bytes")
    if not token.isascii():
        raise InputError(PARSING_ERROR, "a compact JWS is ASCII")
    parts = token.split(".")
    if len(parts) != 3:
        raise InputError(PARSING_ERROR, "a compact JWS has exactly three segments")
    header_b64, payload_b64, signature_b64 = parts
    if len(header_b64) > limits.max_header_bytes:
        raise InputError(DOCUMENT_TOO_LARGE, f"JOSE header longer than {limits.max_header_bytes} bytes")
    header = _header_object(header_b64, limits.max_depth)
    check_header(header, allowed_algs)
    if limits.algorithms is not None:
        check_header(header, limits.algorithms)
    payload = json_object(payload_b64, "JWS payload", max_depth=limits.max_depth)
    try:
        signature = b64url_decode(signature_b64)
    except InputError:
        raise InputError(PARSING_ERROR, "JWS signature is not base64url") from None
    if not signature:
        raise InputError(PARSING_ERROR, "JWS signature is empty")
    return CompactJWS(token, header, payload, f"{header_b64}.{payload_b64}".encode("ascii"), signature)


#: how many JOSE header segments keep their decoded members (an LRU; one issuer's headers repeat)
HEADERS = 1024
_FLAT = (str, int, float, bool, type(None))


def _header_object(segment: str, max_depth: int) -> JSONObject:
    """``json_object(segment, "JOSE header")``, a fresh dict each time: a flat header (every member a
    string, number, boolean or null: what an issuer's headers are) is decoded once per segment."""
    if len(segment) <= 1024:
        members = _flat_header(segment, max_depth)
        if members is not None:
            return dict(members)
    return json_object(segment, "JOSE header", max_depth=max_depth)


@lru_cache(maxsize=HEADERS)
def _flat_header(segment: str, max_depth: int) -> tuple[tuple[str, Any], ...] | None:
    # raises like json_object (an exception is not remembered); None: a nested header, decoded per call
    header = json_object(segment, "JOSE header", max_depth=max_depth)
    if all(type(value) in _FLAT for value in header.values()):
        return tuple(header.items())
    return None


def check_header(header: JSONObject, allowed_algs: Iterable[str] | None = None) -> None:
    """Apply the algorithm allow-list and the ``crit``/``b64`` rules to a JOSE header."""
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise InputError(PARSING_ERROR, "JOSE header has no 'alg'")
    allowed = _ALL_ALGORITHMS if allowed_algs is None else _ALL_ALGORITHMS.intersection(allowed_algs)
    if alg not in allowed:
        # 'none' and every HS*/PS*/RS* end here: never a key-type confusion.
        raise UnsupportedError(ALGORITHM_NOT_ALLOWED, f"JWS algorithm {alg!r} is not allowed")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
            raise InputError(PARSING_ERROR, "'crit' must be a non-empty list of header names")
        # RFC 7515 §4.1.11: we understand no extension, so any critical one makes the JWS invalid.
        raise UnsupportedError(UNSUPPORTED_CRITICAL_HEADER, f"critical header(s) not understood: {crit}")
    if "b64" in header:
        raise UnsupportedError(UNSUPPORTED_CRITICAL_HEADER, "unencoded payloads (b64) are not supported")
    for name in ("typ", "cty", "kid"):
        if name in header and not isinstance(header[name], str):
            raise InputError(PARSING_ERROR, f"JOSE header {name!r} must be a string")


# -- sign ----------------------------------------------------------------------------------------
def alg_for_key_type(key_type: KeyType, *, recoverable: bool = False) -> str:
    """The JOSE algorithm a key of this type signs with (``ES256K-R`` if ``recoverable``)."""
    if recoverable:
        if key_type is not KeyType.SECP256K1:
            raise UnsupportedError(ALGORITHM_KEY_MISMATCH, "ES256K-R needs a secp256k1 key")
        return "ES256K-R"
    alg = key_type.info.jose_alg
    if alg is None or alg not in ALGORITHMS:
        raise UnsupportedError(ALGORITHM_KEY_MISMATCH, f"{key_type.value} keys do not sign JWS")
    return alg


def sign_compact(header: JSONObject, payload: JSONObject, signer: Signer) -> str:
    """Serialise and sign a compact JWS; ``header['alg']`` must suit the signer's key type.

    ``ES256K-R`` needs a signer that can produce a recoverable signature (``sign_recoverable`` or a
    :class:`~kaga_vc.keys.KeySigner`). Raises :class:`ProofError` ``PROOF_GENERATION_ERROR``.
    """
    alg = header.get("alg")
    if alg not in ALGORITHMS or ALGORITHMS[alg] is not signer.key_type:
        raise ProofError(PROOF_GENERATION_ERROR, f"algorithm {alg!r} does not suit a {signer.key_type.value} key")
    check_header(header)
    signing_input = b64url_encode(canonical_json(header)) + "." + b64url_encode(canonical_json(payload))
    data = signing_input.encode("ascii")
    try:
        if alg == "ES256K-R":
            signature = _sign_recoverable(signer, data)
        else:
            signature = signer.sign(data)
    except KagaError:
        raise
    except Exception as exc:  # a signer plug-in failing in its own way
        raise ProofError(PROOF_GENERATION_ERROR, f"signer failed: {type(exc).__name__}") from exc
    return signing_input + "." + b64url_encode(signature)


def _sign_recoverable(signer: Signer, data: bytes) -> bytes:
    digest = hashlib.sha256(data).digest()
    custom = getattr(signer, "sign_recoverable", None)
    if callable(custom):
        return bytes(custom(digest))
    key = getattr(signer, "key", None)
    if key is not None and hasattr(key, "sign_digest_recoverable"):
        return bytes(key.sign_digest_recoverable(digest))
    raise ProofError(PROOF_GENERATION_ERROR, "this signer cannot make recoverable (ES256K-R) signatures")


# -- verify --------------------------------------------------------------------------------------
def verify_with_public_key(jws: CompactJWS, public_key: PublicKey) -> None:
    """Verify the signature with ``public_key``; the header alg must be the key type's algorithm.

    The signature is checked by the primitive itself (:mod:`._primitives`), never a second JOSE
    library. Raises :class:`ProofError` (``PROOF_VERIFICATION_ERROR``) or :class:`UnsupportedError`
    (``kaga:algorithm-key-mismatch``).
    """
    alg = jws.alg
    if ALGORITHMS.get(alg) is not public_key.key_type:
        raise UnsupportedError(
            ALGORITHM_KEY_MISMATCH, f"algorithm {alg} cannot be used with a {public_key.key_type.value} key"
        )
    if alg == "ES256K" and len(jws.signature) == 64 and int.from_bytes(jws.signature[32:], "big") > _SECP256K1_HALF_N:
        # the high-s twin of a valid signature: a second spelling of it, refused (as libsecp256k1 does)
        raise ProofError(PROOF_VERIFICATION_ERROR, "secp256k1 signature has a high s (malleable form)")
    if alg == "ES256K-R":
        expected = public_key.uncompressed()
        _verify_recovered(jws, lambda point: point == expected)
        return
    if not verify_signature(public_key, jws.signing_input, jws.signature):
        raise ProofError(PROOF_VERIFICATION_ERROR, "JWS signature does not verify")


def verify_with_account(jws: CompactJWS, blockchain_account_id: str) -> None:
    """Verify ``ES256K``/``ES256K-R`` by key recovery against an ``eip155:<chain>:<address>`` account."""
    if jws.alg not in ("ES256K", "ES256K-R"):
        raise UnsupportedError(
            ALGORITHM_KEY_MISMATCH, f"algorithm {jws.alg} cannot be checked against a blockchain account"
        )
    parts = blockchain_account_id.split(":")
    if len(parts) != 3 or parts[0] != "eip155":
        raise ProofError(INVALID_VERIFICATION_METHOD, "blockchainAccountId is not an eip155 account")
    wanted = parts[2].lower()
    known = _ACCOUNT_KEYS.get(wanted)
    if known is not None and jws.alg == "ES256K" and _verify_with_known_key(jws, known[1]):
        return
    point_of_account = known[0] if known is not None else None

    def matches(point: bytes) -> bool:  # the remembered key spares the keccak
        return point == point_of_account or "0x" + keccak256(point[1:])[-20:].hex() == wanted

    point = _verify_recovered(jws, matches)
    _remember_account_key(wanted, point)


# An account's public key (uncompressed SEC1) and its prepared check, once a signature recovered to it
# (keccak(key) is the address: a fact, not trust). An ES256K signature (no recovery id) then costs one
# verify against that key instead of up to two recoveries. ES256K-R always recovers: its recovery id is
# part of what is checked.
ACCOUNT_KEYS = 1024
_ACCOUNT_KEYS: dict[str, tuple[bytes, Callable[[bytes, bytes], bool]]] = {}


def _remember_account_key(account: str, point: bytes) -> None:
    if account not in _ACCOUNT_KEYS:
        if len(_ACCOUNT_KEYS) >= ACCOUNT_KEYS:
            _ACCOUNT_KEYS.pop(next(iter(_ACCOUNT_KEYS)))  # the oldest one
        _ACCOUNT_KEYS[account] = (point, prepared_check(PublicKey.from_raw(KeyType.SECP256K1, point)))


def _verify_with_known_key(jws: CompactJWS, check: Callable[[bytes, bytes], bool]) -> bool:
    """Whether the ``r || s`` signature verifies with the remembered key's check; low s, 64 bytes."""
    signature = jws.signature
    if len(signature) != 64 or int.from_bytes(signature[32:], "big") > _SECP256K1_HALF_N:
        return False
    return check(jws.signing_input, signature)


def _verify_recovered(jws: CompactJWS, matches: Any) -> bytes:
    """Recover the signer's point (uncompressed SEC1 bytes) with libsecp256k1, test it with ``matches``
    and return it."""
    digest = hashlib.sha256(jws.signing_input).digest()
    signature = jws.signature
    if jws.alg == "ES256K-R":
        if len(signature) != 65:
            raise ProofError(PROOF_VERIFICATION_ERROR, "ES256K-R signature must be 65 bytes")
        candidates = [signature]
    else:
        if len(signature) != 64:
            raise ProofError(PROOF_VERIFICATION_ERROR, "ES256K signature must be 64 bytes")
        candidates = [signature + b"\x00", signature + b"\x01"]
    if int.from_bytes(signature[32:64], "big") > _SECP256K1_HALF_N:
        raise ProofError(PROOF_VERIFICATION_ERROR, "secp256k1 signature has a high s (malleable form)")
    for candidate in candidates:
        if candidate[64] not in (0, 1):
            continue
        try:
            point = coincurve.PublicKey.from_signature_and_message(candidate, digest, hasher=None)
        except Exception:  # noqa: BLE001, S112 - libsecp256k1 refuses an unrecoverable signature
            continue
        uncompressed = point.format(compressed=False)
        if matches(uncompressed):
            return bytes(uncompressed)
    raise ProofError(PROOF_VERIFICATION_ERROR, "JWS signature does not recover to the expected key")


_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
