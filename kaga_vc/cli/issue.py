"""``kaga-vc issue``: the city issues KYC, residency, virtual-resident and programme credentials (one, or a CSV batch)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from ._anchoring import AnchorContractOption, AnchorOption
from ._common import (
    ExitCode,
    JsonOption,
    PasswordFileOption,
    err_console,
    error_boundary,
    out_console,
    print_json,
    read_password,
)

app = typer.Typer(help="Issue the city's credentials: kyc, residency, virtual-resident, voting-eligibility, "
                  "vaccination, volunteer, or a CSV batch.",
                  no_args_is_help=True)

ANCHOR_NOTE = ("Then anchored on the city's chain with whatever else is pending (one transaction; --out FILE gets "
               "FILE.anchor.json), so it still verifies after the key is rotated. The credential is written first: if "
               "anchoring fails it stays issued and pending, with a warning and exit 4 (`kaga-vc city anchor --pending`).")

STAFF_ENV = "KAGA_VC_STAFF"
RECORDS_ENV = "KAGA_VC_RECORDS_URL"

FormatOption = typer.Option("sd-jwt", "--format", help="sd-jwt (default), data-integrity, vc-jwt or jwt-vc11.")
StaffOption = typer.Option(None, "--staff", help=f"Staff member issuing (for the record; else ${STAFF_ENV}, else the OS user).")
RecordsOption = typer.Option(None, "--records", help=f"Issuance records database URL (else ${RECORDS_ENV}, else SQLite in $KAGA_VC_HOME).")


def staff_name(value: str | None) -> str:
    """Who issues: the option, ``$KAGA_VC_STAFF``, else the OS user."""
    return value or os.environ.get(STAFF_ENV) or getpass.getuser()


def open_issuer(password_file: Path | None, records: str | None) -> Any:
    from ..issuer.service import open_city_issuer, read_city

    read_city()  # a missing city is reported before asking for a password
    return open_city_issuer(read_password(password_file), records_url=records)


def _extension(document: object) -> str:
    return "json" if isinstance(document, dict) else "jwt"


def _issue(kind: str, subject: str, name: str, name_kana: str, birth_date: str, gender: str | None,
           address: str | None, resident_since: str | None, evidence: list[str], assurance_level: str | None,
           fmt: str, out: Path | None, staff: str | None, holder_key: str | None, records: str | None,
           password_file: Path | None, as_json: bool, anchor: bool = True, anchor_contract: str | None = None) -> None:
    from ..credentials.kaga import refuse_individual_number

    claims: dict[str, Any] = {
        "fullName": name, "fullNameKana": name_kana, "birthDate": birth_date, "gender": gender, "address": address,
        "evidence": evidence or None, "assuranceLevel": assurance_level,
    }
    if kind == "residency":
        claims["residentSince"] = resident_since
    elif kind == "virtual-resident":
        claims["virtualResidentSince"] = resident_since
    elif resident_since:
        claims["residentSince"] = resident_since  # refused by the KYC rules with kaga:unknown-claim
    refuse_individual_number({k: v for k, v in claims.items() if v is not None})
    _deliver(kind, subject, claims, fmt, out, staff, holder_key, records, password_file, as_json, anchor,
             anchor_contract)


def _deliver(kind: str, subject: str, claims: dict[str, Any], fmt: str, out: Path | None, staff: str | None,
             holder_key: str | None, records: str | None, password_file: Path | None, as_json: bool,
             anchor: bool = True, anchor_contract: str | None = None) -> None:
    """Issue ``claims`` (``None`` values left out), write or print the credential, then anchor it.

    The credential is released (written, printed) before anchoring: a failed anchor leaves it issued
    and pending (a warning, exit 4), never lost. With ``--out`` its proof goes to ``FILE.anchor.json``.
    """
    from ._anchoring import NOT_ANCHORED, anchor_pending_now, report_anchor

    key = None
    if holder_key:
        from ._jose_sign import holder_key_from

        key = holder_key_from(holder_key)
    with open_issuer(password_file, records) as issuer:
        issued = issuer.issue(kind, subject, {k: v for k, v in claims.items() if v is not None}, format=fmt,
                              staff=staff_name(staff), holder_key=key)
        text = issued.serialise()
        if out is not None:  # name, birth date, address: 0600, and a planted symlink is replaced, never followed
            from .._files import write_atomically

            write_atomically(out, text, mode=0o600)
        elif not as_json:
            typer.echo(text, nl=False)  # released before anchoring is even tried
        outcome = anchor_pending_now(issuer.config, issuer.records, anchor_contract) if anchor else dict(NOT_ANCHORED)
        if outcome.get("anchored") and out is not None:
            outcome["proof"] = _write_proof(issuer.records, issued.document, out)
    if as_json:
        print_json({"id": issued.id, "type": issued.kind.type_name, "format": issued.format, "subject": issued.subject,
                    "file": str(out) if out else None, "credential": issued.document,
                    "credentialStatus": issued.status, "anchor": outcome})
    elif out is not None:
        out_console.print(f"issued {issued.kind.type_name} {issued.id} ({issued.format}) → {out}")
    code = report_anchor(outcome, quiet=as_json)
    if code:
        raise typer.Exit(int(code))


def _write_proof(store: Any, document: Any, out: Path) -> str | None:
    """``FILE.anchor.json`` beside the credential, from the records (None if it is not anchored)."""
    import json

    from .._files import write_atomically
    from ..accesslog.issuance import proof_from_records

    proof = proof_from_records(store, document)
    if proof is None:
        return None
    target = out.with_name(out.name + ".anchor.json")
    write_atomically(target, json.dumps(proof.to_json(), indent=2) + "\n", mode=0o644)
    return str(target)


def _register(kind: str, example: str) -> None:
    label = {"kyc": "a KYC", "residency": "a residency", "virtual-resident": "a virtual-resident"}[kind]
    since_help = {"residency": "Resident of Kaga since (YYYY-MM-DD, required).",
                  "virtual-resident": "Virtual resident since (YYYY-MM-DD, default today).",
                  "kyc": "Not used for KYC."}[kind]

    @error_boundary
    def command(
        subject: str = typer.Option(..., "--subject", help="The resident's DID (did:key, did:ethr, …)."),
        name: str = typer.Option(..., "--name", help="Full name in kanji, e.g. '加賀 太郎'."),
        name_kana: str = typer.Option(..., "--name-kana", help="Full name in kana, e.g. 'カガ タロウ'."),
        birth_date: str = typer.Option(..., "--birth-date", help="Birth date YYYY-MM-DD."),
        gender: str = typer.Option(None, "--gender", help="female, male or other (KYC, virtual resident)."),
        address: str = typer.Option(None, "--address", help="'prefecture municipality town block', space separated."),
        resident_since: str = typer.Option(None, "--resident-since", help=since_help),
        evidence: list[str] = typer.Option([], "--evidence", help="email, openid, driversLicence, residenceCard, "
                                           "myNumberCardPublicKey (repeat; default email)."),
        assurance_level: str = typer.Option(None, "--assurance-level", help="low, substantial or high (default: what the evidence reaches)."),
        fmt: str = FormatOption,
        out: Path = typer.Option(None, "--out", dir_okay=False, help="Write the credential to this file (else stdout)."),
        staff: str = StaffOption,
        holder_key: str = typer.Option(None, "--holder-key", help="sd-jwt: holder key for cnf (did:key or JWK file); default the subject's did:key."),
        records: str = RecordsOption,
        password_file: Path = PasswordFileOption,
        anchor: bool = AnchorOption,
        anchor_contract: str = AnchorContractOption,
        as_json: bool = JsonOption,
    ) -> None:
        _issue(kind, subject, name, name_kana, birth_date, gender, address, resident_since, evidence,
               assurance_level, fmt, out, staff, holder_key, records, password_file, as_json, anchor, anchor_contract)

    command.__doc__ = (f"Issue {label} credential signed with the city's did:ethr keys (status entry and record included).\n\n"
                       f"{ANCHOR_NOTE}\n\nExample: {example}")
    app.command(kind)(command)


_register("kyc", "kaga-vc issue kyc --subject did:key:z6Mk… --name '加賀 太郎' --name-kana 'カガ タロウ' "
                 "--birth-date 1980-04-01 --evidence myNumberCardPublicKey --out kyc.jwt")
_register("residency", "kaga-vc issue residency --subject did:key:z6Mk… --name '加賀 花子' --name-kana 'カガ ハナコ' "
                       "--birth-date 1990-02-03 --address '石川県 加賀市 大聖寺南町 ニ41' --resident-since 2015-04-01 "
                       "--evidence residenceCard --format data-integrity --out residency.json")
_register("virtual-resident", "kaga-vc issue virtual-resident --subject did:key:z6Mk… --name 'Jane Doe' "
                              "--name-kana 'ジェーン ドウ' --birth-date 1985-07-07 --evidence openid")


SubjectOption = typer.Option(..., "--subject", help="The resident's DID (did:key, did:ethr, …).")
NameOption = typer.Option(..., "--name", help="Full name in kanji, e.g. '加賀 太郎'.")
KanaOption = typer.Option(..., "--name-kana", help="Full name in kana, e.g. 'カガ タロウ'.")
BirthOption = typer.Option(..., "--birth-date", help="Birth date YYYY-MM-DD.")
EvidenceOption = typer.Option([], "--evidence", help="email, openid, driversLicence, residenceCard, "
                              "myNumberCardPublicKey (repeat; default email).")
LevelOption = typer.Option(None, "--assurance-level", help="low, substantial or high (default: what the evidence reaches).")
HolderKeyOption = typer.Option(None, "--holder-key", help="sd-jwt: holder key for cnf (did:key or JWK file); default the subject's did:key.")
OutOption = typer.Option(None, "--out", dir_okay=False, help="Write the credential to this file (else stdout).")


@app.command("voting-eligibility")
@error_boundary
def voting_eligibility(
    subject: str = SubjectOption, name: str = NameOption, name_kana: str = KanaOption, birth_date: str = BirthOption,
    address: str = typer.Option(..., "--address", help="The Kaga address, 'prefecture municipality town block'."),
    evidence: list[str] = EvidenceOption, assurance_level: str = LevelOption, fmt: str = FormatOption,
    out: Path = OutOption, staff: str = StaffOption, holder_key: str = HolderKeyOption, records: str = RecordsOption,
    password_file: Path = PasswordFileOption, anchor: bool = AnchorOption, anchor_contract: str = AnchorContractOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue a voting-eligibility credential: resident of Kaga and 18 or over, proofed at substantial or high.

    Name, birth date and address are checked, then left out: the credential carries only eligibleToVote,
    ageOver18, residentOfKaga and the assurance level, each disclosable alone (kaga:not-eligible otherwise).
    Example: kaga-vc issue voting-eligibility --subject did:key:z6Mk… --name '加賀 花子' --name-kana 'カガ ハナコ' --birth-date 1990-02-03 --address '石川県 加賀市 大聖寺南町 ニ41' --evidence residenceCard
    """
    _deliver("voting-eligibility", subject, {"fullName": name, "fullNameKana": name_kana, "birthDate": birth_date,
             "address": address, "evidence": evidence or None, "assuranceLevel": assurance_level},
             fmt, out, staff, holder_key, records, password_file, as_json, anchor, anchor_contract)


@app.command("vaccination")
@error_boundary
def vaccination(
    subject: str = SubjectOption, name: str = NameOption, name_kana: str = KanaOption, birth_date: str = BirthOption,
    vaccine: str = typer.Option(..., "--vaccine", help="The vaccine given, e.g. 'Influenza (quadrivalent)'."),
    vaccinated_on: str = typer.Option(..., "--vaccinated-on", help="Date of the dose, YYYY-MM-DD."),
    dose: int = typer.Option(..., "--dose", help="Which dose of the series (1–20)."),
    evidence: list[str] = EvidenceOption, assurance_level: str = LevelOption, fmt: str = FormatOption,
    out: Path = OutOption, staff: str = StaffOption, holder_key: str = HolderKeyOption, records: str = RecordsOption,
    password_file: Path = PasswordFileOption, anchor: bool = AnchorOption, anchor_contract: str = AnchorContractOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue a vaccination certificate (VaccinationCertificate) for one dose.

    Example: kaga-vc issue vaccination --subject did:key:z6Mk… --name '加賀 花子' --name-kana 'カガ ハナコ' --birth-date 1990-02-03 --vaccine 'Influenza (quadrivalent)' --vaccinated-on 2026-11-02 --dose 1
    """
    _deliver("vaccination", subject, {"fullName": name, "fullNameKana": name_kana, "birthDate": birth_date,
             "vaccine": vaccine, "vaccinatedOn": vaccinated_on, "dose": dose, "evidence": evidence or None,
             "assuranceLevel": assurance_level}, fmt, out, staff, holder_key, records, password_file, as_json, anchor,
             anchor_contract)


@app.command("volunteer")
@error_boundary
def volunteer(
    subject: str = SubjectOption, name: str = NameOption, name_kana: str = KanaOption, birth_date: str = BirthOption,
    activity: str = typer.Option(..., "--activity", help="What was done, e.g. 'Katayamazu beach clean-up'."),
    hours: int = typer.Option(..., "--hours", help="Whole hours contributed (1–10000)."),
    volunteered_on: str = typer.Option(..., "--volunteered-on", help="Date of the activity, YYYY-MM-DD."),
    organiser: str = typer.Option(None, "--organiser", help="Who organised it (optional)."),
    evidence: list[str] = EvidenceOption, assurance_level: str = LevelOption, fmt: str = FormatOption,
    out: Path = OutOption, staff: str = StaffOption, holder_key: str = HolderKeyOption, records: str = RecordsOption,
    password_file: Path = PasswordFileOption, anchor: bool = AnchorOption, anchor_contract: str = AnchorContractOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue a volunteer-contribution credential (for the city's local value programmes).

    Example: kaga-vc issue volunteer --subject did:key:z6Mk… --name '加賀 花子' --name-kana 'カガ ハナコ' --birth-date 1990-02-03 --activity 'Katayamazu beach clean-up' --hours 3 --volunteered-on 2026-11-01
    """
    _deliver("volunteer", subject, {"fullName": name, "fullNameKana": name_kana, "birthDate": birth_date,
             "activity": activity, "hours": hours, "volunteeredOn": volunteered_on, "organiser": organiser,
             "evidence": evidence or None, "assuranceLevel": assurance_level},
             fmt, out, staff, holder_key, records, password_file, as_json, anchor, anchor_contract)


@app.command("batch")
@error_boundary
def batch(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV of residents (see examples/residents.csv)."),
    out: Path = typer.Option(..., "--out", file_okay=False, help="Directory for one credential file per row (and results.csv)."),
    fmt: str = FormatOption,
    staff: str = StaffOption,
    records: str = RecordsOption,
    password_file: Path = PasswordFileOption,
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    anchor: bool = AnchorOption,
    anchor_contract: str = AnchorContractOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue one credential per CSV row; per-row errors go to DIR/results.csv; rerun to resume.

    Columns: type, subject, fullName, fullNameKana, birthDate, gender, address, residentSince, evidence
    (';'-separated), assuranceLevel. Interrupted runs resume without issuing any row twice.
    When every row is done, the batch (with anything else issued and not yet anchored) is anchored on
    the city's chain in one transaction, so its credentials still verify after the key is rotated;
    `kaga-vc city anchor-proof FILE` writes a credential's proof from the records. Anchoring comes after
    release: if it fails the credentials stay issued and pending (`kaga-vc city anchor --pending`).
    Exits 1 when any row was rejected (each with its reason in DIR/results.csv), 4 when anchoring
    failed, 130 on Ctrl-C (nothing is anchored then: the rerun resumes and anchors).
    Example: kaga-vc issue batch residents.csv --out issued/ --format sd-jwt
    """
    from ..issuer.service import run_csv_batch
    from ._anchoring import NOT_ANCHORED, anchor_pending_now, report_anchor

    try:
        with open_issuer(password_file, records) as issuer:
            summary = run_csv_batch(issuer, file, out, format=fmt, staff=staff_name(staff),
                                    progress=not (quiet or as_json))
            outcome = (anchor_pending_now(issuer.config, issuer.records, anchor_contract) if anchor
                       else dict(NOT_ANCHORED))
    except KeyboardInterrupt:
        err_console.print(Text(f"interrupted: the rows issued so far are recorded; run the same command again to "
                               f"resume (results in {out})"), soft_wrap=True)
        raise typer.Exit(int(ExitCode.ABORTED)) from None
    summary["anchor"] = outcome
    if as_json:
        print_json(summary)
    else:
        out_console.print(
            f"issued {summary['issued']}, rejected {summary['rejected']}, issued by an earlier run "
            f"{summary['alreadyIssued']} of {summary['total']}; results: {summary['resultFile']}"
        )
    code = report_anchor(outcome, quiet=as_json)
    if summary["rejected"]:
        raise typer.Exit(int(ExitCode.INVALID))
    if code:
        raise typer.Exit(int(code))


from .offers import register as _register_offers

_register_offers(app)
