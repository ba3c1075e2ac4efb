"""Subject access: a signed, one-time challenge; a subject gets their entries only, with proofs, and alone
can read what was disclosed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kaga_vc.accesslog import AccessLog, Challenge, answer_challenge, read_history
from kaga_vc.accesslog._subject import agreement_private_key, decrypt_subject_data, encryption_key
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.errors import (
    CHALLENGE_EXPIRED,
    CHALLENGE_INVALID,
    CHALLENGE_REPLAYED,
    DECRYPTION_FAILED,
    AccessLogError,
    KagaError,
)

from .conftest import Party, entry, make_party


@pytest.fixture
def filled(sqlite_log: AccessLog, ryokan: Party, alice: Party, bob: Party, anchorer: Any) -> AccessLog:
    for i in range(6):
        sqlite_log.record(entry(ryokan, alice, claims=["ageOver18"], purpose=f"stay-{i}"))
        sqlite_log.record(entry(ryokan, bob, claims=["insuranceNumber"], purpose="consultation"))
    sqlite_log.anchor(anchorer)
    sqlite_log.record(entry(ryokan, alice, result="refused", reason="kaga:credential-revoked"))  # not anchored yet
    return sqlite_log


def _history(log: AccessLog, who: Party) -> tuple[str, list[Any]]:
    challenge = log.create_challenge()
    return log.subject_history(answer_challenge(challenge, did=who.did, signer=who.signer))


def test_a_subject_reads_only_their_own_entries_with_proofs(filled: AccessLog, alice: Party, bob: Party,
                                                            ryokan: Party, anchorer: Any) -> None:
    did, entries = _history(filled, alice)
    assert did == alice.did and len(entries) == 7
    items = read_history(did, entries, alice.key, anchorer=anchorer)
    assert [i.purpose for i in items[:6]] == [f"stay-{i}" for i in range(6)]
    assert all(i.verifier == ryokan.did and i.claims == ("ageOver18",) for i in items[:6])
    assert all(i.proven and i.anchor_block is not None for i in items[:6])
    assert not items[6].proven and items[6].result == "refused" and items[6].reason == "kaga:credential-revoked"
    bob_did, bob_entries = _history(filled, bob)
    assert {e.entry.seq for e in bob_entries}.isdisjoint({e.entry.seq for e in entries})
    assert [i.claims for i in read_history(bob_did, bob_entries, bob.key)] == [("insuranceNumber",)] * 6


def test_another_subject_cannot_read_them(filled: AccessLog, alice: Party, bob: Party) -> None:
    did, entries = _history(filled, alice)
    with pytest.raises(AccessLogError) as info:
        read_history(did, entries, bob.key)
    assert info.value.code == DECRYPTION_FAILED
    with pytest.raises(AccessLogError):
        decrypt_subject_data(entries[0].entry.body["subjectData"], make_party().key)


def test_signing_for_someone_else_is_refused(filled: AccessLog, alice: Party, bob: Party) -> None:
    challenge = filled.create_challenge()
    # bob's key, alice's DID: the kid names bob's key, which is not in alice's document
    forged = answer_challenge(challenge, did=bob.did, signer=bob.signer).split(".")
    payload = json.loads(_b64d(forged[1]))
    payload["iss"] = alice.did
    token = ".".join([forged[0], _b64e(json.dumps(payload).encode()), forged[2]])
    with pytest.raises(KagaError):
        filled.subject_history(token)
    # and with alice's key id but bob's signature
    header = json.loads(_b64d(forged[0]))
    header["kid"] = alice.signer.key_id
    token = ".".join([_b64e(json.dumps(header).encode()), _b64e(json.dumps(payload).encode()), forged[2]])
    with pytest.raises(KagaError) as info:
        filled.subject_history(token)
    assert info.value.code in ("PROOF_VERIFICATION_ERROR", "kaga:invalid-kid")


def test_replay_is_refused(filled: AccessLog, alice: Party) -> None:
    response = answer_challenge(filled.create_challenge(), did=alice.did, signer=alice.signer)
    filled.subject_history(response)
    with pytest.raises(AccessLogError) as info:
        filled.subject_history(response)
    assert info.value.code == CHALLENGE_REPLAYED


def test_expired_challenge(filled: AccessLog, alice: Party) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    challenge = filled.create_challenge(ttl=timedelta(minutes=5), now=past)
    response = answer_challenge(challenge, did=alice.did, signer=alice.signer, now=past)
    with pytest.raises(AccessLogError) as info:
        filled.subject_history(response)
    assert info.value.code == CHALLENGE_EXPIRED


def test_unknown_nonce_and_other_log(filled: AccessLog, alice: Party) -> None:
    made_up = Challenge("not-issued", filled.log_id, datetime.now(UTC) + timedelta(minutes=5))
    with pytest.raises(AccessLogError) as info:
        filled.subject_history(answer_challenge(made_up, did=alice.did, signer=alice.signer))
    assert info.value.code == CHALLENGE_INVALID
    real = filled.create_challenge()
    elsewhere = Challenge(real.nonce, "another-log", real.expires)
    with pytest.raises(AccessLogError) as info:
        filled.subject_history(answer_challenge(elsewhere, did=alice.did, signer=alice.signer))
    assert info.value.code == CHALLENGE_INVALID


def test_a_subject_with_no_entries_gets_none(filled: AccessLog) -> None:
    _, entries = _history(filled, make_party())
    assert entries == []


def test_key_agreement_keys() -> None:
    alice = make_party()
    public = encryption_key(alice.did, Resolver({"key": KeyMethod()}))
    assert public == agreement_private_key(alice.key).public_key
    derived = Resolver({"key": KeyMethod(enable_encryption_key_derivation=True)})
    assert encryption_key(alice.did, derived) == public  # the did:key document's own keyAgreement key


def test_ed25519_to_x25519_private_mapping_matches_libsodium() -> None:
    import nacl.bindings as nacl

    alice = make_party()
    expected = nacl.crypto_sign_ed25519_sk_to_curve25519(alice.key.to_bytes() + alice.key.public_key.raw)
    assert agreement_private_key(alice.key).to_bytes() == expected


def _b64d(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()



def test_the_subject_jwe_written_on_the_primitives_is_a_standard_ecdh_es_a256gcm_jwe() -> None:
    import json as _json

    from kaga_vc._encoding import b64url_decode
    from kaga_vc.accesslog._subject import decrypt_subject_data, encrypt_subject_data
    from kaga_vc.did.key import ed25519_to_x25519
    from kaga_vc.keys import KeyType, PrivateKey

    holder = PrivateKey.generate(KeyType.ED25519)
    data = {"subject": "did:key:z6Mk…", "claims": ["ageOver18", "氏名"]}
    tokens = [encrypt_subject_data(data, ed25519_to_x25519(holder.public_key)) for _ in range(2)]
    assert tokens[0] != tokens[1]  # a fresh ephemeral key and IV each time
    for token in tokens:
        protected, encrypted_key, iv, _ciphertext, tag = token.split(".")
        header = _json.loads(b64url_decode(protected))
        assert header["alg"] == "ECDH-ES" and header["enc"] == "A256GCM" and set(header) == {"alg", "enc", "epk"}
        assert encrypted_key == "" and len(b64url_decode(iv)) == 12 and len(b64url_decode(tag)) == 16
        assert decrypt_subject_data(token, holder) == data  # jwcrypto opens it
    other = PrivateKey.generate(KeyType.ED25519)
    with pytest.raises(AccessLogError) as refused:
        decrypt_subject_data(tokens[0], other)
    assert refused.value.code == "kaga:decryption-failed"


def test_a_p256_key_agreement_key_is_still_encrypted_to() -> None:
    from jwcrypto import jwe, jwk  # type: ignore[import-untyped]

    from kaga_vc.accesslog._subject import encrypt_subject_data
    from kaga_vc.keys import KeyType, PrivateKey

    key = PrivateKey.generate(KeyType.P256)
    token = encrypt_subject_data({"subject": "did:example:x", "claims": []}, key.public_key)
    opened = jwe.JWE()
    opened.deserialize(token, key=jwk.JWK(**key.to_jwk()))
    assert opened.payload == b'{"claims":[],"subject":"did:example:x"}'
