"""``kaga-vc city init``, ``kaga-vc issue …`` end to end on the embedded chain, checked by ``kaga-vc verify``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaga_vc.cli._app import app

from .conftest import resident_did

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
MY_NUMBER = "123456789018"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-city")


@pytest.fixture
def env(home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("KAGA_VC_HOME", str(home))
    monkeypatch.setenv("KAGA_VC_PASSWORD", "correct horse battery staple")
    monkeypatch.delenv("KAGA_VC_RPC_URL", raising=False)
    monkeypatch.delenv("KAGA_VC_RECORDS_URL", raising=False)
    return {}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_issue_before_city_init_says_so(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGA_VC_HOME", str(tmp_path))
    code, out = run("issue", "kyc", "--subject", resident_did(), "--name", "山田 太郎", "--name-kana", "ヤマダ タロウ",
                    "--birth-date", "1980-01-01", "--json")
    assert code == 3 and json.loads(out)["error"]["code"] == "kaga:city-not-initialised"


def test_city_init_then_again(env: dict[str, str]) -> None:
    code, out = run("city", "init", "--json")
    assert code == 0, out
    first = json.loads(out)
    assert first["created"] is True and first["did"].startswith("did:ethr:0x539:")
    code, out = run("city", "init", "--json")
    assert code == 0 and json.loads(out)["created"] is False and json.loads(out)["did"] == first["did"]
    code, out = run("city", "show", "--json")
    assert code == 0 and json.loads(out)["did"] == first["did"]


@pytest.mark.parametrize("fmt", ["sd-jwt", "data-integrity", "vc-jwt", "jwt-vc11"])
@pytest.mark.parametrize(
    "args",
    [
        ["kyc", "--name", "山田 太郎", "--name-kana", "ヤマダ タロウ", "--birth-date", "1980-01-01",
         "--evidence", "myNumberCardPublicKey", "--gender", "male"],
        ["residency", "--name", "加賀 花子", "--name-kana", "カガ ハナコ", "--birth-date", "1990-02-03",
         "--address", "石川県 加賀市 大聖寺南町 ニ41", "--resident-since", "2015-04-01", "--evidence", "residenceCard"],
        ["virtual-resident", "--name", "Emma Schmidt", "--name-kana", "エマ シュミット", "--birth-date", "1992-05-17"],
        ["voting-eligibility", "--name", "加賀 花子", "--name-kana", "カガ ハナコ", "--birth-date", "1990-02-03",
         "--address", "石川県 加賀市 大聖寺南町 ニ41", "--evidence", "residenceCard"],
        ["vaccination", "--name", "加賀 花子", "--name-kana", "カガ ハナコ", "--birth-date", "1990-02-03",
         "--vaccine", "Influenza (quadrivalent)", "--vaccinated-on", "2026-11-02", "--dose", "1"],
        ["volunteer", "--name", "加賀 花子", "--name-kana", "カガ ハナコ", "--birth-date", "1990-02-03",
         "--activity", "片山津 海岸清掃", "--hours", "3", "--volunteered-on", "2026-11-01", "--organiser", "加賀市"],
    ],
    ids=["kyc", "residency", "virtual-resident", "voting-eligibility", "vaccination", "volunteer"],
)
def test_issue_and_verify_online(env: dict[str, str], tmp_path: Path, args: list[str], fmt: str) -> None:
    target = tmp_path / "credential.out"
    code, out = run("issue", *args, "--subject", resident_did(), "--format", fmt, "--out", str(target),
                    "--staff", "clerk-1", "--json")
    assert code == 0, out
    issued = json.loads(out)
    assert issued["file"] == str(target) and len(issued["credentialStatus"]) == 2
    code, out = run("verify", str(target), "--embedded-chain", "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["verified"] is True and result["issuer"].startswith("did:ethr:0x539:")
    # offline, without the chain, the city's did:ethr cannot be resolved: could not check
    code, _ = run("verify", str(target))
    assert code == 4


@pytest.mark.parametrize(("args", "code_expected"), [
    (["voting-eligibility", "--birth-date", "2015-02-03", "--address", "石川県 加賀市 大聖寺南町 ニ41",
      "--evidence", "residenceCard"], "kaga:not-eligible"),                       # a minor
    (["voting-eligibility", "--birth-date", "1990-02-03", "--address", "石川県 加賀市 大聖寺南町 ニ41"],
     "kaga:not-eligible"),                                                        # proofed by e-mail only
    (["voting-eligibility", "--birth-date", "1990-02-03", "--address", "石川県 金沢市 広坂 1-1-1",
      "--evidence", "residenceCard"], "kaga:not-a-kaga-address"),
    (["vaccination", "--birth-date", "1990-02-03", "--vaccine", "Influenza", "--vaccinated-on", "2026-11-02",
      "--dose", "0"], "kaga:invalid-count"),
    (["vaccination", "--birth-date", "1990-02-03", "--vaccine", "Influenza", "--vaccinated-on", "1980-11-02",
      "--dose", "1"], "kaga:implausible-date"),                                   # before the birth date
    (["volunteer", "--birth-date", "1990-02-03", "--activity", "x", "--hours", "100000",
      "--volunteered-on", "2026-11-01"], "kaga:invalid-count"),
], ids=["minor", "low-assurance", "not-kaga", "dose-0", "dose-before-birth", "hours"])
def test_programme_credentials_refuse_what_their_rules_refuse(
    env: dict[str, str], args: list[str], code_expected: str
) -> None:
    code, out = run("issue", *args, "--subject", resident_did(), "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                    "--json")
    assert code == 3, out
    assert json.loads(out)["error"]["code"] == code_expected


def test_a_voting_credential_carries_only_the_verdicts(env: dict[str, str]) -> None:
    """The name, birth date and address are checked, never written into the credential (nor its disclosures)."""
    code, out = run("issue", "voting-eligibility", "--subject", resident_did(), "--name", "加賀 花子", "--name-kana",
                    "カガ ハナコ", "--birth-date", "1990-02-03", "--address", "石川県 加賀市 大聖寺南町 ニ41",
                    "--evidence", "residenceCard", "--format", "data-integrity", "--json")
    assert code == 0, out
    subject = json.loads(out)["credential"]["credentialSubject"]
    assert set(subject) == {"id", "eligibleToVote", "ageOver18", "residentOfKaga", "assuranceLevel"}
    assert subject["eligibleToVote"] is True and subject["assuranceLevel"] == "substantial"


def test_bad_claims_exit_3_with_the_code(env: dict[str, str]) -> None:
    code, out = run("issue", "kyc", "--subject", resident_did(), "--name", "山田 太郎", "--name-kana", "Yamada",
                    "--birth-date", "1980-01-01", "--json")
    assert code == 3 and json.loads(out)["error"]["code"] == "kaga:not-kana"
    code, out = run("issue", "kyc", "--subject", resident_did(), "--name", "山田 太郎", "--name-kana", "ヤマダ タロウ",
                    "--birth-date", "2999-01-01", "--json")
    assert code == 3 and json.loads(out)["error"]["code"] == "kaga:date-in-future"
    code, out = run("issue", "residency", "--subject", resident_did(), "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                    "--birth-date", "1990-02-03", "--resident-since", "2015-04-01", "--format", "cbor", "--json")
    assert code != 0


@pytest.mark.parametrize("option", ["--name", "--name-kana", "--address", "--evidence", "--gender", "--birth-date"])
def test_my_number_is_refused_by_the_cli_and_never_printed(env: dict[str, str], home: Path, option: str) -> None:
    values = {"--name": "山田 太郎", "--name-kana": "ヤマダ タロウ", "--birth-date": "1980-01-01"}
    values[option] = MY_NUMBER if option != "--address" else f"石川県 加賀市 作見町 {MY_NUMBER}"
    args = [item for pair in values.items() for item in pair]
    result = CliRunner().invoke(app, ["issue", "kyc", "--subject", resident_did(), *args, "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] in ("kaga:individual-number-refused",)
    assert MY_NUMBER not in result.output and MY_NUMBER not in (result.stderr or "")
    for path in home.rglob("*"):
        if path.is_file():
            assert MY_NUMBER.encode() not in path.read_bytes()


def test_batch_of_the_sample_residents_then_resume(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "issued"
    code, text = run("issue", "batch", str(EXAMPLES / "residents.csv"), "--out", str(out), "--format", "vc-jwt",
                     "--json")
    assert code == 0, text
    summary = json.loads(text)
    assert (summary["total"], summary["issued"], summary["rejected"]) == (20, 20, 0)
    files = sorted(out.glob("row-*.jwt"))
    assert len(files) == 20
    code, text = run("verify", str(files[0]), "--embedded-chain", "--json")
    assert code == 0 and json.loads(text)["verified"] is True
    code, text = run("issue", "batch", str(EXAMPLES / "residents.csv"), "--out", str(out), "--format", "vc-jwt",
                     "--json")
    again = json.loads(text)
    assert (again["issued"], again["alreadyIssued"]) == (0, 20)
    lines = (out / "results.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 21 and all(",issued," in line for line in lines[1:])


def test_unknown_format_is_bad_input(env: dict[str, str]) -> None:
    code, out = run("issue", "kyc", "--subject", resident_did(), "--name", "加賀 花子", "--name-kana", "カガ ハナコ",
                    "--birth-date", "1990-04-01", "--format", "cbor", "--json")
    assert code == 3 and json.loads(out)["error"]["code"] == "kaga:unsupported-format"


@pytest.mark.parametrize("header", ["name,email\n山田,a@example.jp\n", "type,fullName\nkyc,加賀 花子\n", ""])
def test_batch_of_a_file_that_is_not_a_residents_csv_is_refused_up_front(
    env: dict[str, str], tmp_path: Path, header: str
) -> None:
    source = tmp_path / "other.csv"
    source.write_text(header, encoding="utf-8")
    out = tmp_path / "issued"
    code, text = run("issue", "batch", str(source), "--out", str(out), "--json")
    assert code == 3, text
    assert json.loads(text)["error"]["code"] in ("MALFORMED_VALUE_ERROR", "PARSING_ERROR")
    assert not list(out.glob("row-*")) if out.exists() else True


def _residents_with(tmp_path: Path, *extra: str) -> Path:
    rows = (EXAMPLES / "residents.csv").read_text(encoding="utf-8").splitlines()
    source = tmp_path / "residents-edited.csv"
    source.write_text("\n".join([rows[0], rows[1], *extra, rows[2]]) + "\n", encoding="utf-8")
    return source


def test_batch_refuses_a_row_with_more_fields_than_the_header_naming_its_line(env: dict[str, str], tmp_path: Path) -> None:
    """An unquoted comma in an address shifts every later value: never issued with the extra cells dropped."""
    rows = (EXAMPLES / "residents.csv").read_text(encoding="utf-8").splitlines()
    source = _residents_with(tmp_path, rows[1] + ",surplus")
    out = tmp_path / "issued"
    code, text = run("issue", "batch", str(source), "--out", str(out), "--json")
    assert code == 3, text
    error = json.loads(text)["error"]
    assert error["code"] == "MALFORMED_VALUE_ERROR" and "line 3 " in error["detail"], error
    assert not list(out.glob("row-*")) if out.exists() else True


@pytest.mark.parametrize(("extra", "line"), [
    (['kyc,"did:key:z6Mk"x,A'], 3),                                # stray text after a closing quote
    (['kyc,"did:key:z6Mk', 'continued",A', 'kyc,"bad"x,B'], 5),   # after a quoted field that spans two lines
])
def test_batch_reports_the_line_a_broken_row_starts_on(
    env: dict[str, str], tmp_path: Path, extra: list[str], line: int
) -> None:
    code, text = run("issue", "batch", str(_residents_with(tmp_path, *extra)), "--out", str(tmp_path / "o"), "--json")
    assert code == 3, text
    error = json.loads(text)["error"]
    assert error["code"] == "PARSING_ERROR" and f"starting on line {line}:" in error["detail"], error


def test_batch_refuses_a_header_naming_a_column_twice(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "twice.csv"
    source.write_text("type,subject,fullName,fullName\nkyc,did:key:z6Mk,A,B\n", encoding="utf-8")
    code, text = run("issue", "batch", str(source), "--out", str(tmp_path / "o"), "--json")
    assert code == 3 and "more than once" in json.loads(text)["error"]["detail"], text


def test_batch_with_a_rejected_row_exits_1(env: dict[str, str], tmp_path: Path) -> None:
    rows = (EXAMPLES / "residents.csv").read_text(encoding="utf-8").splitlines()
    source = tmp_path / "some-bad.csv"
    broken = rows[1].replace(rows[1].split(",")[4], "not-a-date", 1)  # birthDate of the first resident
    source.write_text("\n".join([rows[0], broken, rows[2]]) + "\n", encoding="utf-8")
    code, text = run("issue", "batch", str(source), "--out", str(tmp_path / "issued"), "--json")
    assert code == 1, text  # a rejected row is reported by the exit code too, not only in results.csv
    summary = json.loads(text)
    assert (summary["issued"], summary["rejected"]) == (1, 1)
