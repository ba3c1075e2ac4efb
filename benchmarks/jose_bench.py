"""JOSE sign / verify timings per format, side by side with didkit and the bare signature (run on demand).

    python benchmarks/jose_bench.py [--n 500] [--emit]

Measures, warm and on one core, p50 / p99 of:

* kaga_vc sign and full verify (header hygiene, did:key / implicit did:ethr resolution, kid and
  relationship, signature, claims, validity) of ``vc+jwt`` (EdDSA), VC 1.1 JWT (EdDSA did:key; ES256K and
  ES256K-R did:ethr), and an SD-JWT VC presentation with 3 of 5 claims disclosed and a KB-JWT (EdDSA
  issuer, P-256 holder);
* one SD-JWT VC presentation (ES256 issuer, ES256 KB-JWT, 3 of 4 claims disclosed) verified by kaga_vc
  and by the ``sd-jwt`` reference package (the same token, so the same two P-256 verifies);
* didkit 0.3.3 issuing and verifying the same VC 1.1 credential as an EdDSA JWT;
* the bare primitives: Ed25519 verify (cryptography / OpenSSL, and libsodium through PyNaCl, which
  the verify path uses), secp256k1 verify and recover (coincurve / libsecp256k1), P-256 verify;

and prints each verify's ratio to its primitive and to didkit. The rows those ratios divide are timed
again interleaved (every one of them once per round), which keeps a loaded machine's drift out of them. With ``--emit`` the last line is
``RESULT {json}`` (medians in seconds), what benchmarks/run_all.py reads.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import _timing
import coincurve

from kaga_vc.did import KeyMethod, Resolver, did_key_from_public_key
from kaga_vc.did.ethr_implicit import ImplicitEthrMethod, did_ethr_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.proofs.jose import (
    issue_sd_jwt,
    present_sd_jwt,
    sign_jwt_vc11,
    sign_vc_jwt,
    verify_jwt_vc11,
    verify_sd_jwt,
    verify_vc_jwt,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SUBJECT = {"residentOf": "加賀市", "name": "加賀 花子", "birthDate": "1990-04-01", "ageOver18": True}


def did_key_signer(key_type: KeyType) -> KeySigner:
    key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")


def did_ethr_signer() -> KeySigner:
    key = PrivateKey.generate(KeyType.SECP256K1)
    return KeySigner(key, did_ethr_from_public_key(key.public_key, network="0x4b6") + "#controller")


def did_of(signer: KeySigner) -> str:
    return signer.key_id.split("#", 1)[0]


def v2(issuer: str, subject: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "KagaResidentCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, **SUBJECT},
    }


def v11(issuer: str, subject: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential", "KagaResidentCredential"],
        "issuer": issuer,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, **SUBJECT},
    }


class CachedMethod:
    """Memoise a DID method's documents: isolates the JOSE layer from did:key's multibase decoding cost."""

    def __init__(self, inner: Any) -> None:
        self.method = inner.method
        self._inner, self._cache = inner, {}

    def resolve(self, did: Any, options: Any) -> Any:
        key = str(did)
        if key not in self._cache:
            self._cache[key] = self._inner.resolve(did, options)
        return self._cache[key]


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    return _timing.timed(fn, n, warmup=50)


def timed_async(make: Callable[[], Any], n: int) -> list[float]:
    return _timing.timed_async(make, n, warmup=50)


def p(samples: list[float], q: float) -> float:
    return _timing.percentile(samples, q) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="iterations per measurement")
    parser.add_argument("--emit", action="store_true", help="end with a RESULT {json} line for run_all.py")
    args = parser.parse_args()
    n = args.n
    resolver = Resolver({"key": KeyMethod(), "ethr": ImplicitEthrMethod()})
    ed, ethr, holder = did_key_signer(KeyType.ED25519), did_ethr_signer(), did_key_signer(KeyType.P256)
    rows: dict[str, list[float]] = {}

    def check(result: Any) -> None:
        assert result.verified, result.codes

    # -- kaga_vc -------------------------------------------------------------------------------
    vc_jwt = sign_vc_jwt(v2(did_of(ed), did_of(holder)), ed)
    check(verify_vc_jwt(vc_jwt, resolver=resolver, now=NOW))
    rows["vc+jwt EdDSA sign"] = timed(lambda: sign_vc_jwt(v2(did_of(ed), did_of(holder)), ed), n)
    rows["vc+jwt EdDSA verify"] = timed(lambda: verify_vc_jwt(vc_jwt, resolver=resolver, now=NOW), n)
    cached = Resolver({"key": CachedMethod(KeyMethod()), "ethr": CachedMethod(ImplicitEthrMethod())})
    rows["vc+jwt EdDSA verify, DID doc cached"] = timed(lambda: verify_vc_jwt(vc_jwt, resolver=cached, now=NOW), n)
    rows["did:key resolve (Ed25519)"] = timed(lambda: resolver.resolve(did_of(ed)), n)
    # the one pipeline (format detection, status warning, VerifyParameters): fresh parameters per call,
    # and one parameters object reused (its DID documents remembered, VerifyParameters.documents)
    from kaga_vc.credentials import VerifyParameters, verify_credential

    rows["vc+jwt verify_credential, fresh parameters"] = timed(
        lambda: verify_credential(vc_jwt, resolver=resolver, now=NOW), n)
    reused = VerifyParameters(resolver=resolver, now=NOW)
    check(verify_credential(vc_jwt, reused))
    rows["vc+jwt verify_credential, parameters reused"] = timed(lambda: verify_credential(vc_jwt, reused), n)
    jwt_ed = sign_jwt_vc11(v11(did_of(ed), did_of(holder)), ed)
    rows["jwt-vc11 EdDSA sign"] = timed(lambda: sign_jwt_vc11(v11(did_of(ed), did_of(holder)), ed), n)
    rows["jwt-vc11 EdDSA verify"] = timed(lambda: verify_jwt_vc11(jwt_ed, resolver=resolver, now=NOW), n)
    ethr_tokens: dict[str, str] = {}
    for recoverable, name in ((False, "ES256K"), (True, "ES256K-R")):
        token = sign_jwt_vc11(v11(did_of(ethr), did_of(holder)), ethr, recoverable=recoverable)
        check(verify_jwt_vc11(token, resolver=resolver, now=NOW))
        rows[f"jwt-vc11 {name} did:ethr sign"] = timed(
            lambda r=recoverable: sign_jwt_vc11(v11(did_of(ethr), did_of(holder)), ethr, recoverable=r), n
        )
        rows[f"jwt-vc11 {name} did:ethr verify"] = timed(lambda t=token: verify_jwt_vc11(t, resolver=resolver, now=NOW), n)
        ethr_tokens[name] = token
    claims = {"iss": did_of(ed), "vct": "urn:kaga:vct:KagaResidentCredential", "iat": int(NOW.timestamp()), **SUBJECT}
    paths = list(SUBJECT)
    issued = issue_sd_jwt(claims, signer=ed, disclosable=paths, holder_key=holder.key.public_key)
    rows["sd-jwt issue (4 disclosable)"] = timed(
        lambda: issue_sd_jwt(claims, signer=ed, disclosable=paths, holder_key=holder.key.public_key), n
    )
    aud, nonce = "did:web:ryokan.example", "nonce"
    presented = present_sd_jwt(issued, disclose=paths[:3], holder_signer=holder, audience=aud, nonce=nonce, now=NOW)
    check(verify_sd_jwt(presented, resolver=resolver, require_key_binding=True, audience=aud, nonce=nonce, now=NOW))
    rows["sd-jwt present 3 + KB-JWT"] = timed(
        lambda: present_sd_jwt(issued, disclose=paths[:3], holder_signer=holder, audience=aud, nonce=nonce, now=NOW), n
    )
    rows["sd-jwt+kb verify"] = timed(
        lambda: verify_sd_jwt(presented, resolver=resolver, require_key_binding=True, audience=aud, nonce=nonce, now=NOW), n
    )
    rows["sd-jwt+kb verify, DID doc cached"] = timed(
        lambda: verify_sd_jwt(presented, resolver=cached, require_key_binding=True, audience=aud, nonce=nonce, now=NOW), n
    )

    # the same ES256 + ES256 KB-JWT presentation, verified by kaga_vc and by the sd-jwt package
    p256 = did_key_signer(KeyType.P256)
    es_claims = {**claims, "iss": did_of(p256)}
    es_issued = issue_sd_jwt(es_claims, signer=p256, disclosable=paths, holder_key=holder.key.public_key)
    es_presented = present_sd_jwt(es_issued, disclose=paths[:3], holder_signer=holder, audience=aud, nonce=nonce,
                                  now=datetime.now(UTC))
    check(verify_sd_jwt(es_presented, resolver=resolver, require_key_binding=True, audience=aud, nonce=nonce))
    rows["sd-jwt+kb verify ES256/ES256"] = timed(
        lambda: verify_sd_jwt(es_presented, resolver=resolver, require_key_binding=True, audience=aud, nonce=nonce), n
    )
    try:
        from jwcrypto.jwk import JWK
        from sd_jwt.verifier import SDJWTVerifier
    except ImportError:  # pragma: no cover - the [test] extra installs it
        SDJWTVerifier = None
    if SDJWTVerifier is not None:
        issuer_jwk = JWK(**p256.key.public_key.to_jwk())

        def package_verify() -> Any:
            return SDJWTVerifier(es_presented, lambda iss, header: issuer_jwk, expected_aud=aud,
                                 expected_nonce=nonce).get_verified_payload()

        assert set(paths[:3]) <= set(package_verify())
        rows["sd-jwt package verify ES256/ES256"] = timed(package_verify, n)

    # -- didkit --------------------------------------------------------------------------------
    try:
        import didkit
    except ImportError:  # pragma: no cover - the [test] extra installs it
        didkit = None
    if didkit is not None:
        jwk = json.dumps(ed.key.to_jwk())

        async def method() -> Any:
            return await didkit.key_to_verification_method("key", jwk)

        vm = asyncio.run(method())
        options = json.dumps({"proofFormat": "jwt", "verificationMethod": vm, "proofPurpose": "assertionMethod"})
        credential = json.dumps(v11(did_of(ed), did_of(holder)))

        async def issue() -> Any:
            return await didkit.issue_credential(credential, options, jwk)

        didkit_jwt = asyncio.run(issue())
        check_options = json.dumps({"proofFormat": "jwt"})
        rows["didkit JWT VC EdDSA issue"] = timed_async(lambda: didkit.issue_credential(credential, options, jwk), n)
        rows["didkit JWT VC EdDSA verify"] = timed_async(lambda: didkit.verify_credential(didkit_jwt, check_options), n)
        rows["kaga_vc verify of didkit's JWT"] = timed(lambda: verify_jwt_vc11(didkit_jwt, resolver=resolver, now=NOW), n)

    # -- primitives ----------------------------------------------------------------------------
    data = jwt_ed.rsplit(".", 1)[0].encode()
    ed_sig = ed.key.sign(data)
    rows["bare Ed25519 verify (OpenSSL)"] = timed(lambda: ed.key.public_key.verify(ed_sig, data), n)
    from nacl.bindings import crypto_sign_open

    ed_raw, ed_signed = ed.key.public_key.raw, ed_sig + data
    rows["bare Ed25519 verify (libsodium)"] = timed(lambda: crypto_sign_open(ed_signed, ed_raw), n)
    k1 = coincurve.PrivateKey(ethr.key.to_bytes())
    k1_sig = k1.sign(data, hasher=lambda m: hashlib.sha256(m).digest())
    rows["bare secp256k1 verify (libsecp256k1)"] = timed(
        lambda: coincurve.PublicKey(k1.public_key.format()).verify(k1_sig, data, hasher=lambda m: hashlib.sha256(m).digest()), n
    )
    digest = hashlib.sha256(data).digest()
    rec = k1.sign_recoverable(digest, hasher=None)
    rows["bare secp256k1 recover (libsecp256k1)"] = timed(
        lambda: coincurve.PublicKey.from_signature_and_message(rec, digest, hasher=None), n
    )
    p_sig = holder.key.sign(data)
    rows["bare P-256 verify (OpenSSL)"] = timed(lambda: holder.key.public_key.verify(p_sig, data), n)

    # -- the ratio pairs again, interleaved (each round times every one of them once): measured one
    # after the other on a loaded machine, two rows see different loads and their ratio drifts 2×.
    # These samples replace the rows above (and are what run_all.py's ratio lines divide).
    pairs: dict[str, Callable[[], Any]] = {
        "vc+jwt EdDSA verify": lambda: verify_vc_jwt(vc_jwt, resolver=resolver, now=NOW),
        "jwt-vc11 EdDSA verify": lambda: verify_jwt_vc11(jwt_ed, resolver=resolver, now=NOW),
        "jwt-vc11 ES256K did:ethr verify": lambda: verify_jwt_vc11(ethr_tokens["ES256K"], resolver=resolver, now=NOW),
        "jwt-vc11 ES256K-R did:ethr verify": lambda: verify_jwt_vc11(ethr_tokens["ES256K-R"], resolver=resolver,
                                                                     now=NOW),
        "bare secp256k1 recover (libsecp256k1)": lambda: coincurve.PublicKey.from_signature_and_message(
            rec, digest, hasher=None),
        "bare Ed25519 verify (libsodium)": lambda: crypto_sign_open(ed_signed, ed_raw),
        "sd-jwt+kb verify ES256/ES256": lambda: verify_sd_jwt(es_presented, resolver=resolver, require_key_binding=True,
                                                              audience=aud, nonce=nonce),
    }
    if SDJWTVerifier is not None:
        pairs["sd-jwt package verify ES256/ES256"] = package_verify
    coroutines = {"didkit JWT VC EdDSA verify": lambda: didkit.verify_credential(didkit_jwt, check_options)} \
        if didkit is not None else {}
    rows.update(_timing.interleaved(pairs, coroutines, n, warmup=20))

    width = max(len(k) for k in rows)
    print(f"{'operation':<{width}}  {'p50 µs':>9}  {'p99 µs':>9}")
    for name, samples in rows.items():
        print(f"{name:<{width}}  {p(samples, 0.5):9.1f}  {p(samples, 0.99):9.1f}")

    def ratio(a: str, b: str) -> None:
        if a in rows and b in rows:
            print(f"  {a} / {b}: {statistics.median(rows[a]) / statistics.median(rows[b]):.2f}x")

    print("\nratios (medians)")
    ratio("vc+jwt EdDSA verify", "bare Ed25519 verify (libsodium)")
    ratio("vc+jwt EdDSA verify, DID doc cached", "bare Ed25519 verify (libsodium)")
    ratio("jwt-vc11 EdDSA verify", "bare Ed25519 verify (libsodium)")
    ratio("bare Ed25519 verify (OpenSSL)", "bare Ed25519 verify (libsodium)")
    ratio("jwt-vc11 ES256K did:ethr verify", "bare secp256k1 recover (libsecp256k1)")
    ratio("jwt-vc11 ES256K-R did:ethr verify", "bare secp256k1 recover (libsecp256k1)")
    ratio("sd-jwt+kb verify", "bare Ed25519 verify (libsodium)")
    ratio("sd-jwt+kb verify, DID doc cached", "bare Ed25519 verify (libsodium)")
    ratio("vc+jwt EdDSA verify", "didkit JWT VC EdDSA verify")
    ratio("vc+jwt verify_credential, fresh parameters", "didkit JWT VC EdDSA verify")
    ratio("vc+jwt verify_credential, parameters reused", "didkit JWT VC EdDSA verify")
    ratio("vc+jwt EdDSA verify, DID doc cached", "didkit JWT VC EdDSA verify")
    ratio("jwt-vc11 EdDSA verify", "didkit JWT VC EdDSA verify")
    ratio("kaga_vc verify of didkit's JWT", "didkit JWT VC EdDSA verify")
    ratio("jwt-vc11 EdDSA sign", "didkit JWT VC EdDSA issue")
    ratio("sd-jwt+kb verify ES256/ES256", "sd-jwt package verify ES256/ES256")
    if args.emit:
        print("RESULT " + json.dumps({name: statistics.median(samples) for name, samples in rows.items()}))


if __name__ == "__main__":
    import os
    import sys

    main()
    sys.stdout.flush()
    os._exit(0)  # didkit 0.3.3's runtime thread aborts during interpreter finalisation
