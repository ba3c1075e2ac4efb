"""The city's programme credentials: voting eligibility, a vaccination certificate, volunteer hours.

Run: python examples/programme_credentials.py WORKDIR   (WORKDIR holds the embedded chain, keys and records)

Each is issued as an SD-JWT VC bound to the resident's key, presented with only what the verifier needs
(an online ballot learns "eligible to vote" and nothing else; a clinic the vaccine and date; a local
value programme the hours), and verified against the city's did:ethr on the chain.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
from pathlib import Path

from kaga_vc import verify_presentation
from kaga_vc.did import KeyMethod, Resolver, did_key_from_public_key
from kaga_vc.issuer import init_city, open_city_issuer
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.proofs.jose import present_sd_jwt
from kaga_vc.registry import close_registry, ethr_method, open_embedded

PASSWORD = "example only - use a real secret"
PERSON = {"fullName": "加賀 花子", "fullNameKana": "カガ ハナコ", "birthDate": "1990-02-03"}


def main(workdir: Path) -> None:
    home = workdir / "kaga-home"
    init_city(PASSWORD, home=home, scrypt_n=2**12)  # a small scrypt cost, for the example
    key = PrivateKey.generate(KeyType.ED25519)  # the resident's wallet key
    did = did_key_from_public_key(key.public_key)
    resident = KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")
    wanted = {
        "voting-eligibility": ({**PERSON, "address": "石川県 加賀市 大聖寺南町 ニ41", "evidence": ["residenceCard"]},
                               ["eligibleToVote"], "did:web:vote.city.kaga.ishikawa.jp"),
        "vaccination": ({**PERSON, "vaccine": "Influenza (quadrivalent)", "vaccinatedOn": "2026-11-02", "dose": 1},
                        ["vaccine", "vaccinatedOn"], "did:web:clinic.kaga.example"),
        "volunteer": ({**PERSON, "activity": "片山津 海岸清掃", "hours": 3, "volunteeredOn": "2026-11-01",
                       "organiser": "加賀市"}, ["activity", "hours"], "did:web:points.kaga.example"),
    }
    with open_city_issuer(PASSWORD, home=home) as issuer:
        issued = {kind: issuer.issue(kind, did, claims, staff="clerk-1") for kind, (claims, _, _) in wanted.items()}
    registry = open_embedded(home)
    try:
        resolver = Resolver({"key": KeyMethod(), "ethr": ethr_method(registry)})
        for kind, (_, disclose, verifier) in wanted.items():
            nonce = secrets.token_urlsafe(16)
            shown = present_sd_jwt(str(issued[kind].document), disclose=disclose, holder_signer=resident,
                                   audience=verifier, nonce=nonce)
            result = verify_presentation(shown, resolver=resolver, domain=verifier, challenge=nonce)
            assert result.verified, result.codes
            seen = result.credential or {}
            assert all(name in seen for name in disclose) and "fullName" not in seen and "birthDate" not in seen
            shown_claims = ", ".join(f"{name}: {'yes' if seen[name] is True else seen[name]}" for name in disclose)
            print(f"{issued[kind].kind.type_name}: verified by {verifier}, who sees only {shown_claims}")
    finally:
        close_registry(registry)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
