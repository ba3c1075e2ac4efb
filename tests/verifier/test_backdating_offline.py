"""Issue 12, backdating on the trust-bundle (offline) path: a key the city rotated away is accepted only
for credentials the bundle lists as anchored while it was valid.

The city on the embedded chain (a real EVM), its records in SQLite, everything through the CLI: issue
(anchored by itself), rotate-key, bundle sync, then `verify FILE --bundle` offline. The attacker holds the
revoked key and signs a fresh credential dated inside the key's old window.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app
from kaga_vc.credentials import credential_digest
from kaga_vc.issuer import CityIssuer, init_city, read_city
from kaga_vc.keys.keystore import load_key
from kaga_vc.verifier import read_bundle
from kaga_vc.verifier.anchors import DIGEST_BYTES, decode_digests, encode_digests, is_listed

from ..issuer.conftest import PASSWORD, residency_claims, resident_did


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("backdating")
    init_city(PASSWORD, home=home, scrypt_n=2**10)
    return home


@pytest.fixture
def env(city: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAGA_VC_HOME", str(city))
    monkeypatch.setenv("KAGA_VC_PASSWORD", PASSWORD)
    monkeypatch.setenv("KAGA_VC_TRUSTED_CITY", read_city(city).did)
    for name in ("KAGA_VC_RECORDS_URL", "KAGA_VC_RPC_URL", "KAGA_VC_ANCHOR"):
        monkeypatch.delenv(name, raising=False)
    return city


def run(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, list(args))
    try:
        return result.exit_code, json.loads(result.stdout)
    except ValueError:
        return result.exit_code, result.stdout + result.stderr


def codes(result: Any) -> list[str]:
    return [p["code"] for p in result["problems"]]


@pytest.fixture(scope="module")
def rotated(city: Path) -> dict[str, Any]:
    """Before the rotation: an anchored credential per format, one never anchored; then the rotation,
    and a bundle synced after it; the old keys kept for the attacker."""
    mp = pytest.MonkeyPatch()
    mp.setenv("KAGA_VC_HOME", str(city))
    mp.setenv("KAGA_VC_PASSWORD", PASSWORD)
    for name in ("KAGA_VC_RECORDS_URL", "KAGA_VC_RPC_URL", "KAGA_VC_ANCHOR"):
        mp.delenv(name, raising=False)
    try:
        old = read_city(city)
        files = {}
        for fmt, name in (("data-integrity", "di.json"), ("sd-jwt", "sd.jwt"), ("vc-jwt", "vc.jwt"),
                          ("jwt-vc11", "vc11.jwt")):
            code, out = run("issue", "residency", "--subject", resident_did(), "--name", "加賀 花子", "--name-kana",
                            "カガ ハナコ", "--birth-date", "1990-02-03", "--address", "石川県 加賀市 大聖寺南町 ニ41",
                            "--resident-since", "2015-04-01", "--evidence", "residenceCard", "--format", fmt,
                            "--out", str(city / name), "--json")
            assert code == 0 and out["anchor"]["anchored"], out
            files[fmt] = city / name
        stale = CityIssuer(old, ed25519=load_key(city / "city" / old.ed25519_file, PASSWORD),
                           secp256k1=load_key(city / "city" / old.secp256k1_file, PASSWORD))
        code, out = run("city", "rotate-key", "--json")
        assert code == 0, out
        # the attacker signs with the revoked keys, dated when they were valid: never recorded, never anchored
        backdated_at = datetime.fromisoformat(old.keys_published_at)
        forged = {}
        for fmt in ("data-integrity", "sd-jwt", "vc-jwt", "jwt-vc11"):
            doc = stale.issue("residency", resident_did(), residency_claims(), format=fmt, now=backdated_at)
            path = city / f"forged-{fmt}"
            path.write_text(doc.serialise(), encoding="utf-8")
            forged[fmt] = path
        code, out = run("status", "publish", "--out", str(city / "lists.json"), "--json")
        assert code == 0, out
        code, out = run("bundle", "sync", "--out", str(city / "bundle.jwt"), "--json")
        assert code == 0, out
        return {"old": old, "files": files, "forged": forged, "bundle": city / "bundle.jwt", "summary": out}
    finally:
        mp.undo()


FORMATS = ("data-integrity", "sd-jwt", "vc-jwt", "jwt-vc11")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_backdated_credential_of_a_revoked_key_is_refused_offline(env: Path, rotated: dict[str, Any], fmt: str) -> None:
    code, result = run("verify", str(rotated["forged"][fmt]), "--bundle", str(rotated["bundle"]), "--json")
    assert code == 1 and codes(result) == ["kaga:key-no-longer-valid"], result


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_credential_anchored_before_the_rotation_verifies_offline(env: Path, rotated: dict[str, Any], fmt: str) -> None:
    code, result = run("verify", str(rotated["files"][fmt]), "--bundle", str(rotated["bundle"]), "--json")
    assert code == 0 and result["verified"] and "issuanceAnchor" in result["checks"], result


def test_the_bundle_lists_each_retired_key_compactly(env: Path, rotated: dict[str, Any]) -> None:
    old = rotated["old"]
    bundle = read_bundle(rotated["bundle"].read_text(), trusted_city=old.did)
    assert set(bundle.issuance_anchors) == {old.ed25519_method, old.secp256k1_method}
    assert rotated["summary"]["issuanceAnchors"] == {old.ed25519_method: 3, old.secp256k1_method: 1}
    listed = bundle.issuance_anchors[old.ed25519_method]
    for fmt in ("data-integrity", "sd-jwt", "vc-jwt"):
        text = rotated["files"][fmt].read_text()
        assert is_listed(listed, credential_digest(json.loads(text) if text.startswith("{") else text.strip()))
    assert not is_listed(listed, credential_digest(rotated["forged"]["vc-jwt"].read_text().strip()))


def test_an_edited_digest_list_fails_the_bundle_signature(env: Path, rotated: dict[str, Any], tmp_path: Path) -> None:
    """The attacker adds the forged credential's digest to the signed list."""
    token = rotated["bundle"].read_text().strip()
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = rotated["forged"]["vc-jwt"].read_text().strip()
    method = rotated["old"].ed25519_method
    current = decode_digests(data["issuanceAnchors"][method])
    data["issuanceAnchors"][method] = encode_digests(
        [current[i:i + DIGEST_BYTES] for i in range(0, len(current), DIGEST_BYTES)] + [credential_digest(forged)])
    edited = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    (tmp_path / "edited.jwt").write_text(f"{header}.{edited}.{signature}\n")
    code, result = run("verify", str(rotated["forged"]["vc-jwt"]), "--bundle", str(tmp_path / "edited.jwt"), "--json")
    assert code != 0 and result["error"]["code"] == "kaga:bundle-signature-invalid", result


def test_an_sd_jwt_with_other_disclosures_and_a_respelled_data_integrity_credential_still_match(
        env: Path, rotated: dict[str, Any], tmp_path: Path) -> None:
    sd_jwt = rotated["files"]["sd-jwt"].read_text().strip()
    issuer_jwt, *disclosures = sd_jwt.rstrip("~").split("~")
    fewer = tmp_path / "fewer.jwt"
    fewer.write_text("~".join([issuer_jwt, *disclosures[:2]]) + "~\n")
    code, result = run("verify", str(fewer), "--bundle", str(rotated["bundle"]), "--json")
    assert code == 0 and result["verified"], result
    respelled = json.loads(rotated["files"]["data-integrity"].read_text())
    respelled["issuer"] = {"id": respelled["issuer"]}  # the same RDF, the same signature, other JSON
    path = tmp_path / "respelled.json"
    path.write_text(json.dumps(respelled, sort_keys=True))
    code, result = run("verify", str(path), "--bundle", str(rotated["bundle"]), "--json")
    assert code == 0 and result["verified"] and "issuanceAnchor" in result["checks"], result


def test_the_compact_form_is_sorted_truncated_and_small() -> None:
    digests = [credential_digest(f"token-{i}") for i in range(66_000)]
    encoded = encode_digests(reversed(digests))
    raw = decode_digests(encoded)
    assert len(raw) == 66_000 * DIGEST_BYTES and len(encoded) < 1_410_000  # 1.41 MB for 66,000 residents
    assert [raw[i:i + 16] for i in range(0, 64, 16)] == sorted(d[:16] for d in digests)[:4]
    assert all(is_listed(raw, d) for d in digests[::997])
    assert not is_listed(raw, credential_digest("another token"))
