"""Rotating the city's bundle key (``kaga-vc city bundle-key --rotate``), on a real city on the embedded chain.

After a rotation the new key signs, the old key's KagaBundleKey service is revoked on the DID, and a
verifier that has seen a bundle of the new key refuses anything the rotated-out key signs
(``kaga:bundle-key-retired``) — also a bundle the old key signs with an inflated sequence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.did import Resolver
from kaga_vc.errors import BUNDLE_KEY_RETIRED, CITY_NOT_INITIALISED
from kaga_vc.issuer import init_city, read_city
from kaga_vc.issuer.bundle_keys import rotate_bundle_key
from kaga_vc.keys.keystore import load_key
from kaga_vc.registry import close_registry, ethr_method, open_embedded
from kaga_vc.verifier import TrustedIssuer, build_bundle, check_bundle, read_bundle
from kaga_vc.verifier.bundle import BundleMemory
from kaga_vc.verifier.bundle_key import BundleKeySigner, published_bundle_keys, read_certificate

from .conftest import FAST, PASSWORD, World


def _published(world: World) -> list[str]:
    return _listed(world.registry, world.config.did)


def _listed(registry: Any, did: str) -> list[str]:
    document = Resolver({"ethr": ethr_method(registry)}).resolve(did).did_document
    return [e["publicKeyMultibase"] for e in published_bundle_keys(document)]


def _published_in(home: Path, did: str) -> list[str]:
    registry = open_embedded(home)
    try:
        return _listed(registry, did)
    finally:
        close_registry(registry)


def _check(bundle: Any, world: World, memory: BundleMemory) -> list[str]:
    problems, _ = check_bundle(read_bundle(bundle.token, trusted_city=world.config.did),
                               trusted_cities=(world.config.did,), memory=memory)
    return [p.code for p in problems]


def test_a_rotated_out_bundle_key_signs_nothing_a_verifier_accepts(fresh_world: World, tmp_path: Path) -> None:
    world = fresh_world
    old_signer = world.bundle_signer
    first = world.bundle()
    rotation = rotate_bundle_key(PASSWORD, home=world.home, scrypt_n=FAST, registry=world.registry)
    assert rotation.retired == f"{world.config.did}#bundle-key-1" and rotation.revoked_in_block is not None
    assert rotation.certificate.generation == 2
    assert read_city(world.home).bundle_key_file == "bundle-key-2.json"
    # the old keystore is kept (nothing is deleted), the new one is a separate file
    assert load_key(world.home / "city" / "bundle-key-1.json", PASSWORD) == old_signer.key
    assert _published(world) == [rotation.certificate.public_key.to_multikey()]  # the old key is revoked on chain
    second = world.bundle()
    assert read_bundle(second.token, trusted_city=world.config.did).key_generation == 2
    # the rotated-out key (its keystore stolen, say) signs a bundle after the rotation, with a huge sequence
    late = build_bundle(signer=old_signer, issuers=[TrustedIssuer(world.config.did, ("KycCredential",))],
                        histories=list(first.histories.values()), sequence=10**15)
    with BundleMemory(tmp_path / "seen-new.sqlite3") as memory:
        assert _check(first, world, memory) == []
        assert _check(second, world, memory) == []
        assert _check(late, world, memory) == [BUNDLE_KEY_RETIRED]
        assert memory.generation(world.config.did) == 2
    # a verifier the stolen key reached first is cured by the first bundle of the new key
    with BundleMemory(tmp_path / "seen-late.sqlite3") as memory:
        assert _check(late, world, memory) == []
        assert _check(second, world, memory) == []  # a lower sequence, but a newer key generation
        assert _check(late, world, memory) == [BUNDLE_KEY_RETIRED]
        assert _check(first, world, memory) == [BUNDLE_KEY_RETIRED]


def test_a_memory_from_before_bundle_keys_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "bundles.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE newest_bundles (city TEXT PRIMARY KEY, sequence INTEGER NOT NULL, "
                 "digest TEXT NOT NULL, created TEXT NOT NULL, seen_at INTEGER NOT NULL)")
    conn.execute("INSERT INTO newest_bundles VALUES ('did:ethr:0x539:0x1', 5, 'ab', '2026-01-01', 0)")
    conn.commit()
    conn.close()
    with BundleMemory(path) as memory:
        assert memory.newest("did:ethr:0x539:0x1") == (5, "ab") and memory.generation("did:ethr:0x539:0x1") == 0


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("KAGA_VC_HOME", str(home))
    monkeypatch.setenv("KAGA_VC_PASSWORD", PASSWORD)
    monkeypatch.delenv("KAGA_VC_RECORDS_URL", raising=False)
    monkeypatch.delenv("KAGA_VC_RPC_URL", raising=False)
    monkeypatch.delenv("KAGA_VC_TRUSTED_CITY", raising=False)
    init_city(PASSWORD, home=home, scrypt_n=FAST)
    return home


def run(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, list(args))
    try:
        return result.exit_code, json.loads(result.stdout)
    except ValueError:
        return result.exit_code, result.stdout + result.stderr


def test_bundle_key_rotate_through_the_cli(env: Path, tmp_path: Path) -> None:
    did = read_city(env).did
    code, shown = run("city", "bundle-key", "--json")
    assert code == 0 and shown["bundleKey"]["keyId"] == f"{did}#bundle-key-1", shown
    old = tmp_path / "old.jwt"
    code, out = run("bundle", "sync", "--out", str(old), "--json")
    assert code == 0 and out["bundleKey"]["generation"] == 1, out
    # a wrong password changes nothing: no new keystore, city.json as it was
    bad = tmp_path / "bad.pw"
    bad.write_text("wrong password\n")
    before = (env / "city" / "city.json").read_bytes()
    code, out = run("city", "bundle-key", "--rotate", "--password-file", str(bad), "--json")
    assert code == 3 and "kaga:keystore-wrong-password" in str(out), out
    assert (env / "city" / "city.json").read_bytes() == before
    assert not (env / "city" / "bundle-key-2.json").exists()
    code, out = run("city", "bundle-key", "--rotate", "--valid-for", "0", "--json")
    assert code == 3, out
    code, out = run("city", "bundle-key", "--rotate", "--json")
    assert code == 0, out
    assert out["bundleKey"]["keyId"] == f"{did}#bundle-key-2" and out["retired"] == f"{did}#bundle-key-1"
    assert out["keystore"] == "bundle-key-2.json"
    assert ((env / "city" / "bundle-key-2.json").stat().st_mode & 0o777) == 0o600
    new = tmp_path / "new.jwt"
    code, out = run("bundle", "sync", "--out", str(new), "--json")
    assert code == 0 and out["bundleKey"]["generation"] == 2, out
    code, out = run("bundle", "verify", str(new), "--city", did, "--json")
    assert code == 0 and out["verified"], out
    # online, the chain says which key is the city's now: the rotated-out key's bundle is refused
    code, out = run("bundle", "verify", str(new), "--city", did, "--embedded-chain", "--json")
    assert code == 0 and out["verified"] and out["chainChecked"], out
    code, out = run("bundle", "verify", str(old), "--city", did, "--embedded-chain", "--json")
    assert code == 1 and [p["code"] for p in out["problems"]] == [BUNDLE_KEY_RETIRED], out
    code, out = run("bundle", "verify", str(old), "--city", did, "--json")  # offline it cannot know
    assert code == 0 and not out["chainChecked"], out
    assert _published_in(env, did) == [out_key(env)]


def out_key(home: Path) -> str:
    config = read_city(home)
    return read_certificate(config.bundle_key_certificate, config.did).public_key.to_multikey()


def test_a_city_made_before_bundle_keys_gets_one_by_rotating(env: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    from kaga_vc.issuer.service import _write_json

    config = read_city(env)
    _write_json(env / "city" / "city.json", replace(config, bundle_key_file="", bundle_key_certificate="")
                .to_json())
    code, out = run("bundle", "sync", "--out", str(tmp_path / "b.jwt"), "--json")
    assert code == 3 and CITY_NOT_INITIALISED in str(out), out
    code, out = run("city", "bundle-key", "--rotate", "--json")
    assert code == 0 and out["bundleKey"]["generation"] == 1, out
    # the keystore init wrote is reused (never overwritten), and it is the one key listed on the DID
    assert _published_in(env, config.did) == [out_key(env)]
    code, out = run("bundle", "sync", "--out", str(tmp_path / "b.jwt"), "--json")
    assert code == 0, out
    signer = BundleKeySigner(load_key(env / "city" / "bundle-key-1.json", PASSWORD),
                             read_certificate(read_city(env).bundle_key_certificate, config.did))
    assert signer.key_id == f"{config.did}#bundle-key-1"
