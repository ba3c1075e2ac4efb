"""``kaga-vc issue offer`` and ``issue offers``: offers in the records database, QR codes, PIN file, letters."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app

from .conftest import PASSWORD, kyc_claims

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
URL = "http://127.0.0.1:8443"


@pytest.fixture
def env(city_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAGA_VC_HOME", str(city_home))
    monkeypatch.setenv("KAGA_VC_PASSWORD", PASSWORD)
    monkeypatch.delenv("KAGA_VC_RECORDS_URL", raising=False)
    monkeypatch.delenv("KAGA_VC_ISSUER_URL", raising=False)
    return city_home


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_offer_prints_an_openid4vci_uri_with_a_pin_and_writes_its_qr_code(env: Path, tmp_path: Path) -> None:
    import zxingcpp  # type: ignore[import-untyped]
    from PIL import Image

    claims = kyc_claims()
    code, out = run("issue", "offer", "--type", "kyc", "--name", claims["fullName"], "--name-kana", claims["fullNameKana"],
                    "--birth-date", claims["birthDate"], "--evidence", "myNumberCardPublicKey", "--issuer-url", URL,
                    "--qr", str(tmp_path / "offer.png"), "--json")
    assert code == 0, out
    made = json.loads(out)
    assert len(made["txCode"]) == 6
    offer = json.loads(parse_qs(urlsplit(made["uri"]).query)["credential_offer"][0])
    assert offer["credential_issuer"] == URL and offer["credential_configuration_ids"] == ["KycCredential-sd-jwt"]
    grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    assert grant["tx_code"]["input_mode"] == "numeric" and grant["tx_code"]["length"] == 6
    decoded = zxingcpp.read_barcodes(Image.open(tmp_path / "offer.png"))
    assert [d.text for d in decoded] == [made["uri"]]


def test_offer_refuses_a_my_number(env: Path) -> None:
    code, out = run("issue", "offer", "--type", "kyc", "--name", "加賀 太郎", "--name-kana", "カガ タロウ",
                    "--birth-date", "123456789018", "--issuer-url", URL, "--json")
    assert code == 3 and json.loads(out)["error"]["code"] in ("kaga:individual-number-refused", "kaga:invalid-date")


def test_offers_for_a_residents_file_with_letters(env: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "offers"
    code, out = run("issue", "offers", str(EXAMPLES / "residents.csv"), "--out", str(out_dir), "--letters",
                    "--issuer-url", URL, "--json")
    assert code == 0, out
    summary = json.loads(out)
    rows = (EXAMPLES / "residents.csv").read_text(encoding="utf-8").strip().splitlines()[1:]
    assert summary["offers"] == len(rows)
    offers = (out_dir / "offers.csv").read_text(encoding="utf-8")
    assert "openid-credential-offer://" in offers and "山田" not in offers  # no personal data beside the letters
    pins = (out_dir / "pins.csv").read_text(encoding="utf-8").splitlines()
    assert len(pins) == len(rows) + 1 and all(len(line.rsplit(",", 1)[1]) == 6 for line in pins[1:])
    assert stat.S_IMODE(os.stat(out_dir / "pins.csv").st_mode) == 0o600
    pdf = (out_dir / "letters.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= len(rows)


def test_offers_stop_before_storing_anything_on_a_bad_row(env: Path, tmp_path: Path) -> None:
    from kaga_vc.issuer.offers import offers_table
    from kaga_vc.issuer.records import IssuanceStore

    bad = tmp_path / "bad.csv"
    good = (EXAMPLES / "residents.csv").read_text(encoding="utf-8").splitlines()
    cells = good[3].split(",")
    cells[4] = "2099-01-01"  # a birth date in the future: a claim rule, after two good rows
    bad.write_text("\n".join([*good[:3], ",".join(cells)]) + "\n", encoding="utf-8")
    with IssuanceStore.open(None, home=env) as store:
        import sqlalchemy as sa

        from kaga_vc.issuer.offers import OfferStore

        OfferStore(store.engine)
        with store.engine.connect() as conn:
            before = conn.execute(sa.select(sa.func.count()).select_from(offers_table)).scalar()
    code, out = run("issue", "offers", str(bad), "--out", str(tmp_path / "o"), "--issuer-url", URL, "--json")
    assert code == 3, out
    with IssuanceStore.open(None, home=env) as store, store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(offers_table)).scalar() == before
