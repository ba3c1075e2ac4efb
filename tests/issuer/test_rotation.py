"""``kaga-vc city rotate-key`` (issue 12): new keys published, issuance switched, old keys revoked on chain.

All on the embedded chain (a real EVM running the ERC-1056 registry). Credentials issued before the
rotation keep verifying, resolved at their issuance time; the old key signs nothing valid afterwards.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.credentials import verify_credential
from kaga_vc.did import KeyMethod, Resolver
from kaga_vc.issuer import CityIssuer, init_city, open_city_issuer, read_city
from kaga_vc.issuer.rotation import rotate_city_key
from kaga_vc.keys.keystore import load_key
from kaga_vc.registry import close_registry, ethr_method, open_embedded
from kaga_vc.verifier import issuance_of
from kaga_vc.verifier.bundle import PinnedTimeMethod

from .conftest import PASSWORD, residency_claims, resident_did


def _resolvers(home: Path) -> tuple[Any, Any, Any]:
    registry = open_embedded(home)
    ethr = ethr_method(registry)

    def at_issuance(document: Any) -> Resolver:
        issuer, when = issuance_of(document)
        assert issuer and when
        return Resolver({"key": KeyMethod(), "ethr": PinnedTimeMethod(ethr, {issuer: when})})

    return registry, Resolver({"key": KeyMethod(), "ethr": ethr}), at_issuance


def test_rotation_through_the_library(tmp_path: Path) -> None:
    old, _ = init_city(PASSWORD, home=tmp_path, scrypt_n=2**10)
    with open_city_issuer(PASSWORD, home=tmp_path) as city:
        before = {fmt: city.issue("residency", resident_did(), residency_claims(), format=fmt, staff="t").document
                  for fmt in ("data-integrity", "jwt-vc11", "sd-jwt")}
    rotation = rotate_city_key(PASSWORD, home=tmp_path, scrypt_n=2**10)
    new = read_city(tmp_path)
    assert new == rotation.config
    assert new.ed25519_method != old.ed25519_method and new.secp256k1_method != old.secp256k1_method
    assert set(rotation.retired) == {old.ed25519_method, old.secp256k1_method}
    assert len(rotation.revoked_in_blocks) == 2
    with open_city_issuer(PASSWORD, home=tmp_path) as city:
        assert city.ed25519_signer.key_id == new.ed25519_method
        after = {fmt: city.issue("residency", resident_did(), residency_claims(), format=fmt, staff="t").document
                 for fmt in ("data-integrity", "jwt-vc11", "sd-jwt")}
    registry, current, at_issuance = _resolvers(tmp_path)
    try:
        document = current.resolve(new.did).did_document
        methods = {vm["id"] for vm in document["verificationMethod"]}
        assert new.ed25519_method in methods and new.secp256k1_method in methods
        assert old.ed25519_method not in methods and old.secp256k1_method not in methods
        for fmt, credential in before.items():
            assert verify_credential(credential, resolver=at_issuance(credential)).verified, fmt
            # against today's document the old key is gone: this is why verifiers resolve at issuance time
            assert not verify_credential(credential, resolver=current).verified, fmt
        for fmt, credential in after.items():
            assert verify_credential(credential, resolver=current).verified, fmt
            assert verify_credential(credential, resolver=at_issuance(credential)).verified, fmt
        # the revoked key signing now (dated honestly, after the revocation) is refused
        stale = CityIssuer(old, ed25519=load_key(tmp_path / "city" / old.ed25519_file, PASSWORD),
                           secp256k1=load_key(tmp_path / "city" / old.secp256k1_file, PASSWORD))
        late = stale.issue("residency", resident_did(), residency_claims(), format="data-integrity",
                           now=datetime.now(UTC) + timedelta(hours=3)).document
        result = verify_credential(late, resolver=at_issuance(late), now=datetime.now(UTC) + timedelta(hours=3))
        assert not result.verified
        assert result.problems[0].code == "kaga:verification-method-not-found"
    finally:
        close_registry(registry)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path))
    monkeypatch.setenv("KAGA_VC_PASSWORD", PASSWORD)
    monkeypatch.delenv("KAGA_VC_RECORDS_URL", raising=False)
    monkeypatch.delenv("KAGA_VC_RPC_URL", raising=False)
    init_city(PASSWORD, home=tmp_path, scrypt_n=2**10)
    return tmp_path


def run(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, list(args))
    try:
        return result.exit_code, json.loads(result.stdout)
    except ValueError:
        return result.exit_code, result.stdout + result.stderr


def _issue(home: Path, name: str, fmt: str) -> Path:
    path = home / name
    code, out = run("issue", "residency", "--subject", resident_did(), "--name", "加賀 花子", "--name-kana",
                    "カガ ハナコ", "--birth-date", "1990-02-03", "--address", "石川県 加賀市 大聖寺南町 ニ41",
                    "--resident-since", "2015-04-01", "--evidence", "residenceCard", "--format", fmt,
                    "--out", str(path), "--json")
    assert code == 0, out
    return path


def test_rotate_key_through_the_cli(env: Path) -> None:
    old = read_city(env)
    before = {fmt: _issue(env, f"before-{fmt}", fmt) for fmt in ("data-integrity", "vc-jwt", "jwt-vc11")}
    code, anchored = run("city", "anchor", *map(str, before.values()), "--json")
    assert code == 0 and anchored["size"] == 3, anchored
    code, out = run("city", "rotate-key", "--json")
    assert code == 0, out
    assert out["did"] == old.did and out["ed25519Method"] != old.ed25519_method
    assert old.ed25519_method in out["retired"]
    code, shown = run("city", "show", "--json")
    assert shown["ed25519_method"] == out["ed25519Method"]
    after = _issue(env, "after.json", "data-integrity")
    assert json.loads(after.read_text())["proof"]["verificationMethod"] == out["ed25519Method"]
    lists = env / "lists.json"
    code, published = run("status", "publish", "--out", str(lists), "--json")
    assert code == 0, published
    signed_by = {json.loads(json.dumps(doc))["proof"]["verificationMethod"]
                 for doc in json.loads(lists.read_text()).values()}
    assert signed_by == {out["ed25519Method"]}  # the lists are re-signed with the new key
    for path in (*before.values(), after):
        proof = ["--anchor-proof", f"{path}.anchor.json"] if path != after else []
        code, result = run("verify", str(path), "--embedded-chain", *proof, "--json")
        assert code == 0 and result["verified"], (path.name, result)
        code, result = run("verify", str(path), "--embedded-chain", "--status-lists", str(lists), *proof, "--json")
        assert code == 0 and result["verified"], (path.name, result)
    # without its anchor, a credential whose key was rotated away could be backdated: refused
    code, result = run("verify", str(before["data-integrity"]), "--embedded-chain", "--json")
    assert code == 1 and "kaga:key-no-longer-valid" in [p["code"] for p in result["problems"]], result
    # another credential's proof does not fit this one
    code, result = run("verify", str(before["vc-jwt"]), "--embedded-chain", "--anchor-proof",
                       f"{before['data-integrity']}.anchor.json", "--json")
    assert code == 1 and "kaga:key-no-longer-valid" in [p["code"] for p in result["problems"]], result


def test_backdating_with_a_revoked_key_is_refused_even_when_anchored_now(env: Path) -> None:
    """The revoked key signs a new credential dated before its revocation; an anchor made now is too late."""
    old = read_city(env)
    code, out = run("city", "rotate-key", "--json")
    assert code == 0, out
    stale = CityIssuer(old, ed25519=load_key(env / "city" / old.ed25519_file, PASSWORD),
                       secp256k1=load_key(env / "city" / old.secp256k1_file, PASSWORD))
    backdated_at = datetime.fromisoformat(old.keys_published_at)  # the old key was valid then
    for fmt in ("data-integrity", "vc-jwt"):
        forged = stale.issue("residency", resident_did(), residency_claims(), format=fmt, now=backdated_at)
        path = env / f"forged-{fmt}"
        path.write_text(forged.serialise(), encoding="utf-8")
        code, result = run("verify", str(path), "--embedded-chain", "--json")
        assert code == 1 and [p["code"] for p in result["problems"]] == ["kaga:key-no-longer-valid"], result
        code, anchored = run("city", "anchor", str(path), "--json")
        assert code == 0, anchored
        code, result = run("verify", str(path), "--embedded-chain", "--anchor-proof", f"{path}.anchor.json", "--json")
        assert code == 1 and [p["code"] for p in result["problems"]] == ["kaga:key-no-longer-valid"], result
        assert "not from while the key was valid" in result["problems"][0]["detail"]
