"""Presentation requests, responses, their compact and QR forms, and the durable nonce store (offline)."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.errors import KagaError
from kaga_vc.keys import KeySigner
from kaga_vc.verifier import (
    CredentialQuery,
    NonceStore,
    PresentationResponse,
    create_request,
    decode_response,
    encode_response,
    parse_request,
    read_request,
)
from kaga_vc.verifier.qr import make_qr, qr_text, write_qr

from .conftest import did_key_signer

RESOLVER = Resolver({"key": KeyMethod()})
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def verifier() -> KeySigner:
    return did_key_signer()


def make(verifier: KeySigner, **kw: object):
    kw.setdefault("credentials", [CredentialQuery("KycCredential", ("ageOver18",))])
    return create_request(signer=verifier, purpose="hotel check-in", location="山代温泉", now=NOW, **kw)  # type: ignore[arg-type]


def test_request_round_trip(verifier: KeySigner, no_network: None) -> None:
    request = make(verifier, service="urn:kaga:service:ryokan-1")
    read = read_request(request.token, resolver=RESOLVER, now=NOW + timedelta(minutes=1))
    assert read.verifier == verifier.key_id.split("#")[0] == request.verifier
    assert read.nonce == request.nonce and len(read.nonce) >= 22  # 128 bits, base64url
    assert read.credentials == request.credentials and read.requested_claims == ["ageOver18"]
    assert (read.purpose, read.location, read.service) == ("hotel check-in", "山代温泉", "urn:kaga:service:ryokan-1")
    assert read.expires - read.created == timedelta(minutes=5)
    assert make(verifier).nonce != request.nonce


def test_credential_query_parsing() -> None:
    assert CredentialQuery.parse("KycCredential:ageOver18, ageOver20") == CredentialQuery("KycCredential", ("ageOver18", "ageOver20"))
    assert CredentialQuery.parse("residentOfKaga") == CredentialQuery("*", ("residentOfKaga",))
    with pytest.raises(KagaError) as error:
        CredentialQuery.parse("KycCredential:")
    assert error.value.code == "kaga:request-invalid"


def _swap_payload(token: str, change: object) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(data)  # type: ignore[operator]
    return header + "." + base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode() + "." + signature


def test_wallet_side_refusals(verifier: KeySigner) -> None:
    request = make(verifier)
    cases = {
        "kaga:request-expired": {"token": request.token, "now": NOW + timedelta(minutes=11)},
        "kaga:request-verifier-mismatch": {"token": request.token, "expected": did_key_signer().key_id.split("#")[0]},
        "kaga:request-signature-invalid": {"token": _swap_payload(request.token, lambda d: d.update(purpose="marketing"))},
    }
    for code, case in cases.items():
        with pytest.raises(KagaError) as error:
            read_request(case["token"], resolver=RESOLVER, now=case.get("now", NOW), expected_verifier=case.get("expected"))
        assert error.value.code == code
    # a request naming another verifier than the key that signed it
    impostor = _swap_payload(request.token, lambda d: d.update(iss=did_key_signer().key_id.split("#")[0]))
    with pytest.raises(KagaError) as error:
        read_request(impostor, resolver=RESOLVER, now=NOW)
    assert error.value.code == "kaga:request-verifier-mismatch"
    other_typ = base64.urlsafe_b64encode(b'{"alg":"EdDSA","typ":"JWT"}').rstrip(b"=").decode()
    for bad in ("", "not a jws", other_typ + request.token[request.token.index("."):]):
        with pytest.raises(KagaError) as error:
            parse_request(bad)
        assert error.value.code == "kaga:request-invalid"
    with pytest.raises(KagaError) as error:
        create_request(signer=verifier, purpose=" ", credentials=[CredentialQuery("*", ("a",))])
    assert error.value.code == "kaga:request-invalid"


def test_a_request_carries_the_shops_name_signed(verifier: KeySigner, no_network: None) -> None:
    request = make(verifier, name="山代温泉 ゆのくに")
    read = read_request(request.token, resolver=RESOLVER, now=NOW + timedelta(minutes=1))
    assert read.name == request.name == "山代温泉 ゆのくに" and read.to_json()["name"] == read.name
    assert make(verifier).name is None
    for bad in (" ", "x" * 101):
        with pytest.raises(KagaError) as error:
            make(verifier, name=bad)
        assert error.value.code == "kaga:request-invalid"


def test_response_compact_form() -> None:
    response = PresentationResponse("urn:uuid:1", ("eyJ.a.b~d1~", {"@context": ["x"], "type": "VerifiablePresentation"}))
    compact = encode_response(response)
    assert compact.startswith("KVP1:")
    assert set(compact[5:]) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")  # QR alphanumeric
    assert decode_response(compact) == response
    assert decode_response(compact + "\n") == response
    # bare presentations are responses too (peers send them without the envelope)
    assert decode_response("eyJ.a.b").presentations == ("eyJ.a.b",)
    assert decode_response('{"type": "VerifiablePresentation"}').presentations == ({"type": "VerifiablePresentation"},)


def test_response_refusals() -> None:
    import base45

    bomb = "KVP1:" + base45.b45encode(zlib.compress(json.dumps({"presentations": ["a" * 3_000_000]}).encode())).decode()
    empty = "KVP1:" + base45.b45encode(zlib.compress(b'{"presentations": []}')).decode()
    for bad in ("KVP1:not base45 ~~", "KVP1:" + base45.b45encode(b"not zlib").decode(), bomb, empty, "  "):
        with pytest.raises(KagaError) as error:
            decode_response(bad)
        assert error.value.code == "kaga:response-invalid"


def test_qr_codes_round_trip(verifier: KeySigner, tmp_path: Path) -> None:
    """What we draw decodes back to the same string (zxing-cpp reads the PNG)."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    request = make(verifier)
    response = encode_response(PresentationResponse("urn:uuid:1", ("x" * 900,)))
    for text, name in ((request.token, "request.png"), (response, "response.png")):
        write_qr(text, tmp_path / name)
        decoded = zxingcpp.read_barcodes(Image.open(tmp_path / name))
        assert [d.text for d in decoded] == [text]
    assert make_qr(response).mode == "alphanumeric"
    svg = write_qr(request.token, tmp_path / "request.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    terminal = qr_text(request.token)
    assert terminal == (write_qr(request.token, tmp_path / "request.txt").read_text()) and "█" in terminal


def test_qr_too_large_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KagaError) as error:
        write_qr("KVP1:" + "A" * 5000, tmp_path / "big.png")
    assert error.value.code == "kaga:qr-too-large"
    assert "4,296" in error.value.detail and not (tmp_path / "big.png").exists()
    with pytest.raises(KagaError):
        write_qr("x", tmp_path / "code.gif")


def test_nonce_store_is_single_use_and_durable(tmp_path: Path) -> None:
    path = tmp_path / "nonces.sqlite3"
    with NonceStore(path) as store:
        store.consume("n-1", request_id="r-1", expires_at=NOW + timedelta(minutes=5), now=NOW)
        with pytest.raises(KagaError) as error:
            store.consume("n-1", request_id="r-1", expires_at=NOW, now=NOW)
        assert error.value.code == "kaga:nonce-replayed"
    with NonceStore(path) as reopened:  # a restart
        assert reopened.is_used("n-1")
        with pytest.raises(KagaError):
            reopened.consume("n-1", request_id="r-1", expires_at=NOW, now=NOW)
        reopened.consume("n-2", request_id="r-2", expires_at=NOW, now=NOW)
        assert reopened.purge(now=NOW + timedelta(hours=1)) == 2
        assert not reopened.is_used("n-1")
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_compact_response_json_is_read_strictly() -> None:
    """KVP1 JSON gets the credential limits: deep nesting and duplicate members are refused, typed."""
    import base45

    def kvp(body: str) -> str:
        return "KVP1:" + base45.b45encode(zlib.compress(body.encode())).decode()

    deep = kvp('{"presentations":[' + "[" * 100_000 + "]" * 100_000 + "]}")
    # two spellings of one member: the verifier and an application could read different holders
    duplicate = kvp('{"presentations":[{"type":"VerifiablePresentation","holder":"did:ex:a","holder":"did:ex:b"}]}')
    for bad, reason in ((deep, "kaga:document-too-deep"), (duplicate, "kaga:duplicate-json-key")):
        with pytest.raises(KagaError) as error:
            decode_response(bad)
        assert error.value.code == "kaga:response-invalid"
        assert error.value.context["reason"] == reason
