"""The city issues an SD-JWT VC; the resident shows only "resident of Kaga" to a ryokan; the ryokan verifies.

    python examples/sd_jwt_presentation.py

Offline throughout: the city and the resident use did:key, the ryokan's resolver knows only did:key.
"""

from __future__ import annotations

import secrets

from kaga_vc import verify_presentation
from kaga_vc.did import KeyMethod, Resolver, did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.proofs.jose import Decoys, issue_sd_jwt, present_sd_jwt, sd_jwt_vc_claims


def signer(key_type: KeyType) -> KeySigner:
    key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")


city, resident = signer(KeyType.ED25519), signer(KeyType.P256)
credential = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential", "KagaResidentCredential"],
    "issuer": city.key_id.split("#")[0],
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {
        "id": resident.key_id.split("#")[0],
        "residentOf": "Kaga",
        "name": "加賀 花子",
        "birthDate": "1990-04-01",
        "address": {"locality": "加賀市", "streetAddress": "大聖寺南町ニ41"},
    },
}

# 1. Issuance: every subject claim selectively disclosable (address members one by one), with decoys.
issued = issue_sd_jwt(
    sd_jwt_vc_claims(credential),
    signer=city,
    disclosable=["residentOf", "name", "birthDate", "address", "address.locality", "address.streetAddress"],
    holder_key=resident.key.public_key,
    decoys=Decoys(1, 3),
)
print(f"issued SD-JWT VC: {len(issued)} characters, {issued.count('~') - 1} disclosures")

# 2. The ryokan asks for residency, with its own nonce and DID as audience.
nonce, ryokan = secrets.token_urlsafe(16), "did:web:ryokan.kaga.example"
shown = present_sd_jwt(issued, disclose=["residentOf"], holder_signer=resident, audience=ryokan, nonce=nonce)

# 3. The ryokan verifies offline and sees exactly what was disclosed.
result = verify_presentation(shown, resolver=Resolver({"key": KeyMethod()}), domain=ryokan, challenge=nonce)
assert result.verified, result.codes
assert result.credential is not None and result.credential["residentOf"] == "Kaga"
assert "name" not in result.credential and "address" not in result.credential
print(f"verified={result.verified} disclosed={result.details['disclosed']} checks={list(result.checks)}")

replayed = verify_presentation(shown, resolver=Resolver({"key": KeyMethod()}), domain=ryokan, challenge="another")
print(f"replayed with another nonce: verified={replayed.verified} codes={replayed.codes}")
