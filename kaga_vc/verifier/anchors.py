"""Backdating on the trust-bundle path: keys the city no longer lists, and the credentials anchored under them.

A credential states its own issuance time and the offline verifier resolves the issuer's DID at that
time, so whoever holds a revoked key could sign a new credential dated inside the key's old validity
window. Wallets do not send our anchor proofs, so the city's bundle carries the answer instead:
``bundle sync`` lists, per city verification method that the city's current DID document no longer
accepts, the digests of the credentials the city anchored on chain while the method was valid
(``issuanceAnchors`` in the payload, from the issuance records). On the bundle path a credential of
the city signed with such a key is accepted only if its digest is listed for that key; otherwise
``kaga:key-no-longer-valid``. The list is signed with the rest of the bundle: editing it fails the
bundle's signature.

**Compact form.** Per method one base64url string of the sorted digests, each truncated to its first
16 bytes (:data:`DIGEST_BYTES`): 66,000 credentials take 1.06 MB raw, 1.41 MB in the bundle, and a
lookup is a binary search. Security: to pass, a forged credential's digest
(:func:`kaga_vc.credentials.credential_digest`, SHA-256 of what the key signed) must share its first
128 bits with one of the N listed digests: a second preimage against N targets, about 2^128 / N
SHA-256 evaluations (N = 2^20, a million residents' credentials: 2^108), whoever holds the key. A
collision (2^64) does not help: the list holds only what the city itself issued and anchored.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..credentials import credential_digest, signing_method
from ..did import ResolutionOptions, Resolver
from ..errors import BUNDLE_INVALID, KEY_NO_LONGER_VALID, InputError, KagaError
from ..results import Problem, VerificationResult

if TYPE_CHECKING:
    from .bundle import TrustBundle

DIGEST_BYTES = 16
_DELEGATE = re.compile(r"^did:ethr:[^#]+#delegate-[0-9]+$")
"""Bytes of each listed digest (the first 16 of the credential's SHA-256 digest; module docstring)."""


def encode_digests(digests: Iterable[bytes]) -> str:
    """The compact form of a set of credential digests: sorted, truncated, concatenated, base64url."""
    unique = sorted({d[:DIGEST_BYTES] for d in digests})
    if any(len(d) != DIGEST_BYTES for d in unique):
        raise InputError(BUNDLE_INVALID, f"credential digests are at least {DIGEST_BYTES} bytes")
    return base64.urlsafe_b64encode(b"".join(unique)).decode("ascii").rstrip("=")


def decode_digests(text: Any) -> bytes:
    """The concatenated digests of the compact form (InputError ``kaga:bundle-invalid`` if malformed)."""
    if not isinstance(text, str) or "=" in text:
        raise InputError(BUNDLE_INVALID, "issuanceAnchors holds unpadded base64url strings")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InputError(BUNDLE_INVALID, "issuanceAnchors holds unpadded base64url strings") from None
    if len(raw) % DIGEST_BYTES:
        raise InputError(BUNDLE_INVALID, f"issuanceAnchors lists {DIGEST_BYTES}-byte digests")
    return raw


class _Digests(Sequence[bytes]):
    """The sorted digests of one method, as a sequence for :func:`bisect_left` (no copy)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __len__(self) -> int:
        return len(self.raw) // DIGEST_BYTES

    def __getitem__(self, index: Any) -> Any:
        return self.raw[index * DIGEST_BYTES:(index + 1) * DIGEST_BYTES]


def is_listed(raw: bytes, digest: bytes) -> bool:
    """Whether ``digest`` (a full or truncated credential digest) is in the decoded list ``raw``."""
    key = digest[:DIGEST_BYTES]
    view = _Digests(raw)
    at = bisect_left(view, key)
    return at < len(view) and view[at] == key


def _method_at(resolver: Resolver, method: str, when: datetime | None) -> Any:
    """The assertion method ``method`` in the DID document at ``when`` (None: the latest), or None."""
    options = ResolutionOptions(version_time=when) if when is not None else None
    try:
        vm, _ = resolver.dereference_verification_method(method, relationship="assertionMethod", options=options)
    except KagaError:
        return None
    return vm


def _cached(resolver: Resolver, method: str, cache: dict[datetime | None, Any], when: datetime | None) -> Any:
    if when not in cache:
        cache[when] = _method_at(resolver, method, when)
    return cache[when]


def retired_key_digests(resolver: Resolver, anchored: Mapping[str, Sequence[tuple[bytes, datetime, datetime | None]]],
                        ) -> dict[str, str]:
    """What ``bundle sync`` lists: per verification method that ``resolver``'s latest DID document no
    longer accepts, the compact form of the digests anchored while it was valid.

    ``anchored`` maps a method to ``(digest, earliest anchor time, stated issuance time)`` items (the
    issuance records). An item is listed when, at its anchor time, the DID document still accepted the
    method with the same key as at its issuance, and the anchor is not before the stated issuance
    (the rule ``verify --embedded-chain`` applies to an anchor proof).
    """
    out: dict[str, str] = {}
    for method, items in sorted(anchored.items()):
        if _method_at(resolver, method, None) is not None:
            continue  # still valid: nothing to prove
        at: dict[datetime | None, Any] = {}  # one resolution per distinct time (a batch shares a few)
        listed = []
        for digest, anchored_at, issued_at in items:
            then = _cached(resolver, method, at, anchored_at)
            if then is None or (issued_at is not None and issued_at > anchored_at):
                continue
            signed_with = _cached(resolver, method, at, issued_at) if issued_at is not None else then
            if signed_with is not None and signed_with.raw == then.raw:
                listed.append(digest)
        if listed:
            out[method] = encode_digests(listed)
    return out


def retired_key_check(bundle: TrustBundle) -> Callable[[Any, VerificationResult], VerificationResult]:
    """The bundle path's rule for a credential of the bundle's city (a ``VerifyParameters.credential_check``).

    A verified credential whose signing method the city's latest DID document (in the bundle) no longer
    accepts with the same key is refused with ``kaga:key-no-longer-valid`` unless its digest is listed
    for that method in the bundle's ``issuanceAnchors``. Other issuers are left as they are.
    """
    from ._verify import issuance_of

    current = bundle.resolver()
    today: dict[str, Any] = {}  # one look-up of the latest document per method and response

    def still_valid(method: str, issued_at: datetime | None) -> bool:
        if method not in today:
            today[method] = _method_at(current, method, None)
        if today[method] is None:
            return False
        if issued_at is None or _DELEGATE.search(method):
            return True  # a did:ethr #delegate-N is one registry event, one key, for ever
        # another id may name another key today than then (#controller after a change of owner)
        then = _method_at(bundle.resolver(), method, issued_at)
        return then is not None and bool(today[method].raw == then.raw)

    def check(document: Any, result: VerificationResult) -> VerificationResult:
        if not result.verified or result.issuer != bundle.city or not isinstance(document, (str, dict)):
            return result
        method = signing_method(document)
        digest = credential_digest(document)
        if method is not None:
            if still_valid(method, issuance_of(document)[1]):
                return result
            listed = bundle.issuance_anchors.get(method)
            if listed is not None and is_listed(listed, digest):
                return _anchored(result)
        else:  # no kid (a VC 1.1 JWT may omit it): valid today, or listed under any retired method
            from ..credentials import verify_credential

            if verify_credential(document, resolver=current, now=result.checked_at).verified:
                return result
            if any(is_listed(raw, digest) for raw in bundle.issuance_anchors.values()):
                return _anchored(result)
        detail = (f"signed with {method or 'a key'} that the city's DID no longer accepts, and the trust bundle "
                  "does not list it as anchored while the key was valid (it may be backdated)")
        return dataclasses.replace(result, verified=False, problems=(
            *result.problems, Problem(KEY_NO_LONGER_VALID, detail, None, {"verificationMethod": method})))

    return check


def _anchored(result: VerificationResult) -> VerificationResult:
    return dataclasses.replace(result, checks=(*result.checks, "issuanceAnchor"))


__all__ = ["DIGEST_BYTES", "decode_digests", "encode_digests", "is_listed", "retired_key_check",
           "retired_key_digests"]
