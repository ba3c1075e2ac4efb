"""The ``kaga-vc`` typer application: one sub-app per command group."""

from __future__ import annotations

import typer

from .. import __version__
from . import bundle as bundle_cli
from . import chain as chain_cli
from . import city as city_cli
from . import credential as credential_cli
from . import did as did_cli
from . import issue as issue_cli
from . import issued as issued_cli
from . import key as key_cli
from . import log as log_cli
from . import request as request_cli
from . import status as status_cli
from . import wallet as wallet_cli
from ._common import KagaGroup
from .demo import demo
from .serve import admin_app, serve
from .verify import verify

app = typer.Typer(
    name="kaga-vc",
    cls=KagaGroup,
    help="W3C Verifiable Credentials for the city of Kaga: keys, DIDs, issuance, offline verification.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kaga-vc {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """W3C Verifiable Credentials for the city of Kaga."""


app.add_typer(key_cli.app, name="key")
app.add_typer(did_cli.app, name="did")
app.add_typer(chain_cli.app, name="chain")
app.command("demo")(demo)
app.add_typer(credential_cli.app, name="credential")
app.command("verify")(verify)
app.add_typer(city_cli.app, name="city")
app.add_typer(issue_cli.app, name="issue")
app.add_typer(wallet_cli.app, name="wallet")
app.add_typer(request_cli.app, name="request")
app.add_typer(bundle_cli.app, name="bundle")
app.add_typer(log_cli.app, name="log")
app.add_typer(status_cli.app, name="status")
app.add_typer(issued_cli.app, name="issued")
app.command("serve")(serve)
app.add_typer(admin_app, name="admin-token")
