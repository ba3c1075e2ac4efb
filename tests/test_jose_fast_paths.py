"""Differential tests of the verify path's remembered work (issue 16): each fast path gives what the
plain computation gives.

* a JOSE header segment decoded once (``_jws._flat_header``) vs ``json_object`` on every call: the same
  dict (a fresh one each time), the same errors, nested headers not remembered;
* a DID document's methods and relationships read once (``DIDDocument``) vs the lookups written out;
* secp256k1 through libsecp256k1's compact parser vs coincurve's DER ``verify``;
* the VC 1.1 ``issuanceDate`` spelling vs ``strftime``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import coincurve
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaga_vc.did import DIDDocument
from kaga_vc.errors import KagaError
from kaga_vc.keys import KeyType, PrivateKey
from kaga_vc.proofs.jose import _jws
from kaga_vc.proofs.jose._primitives import verify_signature
from kaga_vc.proofs.jose.jwt_vc11 import _iso

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except KagaError as exc:
        return "error", exc.code


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=5) | st.binary(max_size=40), st.integers(0, 3))
def test_a_remembered_header_decodes_like_json_object(header: Any, max_depth: int) -> None:
    segment = _jws.b64url_encode(header if isinstance(header, bytes) else _jws.canonical_json(header))
    for _ in range(2):  # the second call is served from the memo
        assert _outcome(lambda: _jws._header_object(segment, max_depth)) == _outcome(
            lambda: _jws.json_object(segment, "JOSE header", max_depth=max_depth))


def test_a_remembered_header_is_a_fresh_dict_and_nested_ones_are_not_remembered() -> None:
    segment = _jws.b64url_encode(b'{"alg":"ES256K","typ":"JWT","kid":"did:example:a#k"}')
    first = _jws._header_object(segment, 32)
    first["alg"] = "none"  # a caller changing its header changes nobody else's
    assert _jws._header_object(segment, 32) == {"alg": "ES256K", "typ": "JWT", "kid": "did:example:a#k"}
    nested = _jws.b64url_encode(b'{"alg":"ES256","jwk":{"kty":"EC"}}')
    assert _jws._flat_header(nested, 32) is None
    one, two = _jws._header_object(nested, 32), _jws._header_object(nested, 32)
    assert one == two and one["jwk"] is not two["jwk"]


def _reference_methods(raw: dict[str, Any]) -> list[Any]:
    document = DIDDocument(raw)
    found: dict[str, Any] = {}
    from kaga_vc.did import VerificationMethod

    for item in raw.get("verificationMethod") or []:
        vm = VerificationMethod.from_json(item, document.id)
        found.setdefault(vm.id, vm)
    for rel in ("authentication", "assertionMethod", "keyAgreement", "capabilityInvocation", "capabilityDelegation"):
        items = raw.get(rel)
        for item in (items if isinstance(items, list) else [items] if items is not None else []):
            if isinstance(item, dict):
                vm = VerificationMethod.from_json(item, document.id)
                found.setdefault(vm.id, vm)
    return list(found.values())


def _id_type(method: Any) -> tuple[str, str] | None:
    return (method.id, method.type) if method is not None else None


METHOD = st.fixed_dictionaries({"id": st.sampled_from(["#a", "#b", "did:example:x#a", "did:example:y#c"]),
                                "type": st.sampled_from(["Multikey", "JsonWebKey2020"]),
                                "controller": st.just("did:example:x")})
BAD_METHOD = st.sampled_from([{"id": "#z"}, "not an object", {"id": 1, "type": "T", "controller": "c"}])
RELATION = st.lists(st.sampled_from(["#a", "#b", "did:example:x#c", 7]) | METHOD | BAD_METHOD, max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.lists(METHOD | BAD_METHOD, max_size=3), RELATION, RELATION)
def test_a_document_read_once_answers_like_the_lookups_written_out(methods: Any, assertion: Any, auth: Any) -> None:
    raw = {"id": "did:example:x", "verificationMethod": methods, "assertionMethod": assertion, "authentication": auth}
    document = DIDDocument(raw)
    reference = _outcome(lambda: [(m.id, m.type) for m in _reference_methods(raw)])
    for _ in range(2):  # a malformed method raises on every lookup, a good document answers from memory
        assert _outcome(lambda: [(m.id, m.type) for m in document.verification_methods()]) == reference
        for wanted in ("#a", "did:example:x#a", "#c", "did:example:y#c", "#nothing"):
            expected = _outcome(lambda w=wanted: next(
                ((m.id, m.type) for m in _reference_methods(raw) if m.id == (raw["id"] + w if w.startswith("#") else w)),
                None))
            got = _outcome(lambda w=wanted: _id_type(document.verification_method(w)))
            assert got == expected
        listed = [raw["id"] + i if i.startswith("#") else i for i in
                  [x if isinstance(x, str) else x.get("id") if isinstance(x, dict) and isinstance(x.get("id"), str)
                   else None for x in assertion] if i is not None]
        assert document.relationship("assertionMethod") == listed
        assert document.has_relationship("#a", "assertionMethod") == ("did:example:x#a" in listed)
    document.relationship("assertionMethod").append("did:example:x#forged")  # a copy: the view is unchanged
    assert "did:example:x#forged" not in document.relationship("assertionMethod")


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=66), st.binary(max_size=64), st.booleans())
def test_secp256k1_compact_check_agrees_with_coincurve_der_verify(noise: bytes, data: bytes, real: bool) -> None:
    key = PrivateKey.from_bytes(KeyType.SECP256K1, hashlib.sha256(b"fast-path").digest())
    native = coincurve.PublicKey(key.public_key.raw)
    signature = key.sign(data) if real else noise
    if real and noise:  # flip one byte of a real signature
        index = noise[0] % 64
        signature = signature[:index] + bytes([signature[index] ^ (noise[-1] | 1)]) + signature[index + 1:]
    expected = False
    if len(signature) == 64:
        try:
            from coincurve.ecdsa import cdata_to_der, deserialize_compact

            expected = native.verify(cdata_to_der(deserialize_compact(signature)), data)
        except ValueError:
            expected = False
    assert verify_signature(key.public_key, data, signature) is expected


@pytest.mark.parametrize("seconds", [0, 1, -1, 1.75, 1e11, -1e10, -5e10, -62135596800, -62135596801, 1767225600])
def test_issuance_date_spelling_is_strftimes(seconds: float) -> None:
    try:
        expected: str | None = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        expected = None
    assert _iso(seconds) == expected


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-6.3e10, max_value=2.6e11, allow_nan=False) | st.integers(-(2**40), 2**40))
def test_issuance_date_spelling_is_strftimes_everywhere(seconds: float) -> None:
    test_issuance_date_spelling_is_strftimes(seconds)


def test_a_resolution_result_keeps_one_document_view() -> None:
    from kaga_vc.did import KeyMethod, Resolver

    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    result = Resolver({"key": KeyMethod()}).resolve(did)
    assert result.document is result.document and result.document.raw is result.did_document
    again = Resolver({"key": KeyMethod()}).resolve(did)
    assert again == result and again.document is not result.document  # compared by content, not by view
    assert "_view" not in repr(result) and set(result.to_json()) == {"didDocument", "didDocumentMetadata",
                                                                     "didResolutionMetadata"}
