"""Issue 12, issuance anchors kept by the city: ``issue`` and ``issue batch`` anchor by themselves, the
records keep every digest and anchor, and nothing issued is lost when anchoring fails.

All on the embedded chain (a real EVM with the anchor contract) and the real SQLite records. A failing
anchor is made real: ``--anchor-contract`` names an address without the contract, so the transaction is
mined but emits no ``Anchored`` event.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from kaga_vc._migrations import current_revision
from kaga_vc.accesslog.issuance import proof_from_records
from kaga_vc.cli._app import app
from kaga_vc.credentials import credential_digest, parse_json
from kaga_vc.issuer import init_city, read_city
from kaga_vc.issuer.records import HEAD_REVISION, MIGRATIONS, VERSION_TABLE, IssuanceStore

from .conftest import PASSWORD, resident_did

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
NOT_THE_CONTRACT = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path))
    monkeypatch.setenv("KAGA_VC_PASSWORD", PASSWORD)
    monkeypatch.delenv("KAGA_VC_RECORDS_URL", raising=False)
    monkeypatch.delenv("KAGA_VC_RPC_URL", raising=False)
    monkeypatch.delenv("KAGA_VC_ANCHOR", raising=False)
    init_city(PASSWORD, home=tmp_path, scrypt_n=2**10)
    return tmp_path


def run(*args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(app, list(args))
    try:
        return result.exit_code, json.loads(result.stdout), result.stderr
    except ValueError:
        return result.exit_code, result.stdout, result.stderr


def issue(home: Path, name: str, fmt: str = "data-integrity", *extra: str) -> tuple[int, Any, str]:
    return run("issue", "residency", "--subject", resident_did(), "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
               "--birth-date", "1990-02-03", "--address", "石川県 加賀市 大聖寺南町 ニ41", "--resident-since",
               "2015-04-01", "--evidence", "residenceCard", "--format", fmt, "--out", str(home / name), "--json", *extra)


def document(path: Path) -> str | dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    return parse_json(text) if text.startswith("{") else text.strip()


def store(home: Path) -> IssuanceStore:
    return IssuanceStore.open(home=home)


def test_issue_anchors_its_credential_and_the_records_keep_the_anchor(env: Path) -> None:
    city = read_city(env)
    code, out, _ = issue(env, "one.json")
    assert code == 0, out
    anchor = out["anchor"]
    assert anchor["anchored"] is True and anchor["size"] == 1 and anchor["pending"] == 0, anchor
    proof_file = Path(anchor["proof"])
    assert proof_file == env / "one.json.anchor.json" and proof_file.is_file()
    digest = credential_digest(document(env / "one.json")).hex()
    with store(env) as records:
        [(recorded, index)] = records.anchors_of(digest)
        assert (recorded.root, recorded.block_number, index) == (anchor["root"], anchor["blockNumber"], 0)
        assert recorded.anchored_at.isoformat() == anchor["anchoredAt"]
        assert records.signing_methods() == [city.ed25519_method]
        assert records.anchored_digests(city.ed25519_method) == [(digest, recorded.anchored_at)]
        rebuilt = proof_from_records(records, document(env / "one.json"))
    assert rebuilt is not None and rebuilt.to_json() == json.loads(proof_file.read_text())
    # after the rotation its proof from the records carries it on the chain path
    code, rotated, _ = run("city", "rotate-key", "--json")
    assert code == 0 and rotated["anchoredFirst"] == {"anchored": True, "size": 0}, rotated
    code, result, _ = run("verify", str(env / "one.json"), "--embedded-chain", "--anchor-proof", str(proof_file), "--json")
    assert code == 0 and result["verified"], result
    # the same credential spelled otherwise (issuer as an object: the same RDF, the same signature)
    # keeps its digest, so its proof: the digest is over the proof value, not the JSON
    respelled = json.loads((env / "one.json").read_text())
    respelled["issuer"] = {"id": respelled["issuer"]}
    (env / "respelled.json").write_text(json.dumps(respelled, indent=1, sort_keys=True), encoding="utf-8")
    assert credential_digest(respelled).hex() == digest
    code, result, _ = run("verify", str(env / "respelled.json"), "--embedded-chain", "--anchor-proof", str(proof_file),
                          "--json")
    assert code == 0 and result["verified"], result


def test_a_failed_anchor_keeps_the_credential_and_anchor_pending_catches_up(env: Path) -> None:
    code, out, err = issue(env, "kept.jwt", "vc-jwt", "--anchor-contract", NOT_THE_CONTRACT)
    assert code == 4, out  # anchoring failed: said so, non-zero
    assert out["anchor"]["anchored"] is False and out["anchor"]["pending"] == 1
    assert "city anchor --pending" in out["anchor"]["next"] and "not anchored" in err
    kept = env / "kept.jwt"
    assert kept.read_text().strip() == out["credential"]  # released, not taken back
    assert not (env / "kept.jwt.anchor.json").exists()
    code, result, _ = run("verify", str(kept), "--embedded-chain", "--json")
    assert code == 0 and result["verified"], result
    with store(env) as records:
        assert records.count_pending() == 1 and records.get(out["id"]) is not None
    code, missing, _ = run("city", "anchor-proof", str(kept), "--json")
    assert code == 4 and missing["error"]["code"] == "kaga:anchor-not-found", missing
    code, caught_up, _ = run("city", "anchor", "--pending", "--json")
    assert code == 0 and (caught_up["size"], caught_up["pending"]) == (1, 0), caught_up
    code, again, _ = run("city", "anchor", "--pending", "--json")
    assert code == 0 and again == {"anchored": True, "size": 0, "pending": 0}
    code, written, _ = run("city", "anchor-proof", str(kept), "--json")
    assert code == 0 and written["proofs"] == [f"{kept}.anchor.json"]
    code, rotated, _ = run("city", "rotate-key", "--json")
    assert code == 0, rotated
    code, result, _ = run("verify", str(kept), "--embedded-chain", "--anchor-proof", f"{kept}.anchor.json", "--json")
    assert code == 0 and result["verified"], result


def test_city_anchor_needs_files_or_pending(env: Path) -> None:
    code, out, _ = run("city", "anchor", "--json")
    assert code == 3 and out["error"]["code"] == "MALFORMED_VALUE_ERROR"


def test_no_anchor_leaves_it_pending_and_rotate_key_anchors_it_first(env: Path) -> None:
    code, out, _ = issue(env, "later.json", "data-integrity", "--no-anchor")
    assert code == 0 and out["anchor"]["anchored"] is False and out["anchor"]["skipped"] == "--no-anchor", out
    with store(env) as records:
        assert records.count_pending() == 1
    code, rotated, _ = run("city", "rotate-key", "--json")
    assert code == 0 and rotated["anchoredFirst"]["size"] == 1, rotated
    code, _written, _ = run("city", "anchor-proof", str(env / "later.json"), "--json")
    assert code == 0
    code, result, _ = run("verify", str(env / "later.json"), "--embedded-chain", "--anchor-proof",
                          str(env / "later.json.anchor.json"), "--json")
    assert code == 0 and result["verified"], result


def test_rotate_key_does_not_rotate_when_it_cannot_anchor_first(env: Path) -> None:
    before = read_city(env)
    code, _out, _ = issue(env, "x.json", "data-integrity", "--no-anchor")
    assert code == 0
    code, out, _ = run("city", "rotate-key", "--anchor-contract", NOT_THE_CONTRACT, "--json")
    assert code != 0 and "error" in out, out
    assert read_city(env) == before  # nothing rotated


def test_issue_batch_anchors_at_the_end_and_a_failed_anchor_resumes(env: Path, tmp_path: Path) -> None:
    out_dir = env / "issued"
    code, summary, err = run("issue", "batch", str(EXAMPLES / "residents.csv"), "--out", str(out_dir), "--format",
                             "sd-jwt", "--anchor-contract", NOT_THE_CONTRACT, "--json")
    assert code == 4 and "not anchored" in err, summary  # every row issued and released; the anchor failed
    assert (summary["issued"], summary["rejected"]) == (20, 0)
    assert summary["anchor"]["anchored"] is False and summary["anchor"]["pending"] == 20
    files = sorted(out_dir.glob("row-*.jwt"))
    assert len(files) == 20
    # the rerun resumes: nothing issued twice, and the pending batch anchored
    code, again, _ = run("issue", "batch", str(EXAMPLES / "residents.csv"), "--out", str(out_dir), "--format",
                         "sd-jwt", "--json")
    assert code == 0, again
    assert (again["issued"], again["alreadyIssued"]) == (0, 20)
    assert (again["anchor"]["size"], again["anchor"]["pending"]) == (20, 0)
    with store(env) as records:
        roots = {records.anchors_of(credential_digest(document(f)).hex())[0][0].root for f in files}
    assert roots == {again["anchor"]["root"]}
    # a presentation with fewer disclosures has the digest of the credential as issued
    sd_jwt = files[0].read_text().strip()
    assert credential_digest(sd_jwt.split("~")[0] + "~") == credential_digest(sd_jwt)
    code, _written, _ = run("city", "anchor-proof", str(files[3]), "--json")
    assert code == 0
    code, rotated, _ = run("city", "rotate-key", "--json")
    assert code == 0, rotated
    code, result, _ = run("verify", str(files[3]), "--embedded-chain", "--anchor-proof", f"{files[3]}.anchor.json",
                          "--json")
    assert code == 0 and result["verified"], result


def test_issue_batch_anchors_by_itself(env: Path) -> None:
    out_dir = env / "b"
    code, summary, _ = run("issue", "batch", str(EXAMPLES / "residents.csv"), "--out", str(out_dir), "--format",
                           "jwt-vc11", "--json")
    assert code == 0, summary
    assert (summary["anchor"]["anchored"], summary["anchor"]["size"]) == (True, 20)
    city = read_city(env)
    with store(env) as records:
        assert records.count_pending() == 0
        assert records.signing_methods() == [city.secp256k1_method]  # VC 1.1 JWTs: the ES256K key
        assert len(records.anchored_digests(city.secp256k1_method)) == 20
    five = env / "five.csv"  # another batch (the same rows would be the same batch, already issued)
    five.write_text("".join((EXAMPLES / "residents.csv").read_text(encoding="utf-8").splitlines(True)[:6]),
                    encoding="utf-8")
    code, summary, _ = run("issue", "batch", str(five), "--out", str(env / "c"), "--format", "vc-jwt",
                           "--no-anchor", "--json")
    assert code == 0 and summary["issued"] == 5 and summary["anchor"]["skipped"] == "--no-anchor", summary
    with store(env) as records:
        assert records.count_pending() == 5


def test_the_records_of_0001_migrate_to_issuance_anchors(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["version_table"] = VERSION_TABLE
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001_records")
        conn.execute(sa.text("INSERT INTO kaga_issued_credentials (credential_id, type, format, staff, issued_at, "
                             "status) VALUES ('urn:uuid:old', 'KagaResidencyCredential', 'vc+jwt', 't', "
                             "'2026-01-01T00:00:00+00:00', 'active')"))
    assert current_revision(engine, VERSION_TABLE) == "0001_records"
    engine.dispose()
    with IssuanceStore.open(url) as records:
        assert current_revision(records.engine, VERSION_TABLE) == HEAD_REVISION == "0002_issuance_anchors"
        assert records.get("urn:uuid:old") is not None and records.count_pending() == 0
        assert {"kaga_issued_digests", "kaga_issuance_anchors", "kaga_issuance_anchor_leaves"} <= set(
            sa.inspect(records.engine).get_table_names())


def test_a_batch_is_anchored_and_recorded_on_postgresql(env: Path, postgres_database: str) -> None:
    five = env / "five.csv"
    five.write_text("".join((EXAMPLES / "residents.csv").read_text(encoding="utf-8").splitlines(True)[:6]),
                    encoding="utf-8")
    code, summary, _ = run("issue", "batch", str(five), "--out", str(env / "pg"), "--records", postgres_database,
                           "--json")
    assert code == 0 and (summary["issued"], summary["anchor"]["size"]) == (5, 5), summary
    with IssuanceStore.open(postgres_database) as records:
        assert records.count_pending() == 0
        assert len(records.anchored_digests(read_city(env).ed25519_method)) == 5
        proof = proof_from_records(records, document(sorted((env / "pg").glob("row-*.jwt"))[2]))
    assert proof is not None and proof.size == 5 and 0 <= proof.index < 5
