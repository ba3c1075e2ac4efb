"""The city issues, a ryokan syncs a trust bundle, goes offline, asks a guest for "18 or older", verifies.

    python examples/offline_verification.py [WORKDIR]

1. the city sets up its did:ethr on an embedded chain in WORKDIR and issues an SD-JWT KYC credential
   to a resident's wallet (a did:key, keys and credentials encrypted at rest);
2. the city signs a trust bundle: its did:ethr history, its status lists, the accepted types;
3. offline from here on: the ryokan makes a signed request (nonce, its DID, purpose, claims) and a QR
   code, the wallet answers disclosing only ``ageOver18``, the ryokan verifies with the bundle;
4. the same answer shown again is refused as a replay.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from kaga_vc.credentials import issue_credential
from kaga_vc.did import did_key_from_public_key
from kaga_vc.holder import create_wallet
from kaga_vc.issuer import city_bundle_signer, init_city, open_city_issuer
from kaga_vc.keys import KeySigner, KeyType, PrivateKey
from kaga_vc.registry import close_registry, ethr_method, open_embedded
from kaga_vc.verifier import (
    CredentialQuery,
    NonceStore,
    Policy,
    TrustedIssuer,
    create_request,
    read_bundle,
    sync_bundle,
    verify_response,
)
from kaga_vc.verifier.qr import write_qr

work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="kaga-offline-"))
password = "example only - use a real secret"
FAST = 2**14  # scrypt cost lowered for the example; keystores default to 2**17

# 1. the city (online: it writes its DID to the registry) and a resident's wallet
config, _ = init_city(password, home=work / "city-home", scrypt_n=FAST)
wallet = create_wallet(work / "wallet.json", password, scrypt_n=FAST)
registry = open_embedded(work / "city-home")
_, head_time = registry.head()
time.sleep(max(0.0, head_time + 1.05 - time.time()))  # the embedded chain stamps bursts of blocks ahead of the clock
with open_city_issuer(password, home=work / "city-home") as city:
    issued = city.issue("kyc", wallet.did, {"fullName": "加賀 花子", "fullNameKana": "カガ ハナコ",
                                            "birthDate": "1990-04-01", "evidence": ["myNumberCardPublicKey"]},
                        staff="example")
    wallet.add(issued.document)
    # 2. the trust bundle, signed by the city's identity (owner) key; status lists by its assertion key
    lists = city.status.build_all(lambda c: issue_credential(c, signer=city.ed25519_signer), issuer=config.did)
    bundle = sync_bundle(ethr_method(registry), signer=city_bundle_signer(password, home=work / "city-home"),
                         issuers=[TrustedIssuer(config.did, ("KycCredential", "ResidencyCredential"))],
                         status_lists=lists)
close_registry(registry)
(work / "trust-bundle.jwt").write_text(bundle.token)
print(f"city {config.did} issued {issued.format} {issued.kind.type_name}; bundle {len(bundle.token)} bytes")

# 3. offline: the ryokan's request, the wallet's answer, the verification
ryokan_key = PrivateKey.generate(KeyType.ED25519)
ryokan_did = did_key_from_public_key(ryokan_key.public_key)
ryokan = KeySigner(ryokan_key, f"{ryokan_did}#{ryokan_did.rsplit(':', 1)[-1]}")
request = create_request(signer=ryokan, purpose="hotel check-in", location="山代温泉",
                         credentials=[CredentialQuery("KycCredential", ("ageOver18",))])
write_qr(request.token, work / "request.png")
answer = wallet.present(request.token)
write_qr(answer.compact, work / "response.png")
print(f"wallet disclosed {answer.disclosed} in {len(answer.compact)} characters (QR: {work / 'response.png'})")

policy = Policy(trusted_cities=(config.did,))
trusted = read_bundle((work / "trust-bundle.jwt").read_text(), trusted_city=config.did)
with NonceStore(work / "nonces.sqlite3") as nonces:
    result = verify_response(answer.compact, request=request.token, bundle=trusted, policy=policy, nonce_store=nonces)
    assert result.verified, result.codes
    print(f"verified={result.verified} claims={result.details['claims']} checks={list(result.checks)}")
    # 4. the same answer again: refused
    replay = verify_response(answer.compact, request=request.token, bundle=trusted, policy=policy, nonce_store=nonces)
    assert replay.codes == ["kaga:nonce-replayed"], replay.codes
    print(f"shown again: verified={replay.verified} codes={replay.codes}")
