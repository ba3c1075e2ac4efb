"""Codes that no other test reached (found by tests/test_error_codes.py): each one provoked and asserted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kaga_vc import errors
from kaga_vc.credentials import issue_credential, verify_credential
from kaga_vc.did import DIDURL, KeyMethod, ResolutionOptions, Resolver
from kaga_vc.errors import KagaError
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from tests.di.conftest import NOW, make_signer, unsigned_credential


def _code(call: Any) -> str:
    with pytest.raises(KagaError) as raised:
        call()
    return raised.value.code


def test_default_codes_of_the_tree() -> None:
    assert errors.KagaError().code == errors.ERROR == "kaga:error"
    assert errors.UnsupportedError().code == errors.UNSUPPORTED
    assert errors.UnavailableError().code == errors.UNAVAILABLE


def test_did_url_and_representation_codes() -> None:
    assert _code(lambda: DIDURL.parse("did:key:z6Mk#frag ment")) == errors.INVALID_DID_URL
    assert _code(lambda: ResolutionOptions(accept="text/html")) == errors.REPRESENTATION_NOT_SUPPORTED
    did = make_signer(seed=5).key_id.split("#")[0]
    resolver = Resolver({"key": KeyMethod(public_key_format="NoSuchFormat")})
    assert _code(lambda: resolver.resolve_document(did)) == errors.UNSUPPORTED_PUBLIC_KEY_FORMAT


def test_a_context_loader_that_returns_nothing_is_could_not_check() -> None:
    signer = make_signer(seed=5)
    credential = issue_credential(unsigned_credential(issuer=signer.key_id.split("#")[0]), signer=signer, created=NOW)
    result = verify_credential(credential, resolver=Resolver({"key": KeyMethod()}), now=NOW,
                               loader=lambda url, options: None)  # type: ignore[arg-type,return-value]
    assert result.verified is False
    assert errors.CONTEXT_LOAD_FAILED in result.codes
    assert result.could_not_check


def test_signing_an_already_secured_credential_is_refused() -> None:
    signer = make_signer(seed=5)
    secured = issue_credential(unsigned_credential(issuer=signer.key_id.split("#")[0]), signer=signer, created=NOW)
    assert _code(lambda: issue_credential(secured, signer=signer)) == errors.PROOF_SET_UNSUPPORTED


def test_a_signer_returning_a_malformed_signature_is_a_proof_generation_error() -> None:
    class Short(KeySigner):
        def sign(self, data: bytes) -> bytes:
            return b"\x00" * 10

    real = make_signer(seed=5)
    short = Short(PrivateKey.from_bytes(KeyType.ED25519, bytes([5]) * 32), real.key_id)
    credential = unsigned_credential(issuer=real.key_id.split("#")[0])
    assert _code(lambda: issue_credential(credential, signer=short)) == errors.PROOF_GENERATION_ERROR


def test_a_pyld_without_the_dropped_term_hook_is_refused() -> None:
    from kaga_vc.proofs._jsonld import _strict_processor

    class OldProcessor:
        def __init__(self) -> None:  # no on_property_dropped: would drop undefined terms silently
            pass

    assert _code(lambda: _strict_processor(OldProcessor)) == errors.JSONLD_PROCESSOR_UNSUPPORTED


def test_a_kb_jwt_nobody_asked_for_is_a_warning() -> None:
    from kaga_vc.proofs.jose import issue_sd_jwt, present_sd_jwt, verify_sd_jwt

    issuer, holder = make_signer(seed=5), make_signer(seed=6)
    issued = issue_sd_jwt({"iss": issuer.key_id.split("#")[0], "vct": "https://kaga.example/vct/Test",
                           "iat": int(NOW.timestamp()), "ageOver18": True},
                          signer=issuer, disclosable=["ageOver18"], holder_key=holder.key.public_key)
    shown = present_sd_jwt(issued, disclose=["ageOver18"], holder_signer=holder, audience="did:web:shop.example",
                           nonce="n-1", now=NOW)
    result = verify_sd_jwt(shown, resolver=Resolver({"key": KeyMethod()}), now=NOW)
    assert result.verified, result.to_json()
    assert errors.KB_JWT_NOT_BOUND in [w.code for w in result.warnings]


def test_a_refusal_without_a_code_is_logged_as_verification_failed() -> None:
    from kaga_vc.accesslog import AccessEntry
    from kaga_vc.results import VerificationResult

    refused = VerificationResult(False, "kaga-presentation-response", (), checked_at=datetime.now(UTC))
    entry = AccessEntry.from_verification(refused, verifier="did:web:shop.example", subject=None)
    assert entry.result == "refused" and entry.reason == errors.VERIFICATION_FAILED


def test_a_missing_keystore_is_unreadable(tmp_path: Any) -> None:
    from kaga_vc.keys.keystore import load_key

    assert _code(lambda: load_key(tmp_path / "no-such-keystore.json", "password")) == errors.KEYSTORE_UNREADABLE
