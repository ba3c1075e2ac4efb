"""Issue 13: revocation could be rolled back (an older bundle accepted), bundles never expired, any city was trusted.

Against the real parts: the city on the embedded chain, its real status lists, the real verifier, the
verifier's SQLite memory of the newest bundle, and ``kaga-vc bundle fetch`` against a real HTTP server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.holder import create_wallet
from kaga_vc.verifier import CredentialQuery, NonceStore, Policy, create_request, verify_response
from kaga_vc.verifier.bundle import BundleMemory, TrustedIssuer, build_bundle, check_bundle, read_bundle

from .conftest import FAST, PASSWORD, World, did_key_signer
from .test_fetch import _Server


def _request(world: World) -> Any:
    return create_request(signer=world.verifier, purpose="hotel check-in",
                          credentials=[CredentialQuery("KycCredential", ("ageOver18",))])


def test_a_revoked_credential_does_not_verify_against_the_bundle_from_before(world: World, tmp_path: Path) -> None:
    wallet = create_wallet(tmp_path / "w.json", PASSWORD, scrypt_n=FAST)
    issued = world.issue(subject=wallet.did)
    wallet.add(issued.document)
    before = world.bundle()  # the credential is still active here
    world.issuer.status.revoke(issued.id)
    after = world.bundle()
    assert after.sequence > before.sequence
    policy = Policy(trusted_cities=(world.config.did,))
    with NonceStore(tmp_path / "nonces.sqlite3") as store:
        req = _request(world)
        fresh = verify_response(wallet.present(req.token).compact, request=req.token, bundle=after.token,
                                policy=policy, nonce_store=store)
        assert "kaga:credential-revoked" in fresh.codes
        req = _request(world)
        rolled_back = verify_response(wallet.present(req.token).compact, request=req.token, bundle=before.token,
                                      policy=policy, nonce_store=store)
    assert not rolled_back.verified and "kaga:bundle-rollback" in rolled_back.codes
    # the verifier remembers across restarts (its SQLite file beside the nonce store)
    with BundleMemory(tmp_path / "bundles.sqlite3") as memory:
        assert memory.newest(world.config.did) == (after.sequence, after.digest)


def test_no_trusted_city_is_a_refusal_and_trusting_any_city_is_explicit(world: World, tmp_path: Path) -> None:
    wallet = create_wallet(tmp_path / "w.json", PASSWORD, scrypt_n=FAST)
    wallet.add(world.issue(subject=wallet.did).document)
    bundle = world.bundle()
    req = _request(world)
    unpinned = verify_response(wallet.present(req.token).compact, request=req.token, bundle=bundle.token)
    assert not unpinned.verified and "kaga:bundle-signer-not-pinned" in unpinned.codes
    req = _request(world)
    anyone = verify_response(wallet.present(req.token).compact, request=req.token, bundle=bundle.token,
                             policy=Policy(trust_any_city=True))
    assert anyone.verified, anyone.codes
    assert "kaga:bundle-signer-not-pinned" in [w.code for w in anyone.warnings]


def test_a_self_made_city_is_refused_when_pinned_by_default() -> None:
    city, forger = did_key_signer(), did_key_signer()
    fake = build_bundle(signer=forger, issuers=[TrustedIssuer(forger.key_id.split("#")[0], ("KycCredential",))],
                        histories=[])
    problems, _ = check_bundle(read_bundle(fake.token), trusted_cities=(city.key_id.split("#")[0],))
    assert [p.code for p in problems] == ["kaga:bundle-signer-not-trusted"]
    problems, _ = check_bundle(read_bundle(fake.token), trusted_cities=())
    assert [p.code for p in problems] == ["kaga:bundle-signer-not-pinned"]


def test_an_expired_bundle_is_refused_unless_within_the_grace() -> None:
    city = did_key_signer()
    did = city.key_id.split("#")[0]
    created = datetime(2026, 11, 1, tzinfo=UTC)
    bundle = read_bundle(build_bundle(signer=city, issuers=[TrustedIssuer(did)], histories=[], now=created,
                                      valid_for=timedelta(days=1)).token)
    assert bundle.expires == created + timedelta(days=1)
    later = created + timedelta(days=1, hours=2)
    problems, _ = check_bundle(bundle, trusted_cities=(did,), now=later)
    assert [p.code for p in problems] == ["kaga:bundle-expired"]
    problems, warnings = check_bundle(bundle, trusted_cities=(did,), now=later, grace=timedelta(hours=3))
    assert problems == [] and [w.code for w in warnings] == ["kaga:bundle-expired"]
    problems, warnings = check_bundle(bundle, trusted_cities=(did,), now=created + timedelta(hours=1))
    assert problems == [] and warnings == []


def test_same_sequence_with_other_content_is_refused(tmp_path: Path) -> None:
    city = did_key_signer()
    did = city.key_id.split("#")[0]
    one = build_bundle(signer=city, issuers=[TrustedIssuer(did)], histories=[], sequence=7)
    fork = build_bundle(signer=city, issuers=[TrustedIssuer(did, ("KycCredential",))], histories=[], sequence=7)
    with BundleMemory(tmp_path / "b.sqlite3") as memory:
        memory.remember(one)
        memory.remember(one)  # the same bundle again is fine
        problems, _ = check_bundle(fork, trusted_cities=(did,), memory=memory)
    assert [p.code for p in problems] == ["kaga:bundle-rollback"]


def test_bundle_fetch_never_replaces_newer_with_older(world: World, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path / "shop-home"))  # a business: no city here
    monkeypatch.delenv("KAGA_VC_TRUSTED_CITY", raising=False)
    older, newer = world.bundle(), world.bundle()
    server = _Server()
    server.thread.start()
    try:
        server.routes["/old"] = (200, older.token.encode(), {})
        server.routes["/new"] = (200, newer.token.encode(), {})
        out = tmp_path / "trust-bundle.jwt"
        runner = CliRunner()
        unpinned = runner.invoke(app, ["bundle", "fetch", server.url("/new"), "--out", str(out), "--json"])
        assert unpinned.exit_code == 1 and "kaga:bundle-signer-not-pinned" in unpinned.stdout
        assert not out.exists()
        ok = runner.invoke(app, ["bundle", "fetch", server.url("/new"), "--out", str(out), "--allow-private-address", "--city",
                                 world.config.did, "--json"])
        assert ok.exit_code == 0, ok.output
        back = runner.invoke(app, ["bundle", "fetch", server.url("/old"), "--out", str(out), "--allow-private-address", "--city",
                                   world.config.did, "--json"])
        assert back.exit_code == 1 and "kaga:bundle-rollback" in back.stdout
        assert out.read_text().strip() == newer.token
        # even into another file: the verifier's memory has seen the newer one
        other = tmp_path / "elsewhere.jwt"
        again = runner.invoke(app, ["bundle", "fetch", server.url("/old"), "--out", str(other), "--allow-private-address", "--city",
                                    world.config.did, "--json"])
        assert again.exit_code == 1 and "kaga:bundle-rollback" in again.stdout and not other.exists()
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
