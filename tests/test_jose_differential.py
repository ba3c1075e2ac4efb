"""Differential test (issue 16): the direct-primitive JWS check agrees with jwcrypto on mutated real JWTs.

The verify path checks signatures with libsodium / libsecp256k1 / OpenSSL directly
(``kaga_vc.proofs.jose._primitives``). That fast path must never accept what a JOSE library refuses:
hypothesis mutates real tokens (header, payload, signature bytes, ``typ``, ``alg``, ``kid``, non-ASCII,
re-signed payloads; the issuer-signed JWT or the KB-JWT of an SD-JWT) and every one is verified twice through the one verify pipeline, once as shipped
and once with the signature step replaced by jwcrypto verifying the same bytes; the verdict and the
codes must be the same. The primitive itself is also compared with jwcrypto on each (key, input,
signature) triple.

The reference applies RFC 7518 §3.4's length rule (an ECDSA JWS signature is exactly 2 × the
coordinate size) before jwcrypto, which does not check it: a zero-padded ``r``/``s`` is a second
spelling of one signature, refused by both paths on purpose.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from unittest import mock

from cryptography.exceptions import InvalidSignature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto import jwk as jwcrypto_jwk  # type: ignore[import-untyped]
from jwcrypto.common import JWException  # type: ignore[import-untyped]
from jwcrypto.jwa import JWA  # type: ignore[import-untyped]

from kaga_vc.credentials import verify_credential, verify_presentation
from kaga_vc.keys import KeySigner, KeyType, PublicKey
from kaga_vc.proofs.jose import _jws, issue_sd_jwt, present_sd_jwt, sign_jwt_vc11, sign_vc_jwt
from kaga_vc.proofs.jose._primitives import verify_signature
from tests._jose_support import (
    ED,
    ETHR,
    HOLDER,
    HOLDER_ED,
    K1_KEY,
    NOW,
    OTHER_ED,
    P256,
    credential_v2,
    credential_v11,
    did_key_signer,
    did_of,
    key,
    resolver,
)

RESOLVER = resolver()
P384 = did_key_signer(key(KeyType.P384, 14))
AUD, NONCE = "did:web:verifier.example", "nonce-1"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwcrypto_verify(public_key: PublicKey, signing_input: bytes, signature: bytes) -> bool:
    """The reference: jwcrypto (its own JWK, its algorithm implementation) verifying the same signature."""
    alg = public_key.key_type.info.jose_alg
    if public_key.key_type is not KeyType.ED25519 and len(signature) != public_key.key_type.info.public_size * 2 - 2:
        return False  # RFC 7518 §3.4 (see the module docstring)
    try:  # jwcrypto's signature step alone (its header rules are the verifier's business, not this one's)
        JWA.signing_alg(alg).verify(jwcrypto_jwk.JWK(**public_key.to_jwk()), signing_input, signature)
    except (JWException, InvalidSignature, ValueError, TypeError):
        return False
    return True


# -- the real tokens ------------------------------------------------------------------------------
def _vc_jwt(signer: KeySigner) -> str:
    return sign_vc_jwt(credential_v2(did_of(signer)), signer)


def _sd_jwt_kb(issuer: KeySigner, holder: KeySigner) -> str:
    claims = {"iss": did_of(issuer), "vct": "urn:kaga:vct:Resident", "iat": int(NOW.timestamp()),
              "residentOf": "Kaga", "ageOver18": True, "name": "Hanako"}
    issued = issue_sd_jwt(claims, signer=issuer, disclosable=["residentOf", "ageOver18", "name"],
                          holder_key=holder.key.public_key)
    return present_sd_jwt(issued, disclose=["ageOver18", "name"], holder_signer=holder, audience=AUD, nonce=NONCE,
                          now=NOW)


SIGNERS: dict[str, KeySigner] = {"ed": ED, "p256": P256, "p384": P384, "k1": K1_KEY, "ethr": ETHR,
                                 "holder": HOLDER, "holder_ed": HOLDER_ED}
TOKENS: list[tuple[str, str, str]] = [  # (kind, token, signer name)
    ("vc", _vc_jwt(ED), "ed"),
    ("vc", _vc_jwt(P256), "p256"),
    ("vc", _vc_jwt(P384), "p384"),
    ("vc11", sign_jwt_vc11(credential_v11(did_of(ED)), ED), "ed"),
    ("vc11", sign_jwt_vc11(credential_v11(did_of(K1_KEY)), K1_KEY), "k1"),
    ("vc11", sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR), "ethr"),
    ("vc11", sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR, recoverable=True), "ethr"),
    ("sd", _sd_jwt_kb(ED, HOLDER), "ed"),
    ("sd", _sd_jwt_kb(P256, HOLDER_ED), "p256"),
]


# -- mutations ------------------------------------------------------------------------------------
def _split(token: str) -> tuple[str, str, str, str]:
    """(issuer-signed JWS header, payload, signature, the SD-JWT tail after the JWS or '')."""
    jws, sep, tail = token.partition("~")
    header, payload, signature = jws.split(".")
    return header, payload, signature, sep + tail


def _edit_json(segment: str, edit: Callable[[dict[str, Any]], None]) -> str:
    value = json.loads(unb64(segment))
    edit(value)
    return b64(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _set(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(obj: dict[str, Any]) -> None:
        if value is _DELETE:
            obj.pop(name, None)
        else:
            obj[name] = value

    return edit


_DELETE = object()
header_edits = st.one_of(
    st.builds(lambda a: _set("alg", a), st.sampled_from(["EdDSA", "ES256", "ES384", "ES256K", "ES256K-R", "none",
                                                         "HS256", "RS256", "Ed25519", "es256", ""])),
    st.builds(lambda t: _set("typ", t), st.sampled_from(["vc+jwt", "vp+jwt", "JWT", "jwt", "kb+jwt", "dc+sd-jwt",
                                                         "", 7, _DELETE])),
    st.builds(lambda k: _set("kid", k), st.one_of(
        st.sampled_from([_DELETE, "", "#", 5, None]),
        st.sampled_from(list(SIGNERS.values())).map(lambda s: s.key_id),
        st.sampled_from(list(SIGNERS.values())).map(lambda s: s.key_id.split("#")[0]),
        st.sampled_from(list(SIGNERS.values())).map(lambda s: "#" + s.key_id.split("#")[1]),
        st.just(OTHER_ED.key_id),
    )),
    st.just(_set("crit", ["exp"])),
    st.just(_set("b64", False)),
    st.just(_set("jwk", OTHER_ED.key.public_key.to_jwk())),
)
payload_edits = st.one_of(
    st.builds(lambda n, v: _set(n, v), st.sampled_from(["iss", "sub", "exp", "nbf", "iat", "issuer", "validUntil",
                                                         "vct", "cnf", "_sd_alg", "vc", "aud", "nonce",
                                                         "sd_hash"]),
              st.one_of(st.sampled_from([_DELETE, None, True, 0, 10**12, "x"]),
                        st.sampled_from([did_of(s) for s in SIGNERS.values()]))),
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, bool]:
    """A real token, mutated (for an SD-JWT+KB: its issuer-signed JWT or its KB-JWT); whether a holder
    presentation (SD-JWT+KB) is what it was."""
    kind, token, signer_name = draw(st.sampled_from(TOKENS))
    if kind == "sd" and draw(st.booleans()):  # the KB-JWT, signed by the holder
        head, _, kb = token.rpartition("~")
        holder = "holder" if signer_name == "ed" else "holder_ed"
        return kind, head + "~" + _mutate_jws(draw, kb, holder), True
    header, payload, signature, tail = _split(token)
    return kind, _mutate_jws(draw, f"{header}.{payload}.{signature}", signer_name) + tail, kind == "sd"


def _mutate_jws(draw: st.DrawFn, jws: str, signer_name: str) -> str:
    header, payload, signature = jws.split(".")
    choice = draw(st.sampled_from(["header", "payload", "resign", "sigbyte", "sigcut", "sigext", "sigswap",
                                   "nonascii", "none"]))
    if choice == "header":
        header = _edit_json(header, draw(header_edits))
    elif choice in ("payload", "resign"):
        payload = _edit_json(payload, draw(payload_edits))
        if choice == "resign":  # a correct signature over the edited bytes: both paths must still agree
            header = _edit_json(header, draw(st.one_of(st.just(lambda h: None), header_edits)))
            signer = SIGNERS[signer_name]
            data = f"{header}.{payload}".encode("ascii")
            alg = json.loads(unb64(header)).get("alg")
            recoverable = alg == "ES256K-R" and signer.key_type is KeyType.SECP256K1
            raw = _jws._sign_recoverable(signer, data) if recoverable else signer.sign(data)
            signature = b64(raw)
    elif choice in ("sigbyte", "sigcut", "sigext", "sigswap"):
        raw = bytearray(unb64(signature))
        if choice == "sigbyte":
            index = draw(st.integers(0, len(raw) - 1))
            raw[index] ^= draw(st.integers(1, 255))
        elif choice == "sigcut":
            raw = raw[: draw(st.integers(0, len(raw) - 1))]
        elif choice == "sigext":
            raw = bytearray(draw(st.binary(min_size=1, max_size=2))) + raw if draw(st.booleans()) else raw + b"\0"
        else:  # another real token's signature
            raw = bytearray(unb64(_split(draw(st.sampled_from(TOKENS))[1])[2]))
        signature = b64(bytes(raw))
    elif choice == "nonascii":
        where = draw(st.sampled_from(["header", "payload", "signature"]))
        if where == "header":
            header = header[:3] + "é" + header[3:]
        elif where == "payload":
            payload = payload[:5] + "\u3042" + payload[5:]
        else:
            signature = signature + "\u00a0"
    return f"{header}.{payload}.{signature}"


def _verdict(kind: str, token: str, holder: bool) -> tuple[bool, tuple[str, ...]]:
    if holder:
        result = verify_presentation(token, resolver=RESOLVER, now=NOW, challenge=NONCE, domain=AUD)
    else:
        result = verify_credential(token, resolver=RESOLVER, now=NOW)
    return result.verified, tuple(sorted(result.codes))


def _check_signatures_agree(token: str) -> None:
    """Every (key, input, signature) the verify path might check: primitive == jwcrypto."""
    if not token.isascii():
        return
    for jws_part in (token.split("~")[0], token.split("~")[-1]):
        parts = jws_part.split(".")
        if len(parts) != 3:
            continue
        try:
            signature = unb64(parts[2])
        except ValueError:
            continue
        data = f"{parts[0]}.{parts[1]}".encode("ascii")
        for signer in SIGNERS.values():
            public_key = signer.key.public_key
            assert verify_signature(public_key, data, signature) == jwcrypto_verify(public_key, data, signature)


@SETTINGS
@given(mutated())
def test_primitive_path_and_jwcrypto_give_the_same_verdict_and_codes(case: tuple[str, str, bool]) -> None:
    kind, token, holder = case
    fast = _verdict(kind, token, holder)
    with mock.patch.object(_jws, "verify_signature", jwcrypto_verify):
        reference = _verdict(kind, token, holder)
    assert fast == reference
    _check_signatures_agree(token)


def test_the_unmutated_tokens_verify_on_both_paths() -> None:
    # the differential test means something only if the originals are accepted by both paths
    for kind, token, _ in TOKENS:
        fast = _verdict(kind, token, kind == "sd")
        with mock.patch.object(_jws, "verify_signature", jwcrypto_verify):
            reference = _verdict(kind, token, kind == "sd")
        assert fast == reference == (True, ()), (kind, fast, reference)


def test_signature_edge_cases_agree_with_jwcrypto() -> None:
    """Hand-picked signatures random mutation rarely reaches: zero, all-ones, r/s = n, swapped halves."""
    n_k1 = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    n_p256 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    l_ed = 2**252 + 27742317777372355535556949696028453297
    data = b"eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ"
    cases: list[tuple[KeySigner, bytes]] = []
    for signer in (ED, P256, K1_KEY, P384):
        real = signer.sign(data)
        half = len(real) // 2
        cases += [(signer, real), (signer, bytes(len(real))), (signer, b"\xff" * len(real)),
                  (signer, real[half:] + real[:half]), (signer, b"")]
    real_ed = ED.sign(data)
    s = int.from_bytes(real_ed[32:], "little")
    cases.append((ED, real_ed[:32] + (s + l_ed).to_bytes(32, "little")))  # S + L: non-canonical S
    for signer, n in ((K1_KEY, n_k1), (P256, n_p256)):
        real = signer.sign(data)
        cases += [(signer, n.to_bytes(32, "big") + real[32:]), (signer, real[:32] + n.to_bytes(32, "big"))]
    for signer, signature in cases:
        public_key = signer.key.public_key
        expected = jwcrypto_verify(public_key, data, signature)
        assert verify_signature(public_key, data, signature) == expected, (signer.key_type, signature.hex())
    assert verify_signature(ED.key.public_key, data, real_ed)
    assert not verify_signature(ED.key.public_key, data, real_ed[:32] + (s + l_ed).to_bytes(32, "little"))


def test_a_remembered_account_key_accepts_nothing_recovery_refuses() -> None:
    """did:ethr ES256K: once the account's key is known, a signature is checked against it, not recovered;
    the high-s twin, another account's signature and an ES256K-R token with its recovery id flipped are
    still refused, with the codes recovery gives."""
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    plain = sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR)
    recoverable = sign_jwt_vc11(credential_v11(did_of(ETHR)), ETHR, recoverable=True)
    assert verify_credential(plain, resolver=RESOLVER, now=NOW).verified
    assert did_of(ETHR).rsplit(":", 1)[1].lower() in _jws._ACCOUNT_KEYS  # the key is now remembered
    header, payload, signature, _ = _split(plain)
    raw = unb64(signature)
    high_s = raw[:32] + (n - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    other_sig = b64(K1_KEY.sign(f"{header}.{payload}".encode("ascii")))  # another key's valid signature
    r_header, r_payload, r_signature, _ = _split(recoverable)
    r_raw = unb64(r_signature)
    flipped = r_raw[:64] + bytes([r_raw[64] ^ 1])
    for token in (f"{header}.{payload}.{b64(high_s)}", f"{header}.{payload}.{other_sig}",
                  f"{r_header}.{r_payload}.{b64(flipped)}", f"{header}.{payload}.{b64(raw + b'{0}')}"):
        fast = _verdict("vc11", token, False)
        with mock.patch.object(_jws, "_ACCOUNT_KEYS", {}):  # nothing remembered: recovery only
            recovered = _verdict("vc11", token, False)
        assert fast == recovered
        assert fast[0] is False and "PROOF_VERIFICATION_ERROR" in fast[1], fast
    assert verify_credential(recoverable, resolver=RESOLVER, now=NOW).verified
