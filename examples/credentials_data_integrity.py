"""Issue a residency credential with eddsa-rdfc-2022, present it, and verify both offline.

Run: python examples/credentials_data_integrity.py [WORKDIR]
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

from kaga_vc import create_presentation, issue_credential, verify_credential, verify_presentation
from kaga_vc.did import KeyMethod, Resolver, did_key_from_public_key
from kaga_vc.keys import KeySigner, KeyType, PrivateKey


def signer_for(key: PrivateKey) -> KeySigner:
    did = did_key_from_public_key(key.public_key)
    return KeySigner(key, f"{did}#{did.rsplit(':', 1)[-1]}")


def main(workdir: Path) -> None:
    city = signer_for(PrivateKey.generate(KeyType.ED25519))
    resident = signer_for(PrivateKey.generate(KeyType.P256))
    resident_did = resident.key_id.split("#")[0]

    credential = issue_credential(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
            "type": ["VerifiableCredential", "ResidentCredential"],
            "validFrom": "2025-04-01T00:00:00Z",
            "credentialSubject": {"id": resident_did, "residentOf": "加賀市"},
        },
        signer=city,
    )
    (workdir / "credential.json").write_text(json.dumps(credential, ensure_ascii=False, indent=2), encoding="utf-8")
    resolver = Resolver({"key": KeyMethod()})
    result = verify_credential(credential, resolver=resolver)
    print(f"credential verified: {result.verified}  issuer={result.issuer}  checks={', '.join(result.checks)}")

    challenge = secrets.token_urlsafe(16)
    presentation = create_presentation([credential], signer=resident, challenge=challenge, domain="ryokan.kaga.example")
    result = verify_presentation(presentation, resolver=resolver, challenge=challenge, domain="ryokan.kaga.example")
    print(f"presentation verified: {result.verified}  holder={result.subject}")

    replay = verify_presentation(presentation, resolver=resolver, challenge="another-nonce", domain="ryokan.kaga.example")
    print(f"replayed with another challenge: verified={replay.verified} codes={replay.codes}")
    if not (result.verified and not replay.verified):
        raise SystemExit(1)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
