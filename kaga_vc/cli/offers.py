"""``kaga-vc issue offer`` / ``issue offers``: OpenID4VCI credential offers for residents' phone wallets.

An offer lives in the issuance records database (its code and PIN only hashed, its claims encrypted
under the code); the command prints the ``openid-credential-offer://`` URI (and a QR code) and the
PIN, which staff give the resident by another channel. ``kaga-vc serve --role issuer`` redeems it.
"""

from __future__ import annotations

import csv
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

from ..errors import MALFORMED_VALUE_ERROR, PARSING_ERROR, InputError
from ._common import JsonOption, error_boundary, out_console, print_json

ISSUER_URL_ENV = "KAGA_VC_ISSUER_URL"

IssuerUrlOption = typer.Option(None, "--issuer-url", help=f"The Credential Issuer URL wallets reach (kaga-vc serve "
                               f"--role issuer; else ${ISSUER_URL_ENV}, else the city's service endpoint).")
ExpiresOption = typer.Option(30, "--expires-in-days", min=1, max=365, help="Days the offer stays redeemable.")
NoPinOption = typer.Option(False, "--no-pin", help="No transaction code (PIN): anyone holding the QR code redeems it.")
OfferFormatOption = typer.Option("sd-jwt", "--format", help="sd-jwt (dc+sd-jwt, default), ldp (Data Integrity) or "
                                 "jwt (VC 1.1 JWT).")


def _read_residents(file: Path, row_claims: Any) -> tuple[list[tuple[str, dict[str, Any], str | None]], list[Any]]:
    """The rows of a residents CSV as (kind, claims, row id), and (name, address) for the letters."""
    with file.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "type" not in reader.fieldnames:
            raise InputError(MALFORMED_VALUE_ERROR, f"{file.name} is not a residents CSV (no 'type' column)")
        rows: list[tuple[str, dict[str, Any], str | None]] = []
        people: list[Any] = []
        for number, row in enumerate(reader, start=1):
            try:
                kind, _subject, claims = row_claims({k: v for k, v in row.items() if k is not None})
            except InputError as error:
                raise InputError(error.code, f"row {number}: {error.detail}") from None
            rows.append((kind, claims, f"row-{number:06d}"))
            people.append((str(claims.get("fullName", "")), claims.get("address")))
    if not rows:
        raise InputError(MALFORMED_VALUE_ERROR, f"{file.name} has no resident row")
    return rows, people


def _issuer_url(value: str | None) -> str:
    if value:
        url = value
    elif os.environ.get(ISSUER_URL_ENV):
        url = os.environ[ISSUER_URL_ENV]
    else:
        from ..issuer.service import read_city

        url = read_city().service_endpoint
    if not url.startswith(("https://", "http://")):
        raise InputError(MALFORMED_VALUE_ERROR, "--issuer-url must be an http(s) URL")
    return url.rstrip("/")


def _store(records: str | None) -> Any:
    from ..issuer.offers import OfferStore
    from ..issuer.records import IssuanceStore

    records_store = IssuanceStore.open(records or os.environ.get("KAGA_VC_RECORDS_URL") or None)
    return records_store, OfferStore(records_store.engine)


def offer(
    kind: str = typer.Option(..., "--type", help="kyc, residency or virtual-resident."),
    name: str = typer.Option(..., "--name", help="Full name in kanji, e.g. '加賀 太郎'."),
    name_kana: str = typer.Option(..., "--name-kana", help="Full name in kana, e.g. 'カガ タロウ'."),
    birth_date: str = typer.Option(..., "--birth-date", help="Birth date YYYY-MM-DD."),
    gender: str = typer.Option(None, "--gender", help="female, male or other (KYC, virtual resident)."),
    address: str = typer.Option(None, "--address", help="'prefecture municipality town block', space separated."),
    resident_since: str = typer.Option(None, "--resident-since", help="Residency: resident since; virtual resident: since."),
    evidence: list[str] = typer.Option([], "--evidence", help="How the resident was proofed (repeat)."),
    fmt: str = OfferFormatOption,
    issuer_url: str = IssuerUrlOption,
    expires_in_days: int = ExpiresOption,
    no_pin: bool = NoPinOption,
    qr: Path = typer.Option(None, "--qr", dir_okay=False, help="Also write the offer's QR code: .png, .svg or .txt."),
    staff: str = typer.Option(None, "--staff", help="Staff member making the offer (else $KAGA_VC_STAFF, else the OS user)."),
    records: str = typer.Option(None, "--records", help="Issuance records database URL (else $KAGA_VC_RECORDS_URL)."),
    as_json: bool = JsonOption,
) -> None:
    """Make a single-use, expiring OpenID4VCI offer for one proofed resident: prints the URI and the PIN.

    Example: kaga-vc issue offer --type kyc --name '加賀 太郎' --name-kana 'カガ タロウ' --birth-date 1980-04-01 --evidence myNumberCardPublicKey --issuer-url https://issuer.city.kaga.ishikawa.jp --qr offer.png
    """
    from ..issuer.openid4vci import create_offer
    from .issue import staff_name

    claims: dict[str, Any] = {"fullName": name, "fullNameKana": name_kana, "birthDate": birth_date, "gender": gender,
                              "address": address, "evidence": evidence or None}
    since = "virtualResidentSince" if kind == "virtual-resident" else "residentSince"
    claims[since] = resident_since
    claims = {k: v for k, v in claims.items() if v is not None}
    url = _issuer_url(issuer_url)
    records_store, store = _store(records)
    try:
        made = create_offer(store, url, kind, claims, staff=staff_name(staff), format=fmt, with_pin=not no_pin,
                            lifetime=timedelta(days=expires_in_days))
    finally:
        records_store.close()
    if qr is not None:
        from ..verifier.qr import write_qr

        write_qr(made.uri, qr)
    if as_json:
        print_json({**made.to_json(), "qr": str(qr) if qr else None})
        return
    typer.echo(made.uri)
    if made.tx_code:
        out_console.print(f"PIN (give it by another channel): [bold]{made.tx_code}[/]")
    out_console.print(f"offer {made.id}, {made.configuration_id}, valid until {made.expires_at.isoformat()}")


def offers(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV of residents (as for issue batch; "
                                "'subject' may be empty: the wallet's key becomes the subject)."),
    out: Path = typer.Option(..., "--out", file_okay=False, help="Directory for offers.csv (URIs, no PIN) and pins.csv."),
    letters: bool = typer.Option(False, "--letters", help="Also write letters.pdf: one page per resident with the QR code."),
    fmt: str = OfferFormatOption,
    issuer_url: str = IssuerUrlOption,
    expires_in_days: int = ExpiresOption,
    no_pin: bool = NoPinOption,
    staff: str = typer.Option(None, "--staff", help="Staff member making the offers (else $KAGA_VC_STAFF, else the OS user)."),
    records: str = typer.Option(None, "--records", help="Issuance records database URL (else $KAGA_VC_RECORDS_URL)."),
    as_json: bool = JsonOption,
) -> None:
    """One offer per CSV row, stored in one transaction: offers.csv (for the letters), pins.csv (mailed apart).

    A row that fails a claim rule stops the run before anything is stored (fix the file, run again).
    Example: kaga-vc issue offers residents.csv --out offers/ --letters --issuer-url https://issuer.city.kaga.ishikawa.jp
    """
    from ..issuer.openid4vci import create_offers
    from ..issuer.service import row_claims
    from .issue import staff_name

    url = _issuer_url(issuer_url)
    try:
        rows, people = _read_residents(file, row_claims)
    except UnicodeDecodeError:
        raise InputError(PARSING_ERROR, f"{file.name} is not UTF-8 text (a residents CSV)") from None
    records_store, store = _store(records)
    try:
        try:
            made = create_offers(store, url, rows, staff=staff_name(staff), format=fmt, with_pin=not no_pin,
                                 lifetime=timedelta(days=expires_in_days))
        except InputError as error:
            raise InputError(error.code, f"a row breaks a claim rule, nothing stored: {error.detail}") from None
    finally:
        records_store.close()
    out.mkdir(parents=True, exist_ok=True)
    offers_file, pins_file = out / "offers.csv", out / "pins.csv"
    with offers_file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "offerId", "configurationId", "expiresAt", "uri"])
        for (_, _, label), one in zip(rows, made):
            writer.writerow([label, one.id, one.configuration_id, one.expires_at.isoformat(), one.uri])
    fd = os.open(pins_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "offerId", "pin"])
        for (_, _, label), one in zip(rows, made):
            writer.writerow([label, one.id, one.tx_code or ""])
    pdf = None
    if letters:
        from ..issuer.letters import Letter, write_letters

        pdf = write_letters(out / "letters.pdf", [
            Letter(name, address, one.uri, one.configuration_id, one.expires_at)
            for (name, address), one in zip(people, made)])
    summary = {"offers": len(made), "offersFile": str(offers_file), "pinsFile": str(pins_file),
               "letters": str(pdf) if pdf else None}
    if as_json:
        print_json(summary)
    else:
        out_console.print(f"{len(made)} offers → {offers_file}; PINs (mail them apart) → {pins_file}"
                          + (f"; letters → {pdf}" if pdf else ""))


def register(app: typer.Typer) -> None:
    """Add ``offer`` and ``offers`` to the ``issue`` group."""
    app.command("offer")(error_boundary(offer))
    app.command("offers")(error_boundary(offers))
