"""``kaga-vc status``: revoke, suspend, unsuspend issued credentials; publish the signed status lists."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

from ..errors import MALFORMED_VALUE_ERROR, InputError
from ._common import JsonOption, err_console, error_boundary, out_console, print_json, read_password

app = typer.Typer(help="Revoke, suspend and restore issued credentials; publish the signed status lists.",
                  no_args_is_help=True)

RecordsOption: Any = typer.Option(
    None, "--records", envvar="KAGA_VC_RECORDS_URL",
    help="Issuance records: sqlite:///PATH or postgresql://user@host/db (default: SQLite in $KAGA_VC_HOME).")
StaffOption: Any = typer.Option(None, "--staff", help="The staff member making the change (kept in the audit trail).")


def _open_lists(records: str | None) -> Any:
    from ..issuer.records import IssuanceStore
    from ..status import StatusLists

    store = IssuanceStore.open(records)
    # the base URL plays no part in changing a status; publishing takes the city's own
    return store, StatusLists(store, "https://status.invalid")


def _change(action: str, credential_id: str, records: str | None, staff: str | None, as_json: bool) -> None:
    store, lists = _open_lists(records)
    with store:
        record = getattr(lists, action)(credential_id, staff=staff)
    if as_json:
        print_json(record.to_json())
        return
    out_console.print(f"{record.credential_id}: [bold]{record.status}[/] (list {record.status_list_id}, "
                      f"index {record.status_index})")
    err_console.print("verifiers see the change once the lists are published: kaga-vc status publish")


@app.command("revoke")
@error_boundary
def revoke(
    credential_id: str = typer.Argument(..., help="The id of the issued credential (see kaga-vc issued list)."),
    records: str | None = RecordsOption,
    staff: str | None = StaffOption,
    as_json: bool = JsonOption,
) -> None:
    """Revoke an issued credential for good (revocation cannot be undone).

    Example: kaga-vc status revoke urn:uuid:5f0c… --staff tanaka
    """
    _change("revoke", credential_id, records, staff, as_json)


@app.command("suspend")
@error_boundary
def suspend(
    credential_id: str = typer.Argument(..., help="The id of the issued credential."),
    records: str | None = RecordsOption,
    staff: str | None = StaffOption,
    as_json: bool = JsonOption,
) -> None:
    """Suspend an issued credential until it is unsuspended.

    Example: kaga-vc status suspend urn:uuid:5f0c… --json
    """
    _change("suspend", credential_id, records, staff, as_json)


@app.command("unsuspend")
@error_boundary
def unsuspend(
    credential_id: str = typer.Argument(..., help="The id of a suspended credential."),
    records: str | None = RecordsOption,
    staff: str | None = StaffOption,
    as_json: bool = JsonOption,
) -> None:
    """Lift a suspension (a revoked credential stays revoked).

    Example: kaga-vc status unsuspend urn:uuid:5f0c…
    """
    _change("unsuspend", credential_id, records, staff, as_json)


@app.command("publish")
@error_boundary
def publish(
    out: Path | None = typer.Option(
        None, "--out", help="A directory (one file per list, for a web server; the default is "
        "$KAGA_VC_HOME/published/status) or a .json file holding every list by URL."),
    fmt: str = typer.Option("data-integrity", "--format", help="data-integrity or vc-jwt."),
    valid_for: float | None = typer.Option(None, "--valid-for", help="Hours until the lists expire (default: 168, seven days)."),
    records: str | None = RecordsOption,
    home: Path | None = typer.Option(None, "--home", help="The kaga-vc data directory (default: $KAGA_VC_HOME, else the user data directory)."),
    password_file: Path | None = typer.Option(None, "--password-file", help="File holding the keystore password."),
    as_json: bool = JsonOption,
) -> None:
    """Sign every status list (revocation and suspension) with the city's key and write them out.

    Example: kaga-vc status publish --out /var/www/city/status/
    """
    from .._home import default_home
    from ..issuer.service import open_city_issuer
    from ..status import StatusLists

    if fmt not in ("data-integrity", "vc-jwt"):
        raise InputError(MALFORMED_VALUE_ERROR, "--format must be data-integrity or vc-jwt")
    password = read_password(password_file)
    home_dir = home or default_home()
    target = out or home_dir / "published" / "status"
    as_directory = target.suffix.lower() != ".json"
    with open_city_issuer(password, home=home_dir, records_url=records) as issuer:
        signer = issuer.ed25519_signer
        lists = issuer.status
        if not isinstance(lists, StatusLists):
            raise InputError(MALFORMED_VALUE_ERROR, "this issuer keeps no status lists")
        if fmt == "vc-jwt":
            from ..proofs.jose import sign_vc_jwt

            def sign(credential: dict[str, Any]) -> Any:
                return sign_vc_jwt(credential, signer)
        else:
            from ..credentials import issue_credential

            def sign(credential: dict[str, Any]) -> Any:
                return issue_credential(credential, signer=signer)

        written = lists.publish(
            target, sign, issuer=issuer.config.did, as_directory=as_directory,
            valid_for=timedelta(hours=valid_for) if valid_for else None,
        )
        urls = [info.list_id for info in lists.store.status_lists()]
    if as_json:
        print_json({"out": str(target), "files": [str(p) for p in written], "lists": urls, "format": fmt})
        return
    out_console.print(f"published {len(urls)} list(s) × 2 purposes to {target}")
