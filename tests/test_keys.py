"""Keys: JWK (RFC 7517/8037/8812), Multikey, signatures, Ethereum addresses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaga_vc._encoding import b64url_decode, b64url_encode
from kaga_vc.errors import INVALID_KEY, InputError, ProofError, UnsupportedError
from kaga_vc.keys import (
    KeyType,
    PrivateKey,
    PublicKey,
    ethereum_address,
    recover_public_key,
    to_checksum_address,
)

SIGNING = [KeyType.ED25519, KeyType.SECP256K1, KeyType.P256, KeyType.P384, KeyType.P521]


def test_rfc8037_ed25519_jwk_vector() -> None:
    # RFC 8037 Appendix A.1 / A.4: the key, and the signature over the JWS signing input of A.4.
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    }
    key = PrivateKey.from_jwk(jwk)
    assert key.to_jwk() == jwk
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    expected = (
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )
    assert b64url_encode(key.sign(signing_input)) == expected
    key.public_key.verify(b64url_decode(expected), signing_input)


def test_ethereum_address_of_known_key_matches_eth_account() -> None:
    from eth_account import Account

    secret = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    key = PrivateKey.from_hex(secret)
    assert ethereum_address(key.public_key) == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
    assert ethereum_address(key.public_key) == Account.from_key(bytes.fromhex(secret)).address


def test_eip55_checksum_vectors() -> None:
    # EIP-55 specification examples.
    for address in (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ):
        assert to_checksum_address(address.lower()) == address


@pytest.mark.parametrize("key_type", list(KeyType), ids=lambda k: k.value)
def test_jwk_and_multikey_round_trip(key_type: KeyType) -> None:
    key = PrivateKey.generate(key_type)
    assert PublicKey.from_jwk(key.public_key.to_jwk()) == key.public_key
    assert PublicKey.from_multikey(key.public_key.to_multikey()) == key.public_key
    assert PrivateKey.from_jwk(key.to_jwk()) == key
    assert PrivateKey.from_multikey(key.to_multikey()) == key


@pytest.mark.parametrize(
    ("key_type", "prefix"),
    [(KeyType.ED25519, "z6Mk"), (KeyType.SECP256K1, "zQ3s"), (KeyType.P256, "zDna"), (KeyType.P384, "z82L"), (KeyType.X25519, "z6LS")],
    ids=lambda v: getattr(v, "value", v),
)
def test_multikey_prefixes_match_the_multicodec_table(key_type: KeyType, prefix: str) -> None:
    assert PrivateKey.generate(key_type).public_key.to_multikey().startswith(prefix)


@pytest.mark.parametrize("key_type", SIGNING, ids=lambda k: k.value)
def test_sign_verify_and_tamper(key_type: KeyType) -> None:
    key = PrivateKey.generate(key_type)
    signature = key.sign(b"kaga")
    key.public_key.verify(signature, b"kaga")
    with pytest.raises(ProofError):
        key.public_key.verify(signature, b"kaga!")
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    with pytest.raises(ProofError):
        key.public_key.verify(flipped, b"kaga")
    with pytest.raises(ProofError):
        PrivateKey.generate(key_type).public_key.verify(signature, b"kaga")


def test_secp256k1_high_s_signature_is_refused() -> None:
    key = PrivateKey.generate(KeyType.SECP256K1)
    sig = key.sign(b"m")
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high = sig[:32] + (n - int.from_bytes(sig[32:], "big")).to_bytes(32, "big")
    with pytest.raises(ProofError):
        key.public_key.verify(high, b"m")


def test_recoverable_signature_recovers_the_signer() -> None:
    key = PrivateKey.generate(KeyType.SECP256K1)
    digest = bytes(range(32))
    signature = key.sign_digest_recoverable(digest)
    assert len(signature) == 65
    assert recover_public_key(signature, digest) == key.public_key
    assert recover_public_key(signature[:64] + bytes([signature[64] + 27]), digest) == key.public_key


def test_x25519_keys_agree_but_do_not_sign() -> None:
    a, b = PrivateKey.generate(KeyType.X25519), PrivateKey.generate(KeyType.X25519)
    assert a.x25519_exchange(b.public_key) == b.x25519_exchange(a.public_key)
    with pytest.raises(UnsupportedError):
        a.sign(b"x")


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR"},
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
        {"kty": "OKP", "crv": "Ed25519"},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "EC", "crv": "P-256", "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns", "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIA"},
        "not an object",
    ],
)
def test_bad_jwks_are_typed_input_errors(jwk: object) -> None:
    with pytest.raises(InputError):
        PublicKey.from_jwk(jwk)  # type: ignore[arg-type]


def test_unknown_curve_is_unsupported() -> None:
    with pytest.raises(UnsupportedError):
        PublicKey.from_jwk({"kty": "EC", "crv": "brainpoolP256r1", "x": "AA", "y": "AA"})


def test_jwk_with_mismatched_private_part_is_refused() -> None:
    jwk = PrivateKey.generate(KeyType.P256).to_jwk()
    jwk["d"] = PrivateKey.generate(KeyType.P256).to_jwk()["d"]
    with pytest.raises(InputError) as info:
        PrivateKey.from_jwk(jwk)
    assert info.value.code == INVALID_KEY


def test_private_key_repr_shows_no_secret() -> None:
    key = PrivateKey.generate(KeyType.SECP256K1)
    text = repr(key) + str(key)
    assert key.to_bytes().hex() not in text
    assert key.to_jwk()["d"] not in text


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=512))
def test_every_signing_key_type_round_trips_arbitrary_messages(message: bytes) -> None:
    for key_type in SIGNING:
        key = PrivateKey.generate(key_type)
        key.public_key.verify(key.sign(message), message)


@pytest.mark.parametrize("text", ["", "a", "ab=", "a+b/", "abc\n", "AB"])
def test_b64url_decoder_is_strict(text: str) -> None:
    # "AB" decodes with non-zero padding bits: a second spelling of b"\x00", refused.
    with pytest.raises(InputError):
        b64url_decode(text) if text != "" else b64url_decode(None)  # type: ignore[arg-type]


def test_the_key_codec_shortcut_table_matches_multiformats() -> None:
    from multiformats import multicodec

    from kaga_vc._encoding import _KEY_CODECS, multicodec_unwrap, multicodec_wrap

    for name, prefix in _KEY_CODECS.items():
        assert bytes(multicodec.wrap(name, b"")) == prefix, name
        assert multicodec_unwrap(multicodec_wrap(name, b"\x01\x02")) == (name, b"\x01\x02")
        assert multicodec.unwrap(prefix + b"\x01\x02")[0].name == name
    # codecs outside the table still go through multiformats
    assert multicodec_unwrap(bytes(multicodec.wrap("bls12_381-g2-pub", b"\x05"))) == ("bls12_381-g2-pub", b"\x05")


# -- the Ed25519 small-order list agrees with the X25519 rule it replaced ---------------------------
_P25519 = 2**255 - 19
# X25519's points of small order (libsodium's list): u = 0, 1, the two of order 8, and p - 1
_SMALL_U = (0, 1, 325606250916557431795983626356110631294008115727848805560023387167927233504,
            39382357235489614581723060781553021112529911719440698176882885853963445705823, _P25519 - 1)


def _by_exchange(y: int) -> bool:
    """The rule before the list: canonical y, not the identity, and X25519 of u = (1 + y) / (1 - y) not zero."""
    from kaga_vc.keys._public import _small_order_by_exchange

    if y >= _P25519 or y == 1:
        return True
    return _small_order_by_exchange((1 + y) * pow(1 - y, -1, _P25519) % _P25519)


def test_every_small_order_x25519_point_maps_to_a_refused_ed25519_key() -> None:
    from kaga_vc.keys._public import _SMALL_ORDER_Y, _small_order_by_exchange

    refused = set()
    for u in _SMALL_U:
        assert _small_order_by_exchange(u)
        if u != _P25519 - 1:  # y = (u - 1) / (u + 1); u = -1 has no Edwards point
            refused.add((u - 1) * pow(u + 1, -1, _P25519) % _P25519)
    assert refused | {1} == set(_SMALL_ORDER_Y)  # and y = 1, the identity, whose u is at infinity
    for y in _SMALL_ORDER_Y:
        for sign in (0, 1 << 255):
            with pytest.raises(InputError):
                PublicKey.from_raw(KeyType.ED25519, (y | sign).to_bytes(32, "little"))


@given(st.integers(min_value=0, max_value=2**255 - 1) | st.sampled_from([_P25519 - 2, _P25519, _P25519 + 5, 2, 0]))
@settings(max_examples=300, deadline=None)
def test_the_small_order_list_decides_as_the_exchange_did(y: int) -> None:
    from kaga_vc.keys._public import _is_small_order

    assert _is_small_order(KeyType.ED25519, y.to_bytes(32, "little")) is _by_exchange(y)


def test_generated_ed25519_keys_are_never_small_order() -> None:
    from kaga_vc.keys._public import _is_small_order

    for _ in range(50):
        key = PrivateKey.generate(KeyType.ED25519)
        assert not _is_small_order(KeyType.ED25519, key.public_key.raw)
