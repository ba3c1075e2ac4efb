"""``kaga-vc issued``: the issuance records (audit view; no personal data is kept there)."""

from __future__ import annotations

import typer
from rich.table import Column, Table

from ..errors import MALFORMED_VALUE_ERROR, InputError
from ._common import JsonOption, error_boundary, out_console, print_json
from .status import RecordsOption

app = typer.Typer(help="The issuance records: which credentials were issued, by whom, and their status.",
                  no_args_is_help=True)


@app.command("list")
@error_boundary
def list_issued(
    status: str | None = typer.Option(None, "--status", help="Only active, revoked or suspended credentials."),
    type_: str | None = typer.Option(None, "--type", help="Only this credential type, e.g. KycCredential."),
    subject: str | None = typer.Option(None, "--subject", help="Only credentials issued to this DID."),
    staff: str | None = typer.Option(None, "--staff", help="Only credentials issued by this staff member."),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most this many records."),
    offset: int = typer.Option(0, "--offset", min=0, help="Skip this many records first."),
    records: str | None = RecordsOption,
    as_json: bool = JsonOption,
) -> None:
    """List issued credentials, oldest first.

    Example: kaga-vc issued list --status revoked --json
    """
    from ..issuer.records import STATUSES, IssuanceStore

    if status is not None and status not in STATUSES:
        raise InputError(MALFORMED_VALUE_ERROR, f"--status must be one of {', '.join(STATUSES)}")
    with IssuanceStore.open(records) as store:
        rows = store.list(status=status, type=type_, subject_did=subject, staff=staff, limit=limit, offset=offset)
        total = store.count(status=status) if type_ is None and subject is None and staff is None else None
    if as_json:
        print_json({"credentials": [r.to_json() for r in rows], "count": len(rows),
                    **({"total": total} if total is not None else {})})
        return
    # ids are copied into `status revoke`: a narrow terminal folds them, never cuts them
    table = Table(*(Column(name, overflow="fold") for name in
                    ("issued at", "credential id", "type", "format", "status", "list / index", "staff")))
    for r in rows:
        table.add_row(r.issued_at.strftime("%Y-%m-%d %H:%M:%S"), r.credential_id, r.type, r.format, r.status,
                      f"{r.status_list_id} / {r.status_index}", r.staff)
    out_console.print(table)
    out_console.print(f"{len(rows)} record(s)" + (f" of {total}" if total is not None else ""))
