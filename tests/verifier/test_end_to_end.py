"""City issues on the embedded chain → bundle sync → network off → wallet presents → verifier decides.

Each refusal has its own code; every test asserts it.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kaga_vc.credentials import verify_credential
from kaga_vc.errors import (
    INVALID_CHALLENGE_ERROR,
    INVALID_DOMAIN_ERROR,
    KagaError,
)
from kaga_vc.holder import FULL_DISCLOSURE, create_wallet
from kaga_vc.verifier import (
    CredentialQuery,
    NonceStore,
    Policy,
    PurposePolicy,
    create_request,
    read_bundle,
    verify_response,
)

from .conftest import FAST, KYC_CLAIMS, PASSWORD, World, did_key_signer, wait_for_chain

AGE = [CredentialQuery("KycCredential", ("ageOver18",))]


def request(world: World, claims: list[CredentialQuery] = AGE, **kw: object):
    return create_request(signer=world.verifier, purpose="hotel check-in", credentials=claims, **kw)  # type: ignore[arg-type]


def verify(world: World, response: str, req: object, bundle: object, tmp_path: Path, **kw: object):
    with NonceStore(tmp_path / "nonces.sqlite3") as store:
        return verify_response(response, request=req.token, bundle=bundle.token, nonce_store=store,  # type: ignore[attr-defined]
                               policy=kw.pop("policy", Policy(trusted_cities=(world.config.did,))), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sd_jwt(world: World) -> object:
    issued = world.issue("sd-jwt")
    world.wallet.add(issued.document)
    return issued


def test_end_to_end_offline_selective_disclosure(world: World, sd_jwt: object, tmp_path: Path,
                                                 no_network: None) -> None:
    bundle = world.bundle()
    req = request(world)
    answer = world.wallet.present(req.token)
    assert answer.warnings == ()  # SD-JWT: nothing shown beyond the request
    result = verify(world, answer.compact, req, bundle, tmp_path)
    assert result.verified, result.to_json()
    assert result.codes == []
    assert result.details["claims"]["ageOver18"] is True
    # only the requested claim (plus what the city never makes disclosable) is visible
    assert not {"fullName", "fullNameKana", "birthDate", "ageOver20"} & set(result.details["claims"])
    entry = result.details["credentials"][0]
    assert entry["issuer"] == world.config.did and entry["types"] == ["KycCredential"] and entry["accepted"]
    assert {"bundle", "request", "credentials", "requestedClaims", "nonce"} <= set(result.checks)


@pytest.mark.parametrize("fmt", ["data-integrity", "vc-jwt", "jwt-vc11"])
def test_other_formats_are_presented_whole_with_a_warning(world: World, fmt: str, tmp_path: Path,
                                                          no_network: None) -> None:
    wallet = create_wallet(tmp_path / f"{fmt}.json", PASSWORD, scrypt_n=FAST)
    issued = world.issue(fmt, subject=wallet.did)
    wallet.add(issued.document)
    req = request(world)
    answer = wallet.present(req.token)
    assert [w.code for w in answer.warnings] == [FULL_DISCLOSURE]
    result = verify(world, answer.compact, req, world.bundle(), tmp_path)
    assert result.verified, result.to_json()
    assert result.details["claims"]["fullName"] == "加賀 花子"  # whole credential: everything is shown


def test_replayed_presentation_is_refused_across_restarts(world: World, sd_jwt: object, tmp_path: Path) -> None:
    bundle, req = world.bundle(), request(world)
    answer = world.wallet.present(req.token)
    assert verify(world, answer.compact, req, bundle, tmp_path).verified
    # a new NonceStore on the same file: a restarted verifier process
    replay = verify(world, answer.compact, req, bundle, tmp_path)
    assert replay.verified is False
    assert replay.codes == ["kaga:nonce-replayed"]


def test_revoked_and_suspended_credentials(world: World, tmp_path: Path) -> None:
    wallet = create_wallet(tmp_path / "w.json", PASSWORD, scrypt_n=FAST)
    revoked, suspended = world.issue(subject=wallet.did), world.issue(subject=wallet.did)
    world.issuer.status.revoke(revoked.id)
    world.issuer.status.suspend(suspended.id)
    bundle = world.bundle()  # the city's current status lists
    for issued, code in ((revoked, "kaga:credential-revoked"), (suspended, "kaga:credential-suspended")):
        only = create_wallet(tmp_path / f"{code}.json", PASSWORD, scrypt_n=FAST)
        only._key = wallet._key  # the same holder, holding just this credential
        only.add(issued.document)
        req = request(world)
        result = verify(world, only.present(req.token).compact, req, bundle, tmp_path)
        assert not result.verified
        assert code in result.codes
        assert result.details["credentials"][0]["accepted"] is False


def test_presentation_for_another_verifier(world: World, sd_jwt: object, tmp_path: Path) -> None:
    bundle = world.bundle()
    theirs = create_request(signer=did_key_signer(), purpose="bar", credentials=AGE)
    answer = world.wallet.present(theirs.token)  # made for the other verifier
    ours = request(world)
    result = verify(world, answer.compact, ours, bundle, tmp_path)
    assert not result.verified
    assert INVALID_DOMAIN_ERROR in result.codes and INVALID_CHALLENGE_ERROR in result.codes
    assert "nonce" not in result.checks  # our nonce was not burnt by someone else's presentation


def test_presentation_signed_by_another_key_than_the_subject(world: World, tmp_path: Path) -> None:
    victim = create_wallet(tmp_path / "victim.json", PASSWORD, scrypt_n=FAST)
    thief = create_wallet(tmp_path / "thief.json", PASSWORD, scrypt_n=FAST)
    stolen_di = world.issue("data-integrity", subject=victim.did).document
    stolen_sd = world.issue("sd-jwt", subject=victim.did).document
    with pytest.raises(KagaError) as refused:
        thief.add(stolen_di)
    assert refused.value.code == "kaga:holder-not-subject"
    # the thief builds the presentations by hand: a DI presentation signed with its own key ...
    from kaga_vc.credentials import create_presentation
    from kaga_vc.proofs.jose import present_sd_jwt
    from kaga_vc.verifier import PresentationResponse, encode_response

    bundle = world.bundle()
    req = request(world)
    vp = create_presentation([stolen_di], signer=thief.signer, challenge=req.nonce, domain=req.verifier)
    result = verify(world, encode_response(PresentationResponse(req.id, (vp,))), req, bundle, tmp_path)
    assert not result.verified and "kaga:holder-not-subject" in result.codes
    # ... and an SD-JWT with a KB-JWT that is not signed by the cnf key
    req = request(world)
    shown = present_sd_jwt(stolen_sd, disclose=["ageOver18"], holder_signer=thief.signer, audience=req.verifier,
                           nonce=req.nonce)
    result = verify(world, encode_response(PresentationResponse(req.id, (shown,))), req, bundle, tmp_path)
    assert not result.verified
    # the KB-JWT is the holder's proof and does not verify with the cnf key: refused for that alone, as a
    # presentation whose proof fails is in every format (policy codes are derived from verified facts only)
    assert "PROOF_VERIFICATION_ERROR" in result.codes and "kaga:holder-not-subject" not in result.codes


def test_issuer_not_in_the_bundle(world: World, tmp_path: Path) -> None:
    from kaga_vc.issuer import CityIssuer

    wallet = create_wallet(tmp_path / "w.json", PASSWORD, scrypt_n=FAST)
    rogue_key = did_key_signer()
    rogue_config = replace(world.config, did=rogue_key.key_id.split("#")[0], ed25519_method=rogue_key.key_id)
    rogue = CityIssuer(rogue_config, ed25519=rogue_key.key, secp256k1=rogue_key.key)
    wallet.add(rogue.issue("kyc", wallet.did, {"fullName": "偽 物", "fullNameKana": "ニセ モノ", "birthDate": "1990-01-01",
                                              "evidence": ["email"]}).document)
    req = request(world)
    result = verify(world, wallet.present(req.token).compact, req, world.bundle(), tmp_path)
    assert not result.verified
    assert "kaga:issuer-not-trusted" in result.codes
    assert "kaga:claim-not-disclosed" in result.codes  # nothing trusted disclosed the age


def test_type_and_purpose_policy(world: World, sd_jwt: object, tmp_path: Path) -> None:
    residency_only = world.bundle(types=("ResidencyCredential",))
    req = request(world)
    result = verify(world, world.wallet.present(req.token).compact, req, residency_only, tmp_path)
    assert "kaga:credential-type-not-accepted" in result.codes
    req = request(world)
    policy = Policy(purposes={"pharmacy": PurposePolicy(types=("KycCredential",))}, trusted_cities=(world.config.did,))
    result = verify(world, world.wallet.present(req.token).compact, req, world.bundle(), tmp_path, policy=policy)
    assert result.codes == ["kaga:purpose-not-accepted"]


def test_stale_bundle_warns_or_refuses_per_policy(world: World, sd_jwt: object, tmp_path: Path) -> None:
    bundle = world.bundle()
    later = datetime.now(UTC) + timedelta(hours=2)  # the business has not synced for two hours
    req = request(world, now=later)
    response = world.wallet.present(req.token, now=later).compact
    warn = Policy(max_bundle_age=timedelta(hours=1), trusted_cities=(world.config.did,))
    result = verify(world, response, req, bundle, tmp_path, policy=warn, now=later)
    assert result.verified and "kaga:bundle-stale" in [w.code for w in result.warnings]
    req = request(world, now=later)
    response = world.wallet.present(req.token, now=later).compact
    refuse = Policy(max_bundle_age=timedelta(hours=1), stale_bundle="refuse", trusted_cities=(world.config.did,))
    result = verify(world, response, req, bundle, tmp_path / "2", policy=refuse, now=later)
    assert not result.verified and result.codes == ["kaga:bundle-stale"]


def _retamper(token: str, change: object) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(data)  # type: ignore[operator]
    raw = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{header}.{raw}.{signature}"


def test_tampered_bundle(world: World, sd_jwt: object, tmp_path: Path) -> None:
    bundle = world.bundle()
    rogue = did_key_signer().key_id.split("#")[0]
    tampered = _retamper(bundle.token, lambda d: d["issuers"].append({"did": rogue, "types": ["KycCredential"]}))
    with pytest.raises(KagaError) as refused:
        read_bundle(tampered)
    assert refused.value.code == "kaga:bundle-signature-invalid"
    req = request(world)
    with NonceStore(tmp_path / "n.sqlite3") as store:
        result = verify_response(world.wallet.present(req.token).compact, request=req.token, bundle=tampered,
                                 nonce_store=store, policy=Policy(trusted_cities=(world.config.did,)))
    assert not result.verified and result.codes == ["kaga:bundle-signature-invalid"]
    with pytest.raises(KagaError) as garbage:
        read_bundle(bundle.token[:-40] + "!" * 40)
    assert garbage.value.code == "kaga:bundle-invalid"
    with pytest.raises(KagaError) as other_city:
        read_bundle(bundle.token, trusted_city="did:ethr:0x539:0x" + "11" * 20)
    assert other_city.value.code == "kaga:bundle-signer-not-trusted"


def test_key_rotation_versus_revocation(fresh_world: World, tmp_path: Path) -> None:
    """Signed before a rotation: still valid. Signed with the key after its revocation: refused."""
    from kaga_vc.keys import KeyType, PrivateKey
    from kaga_vc.keys import ethereum_address as address_of
    from kaga_vc.registry import key_attribute

    world = fresh_world
    before = world.issue("sd-jwt")
    world.wallet.add(before.document)
    assert world.anchor_pending() is not None  # the runbook: anchor every issuance batch before you rotate
    time.sleep(1.1)  # the rotation happens in a later second than the issuance and its anchor
    owner_address = address_of(world.owner.public_key)
    old_key = world.issuer.ed25519_signer.key.public_key
    new_key = PrivateKey.generate(KeyType.ED25519)
    world.registry.revoke_attribute(owner_address, *key_attribute(old_key, "veriKey"), signer=world.owner)
    world.registry.set_attribute(owner_address, *key_attribute(new_key.public_key, "veriKey"), signer=world.owner)
    wait_for_chain(world.registry)
    after = world.issue("sd-jwt")  # a compromised old key still signing after its revocation
    from kaga_vc.did import DID, ResolutionOptions
    from kaga_vc.issuer import CityIssuer
    from kaga_vc.registry import ethr_method

    document = ethr_method(world.registry).resolve(DID.parse(world.config.did), ResolutionOptions()).did_document
    new_method = next(m["id"] for m in document["verificationMethod"]
                      if m.get("publicKeyMultibase") == new_key.public_key.to_multikey())
    # from now on the city signs its bundle (and status lists) with the new key
    old_issuer = world.issuer
    world.issuer = CityIssuer(replace(world.config, ed25519_method=new_method), ed25519=new_key,
                              secp256k1=PrivateKey.generate(KeyType.SECP256K1), status=world.issuer.status,
                              records=world.issuer.records)
    bundle = world.bundle()
    req = request(world)
    result = verify(world, world.wallet.present(req.token).compact, req, bundle, tmp_path)
    assert result.verified, result.to_json()
    # without versionTime (today's document) the same credential would not verify: the pin matters
    today = verify_credential(before.document, resolver=read_bundle(bundle.token).resolver())
    assert not today.verified
    revoked_wallet = create_wallet(tmp_path / "late.json", PASSWORD, scrypt_n=FAST)
    revoked_wallet._key = world.wallet._key
    revoked_wallet.add(after.document)
    req = request(world)
    result = verify(world, revoked_wallet.present(req.token).compact, req, bundle, tmp_path)
    assert not result.verified
    assert "kaga:verification-method-not-found" in result.codes
    # the revoked key signs a new credential dated inside its old window (backdating): it resolves at
    # that time, but the bundle lists only what was anchored while the key was valid
    forged = old_issuer.issue("kyc", world.wallet.did, KYC_CLAIMS, format="sd-jwt", staff="x", record=False,
                              now=before.issued_at)
    forged_wallet = create_wallet(tmp_path / "forged.json", PASSWORD, scrypt_n=FAST)
    forged_wallet._key = world.wallet._key
    forged_wallet.add(forged.document)
    req = request(world)
    result = verify(world, forged_wallet.present(req.token).compact, req, bundle, tmp_path)
    assert not result.verified and "kaga:key-no-longer-valid" in result.codes, result.to_json()


def test_verify_path_is_offline_in_a_fresh_process(world: World, sd_jwt: object, tmp_path: Path) -> None:
    """A new interpreter verifies with sockets refused and never imports web3, the EVM or the registry."""
    import subprocess
    import sys

    bundle, req = world.bundle(), request(world)
    (tmp_path / "bundle.jwt").write_text(bundle.token)
    (tmp_path / "request.jwt").write_text(req.token)
    (tmp_path / "response.txt").write_text(world.wallet.present(req.token).compact)
    script = f"""
import socket, sys
def refuse(*a, **k): raise RuntimeError("socket opened")
socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse
from pathlib import Path
from kaga_vc.verifier import NonceStore, Policy, verify_response
d = Path({str(tmp_path)!r})
with NonceStore(d / "n.sqlite3") as store:
    r = verify_response((d / "response.txt").read_text(), request=(d / "request.jwt").read_text(),
                        bundle=(d / "bundle.jwt").read_text(), nonce_store=store,
                    policy=Policy(trusted_cities=({world.config.did!r},)))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("web3", "eth_tester", "evm", "eth_account")
               or m.startswith("kaga_vc.registry"))
print(r.verified, heavy)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True []"


def test_context_digests_must_match_the_city(world: World, sd_jwt: object, tmp_path: Path) -> None:
    from kaga_vc.verifier import build_bundle
    from kaga_vc.verifier.bundle import context_digests

    digests = context_digests()
    url = "https://www.w3.org/ns/credentials/v2"
    assert url in digests
    good = world.bundle()
    forged = build_bundle(signer=world.bundle_signer, issuers=list(good.issuers.values()),
                          histories=list(good.histories.values()), status_lists=good.status_lists,
                          schemas=good.schemas, contexts={**digests, url: "00" * 32})
    req = request(world)
    result = verify(world, world.wallet.present(req.token).compact, req, forged, tmp_path)
    assert result.codes == ["kaga:context-digest-mismatch"]
