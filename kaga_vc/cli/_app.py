"""The ``kaga-vc`` typer application: one sub-app per command group.

:data:`app` is the whole CLI (built on first use). :func:`command_app` builds the root group with one command only, so
``kaga-vc key generate`` imports the ``key`` module and not every other command's (and their
libraries): the command line, its help and its errors are the same as the whole CLI's for that
command. The order of :data:`COMMANDS` is the order ``kaga-vc --help`` lists them in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import typer

from .. import __version__
from ._common import KagaGroup

# name → (module under kaga_vc.cli, attribute, a typer sub-app or a command function)
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "key": ("key", "app", True),
    "did": ("did", "app", True),
    "chain": ("chain", "app", True),
    "demo": ("demo", "demo", False),
    "credential": ("credential", "app", True),
    "verify": ("verify", "verify", False),
    "city": ("city", "app", True),
    "issue": ("issue", "app", True),
    "wallet": ("wallet", "app", True),
    "request": ("request", "app", True),
    "bundle": ("bundle", "app", True),
    "log": ("log", "app", True),
    "status": ("status", "app", True),
    "issued": ("issued", "app", True),
    "serve": ("serve", "serve", False),
    "admin-token": ("serve", "admin_app", True),
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kaga-vc {__version__}")
        raise typer.Exit()


def _root() -> typer.Typer:
    root = typer.Typer(
        name="kaga-vc",
        cls=KagaGroup,
        help="W3C Verifiable Credentials for the city of Kaga: keys, DIDs, issuance, offline verification.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    @root.callback()
    def main_callback(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                     help="Show the version and exit."),
    ) -> None:
        """W3C Verifiable Credentials for the city of Kaga."""

    return root


def _add(root: typer.Typer, name: str) -> None:
    module, attribute, is_group = COMMANDS[name]
    target = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
    if is_group:
        root.add_typer(target, name=name)
    else:
        root.command(name)(target)


def command_app(name: str) -> typer.Typer:
    """The root group with only the command ``name`` (one of :data:`COMMANDS`)."""
    root = _root()
    _add(root, name)
    return root


def full_app() -> typer.Typer:
    """The root group with every command."""
    root = _root()
    for name in COMMANDS:
        _add(root, name)
    return root


def __getattr__(name: str) -> typer.Typer:
    """``app``, the whole CLI, built on first use (``kaga_vc.cli.main`` builds only what it runs)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    built = globals()["app"] = full_app()
    return built


if TYPE_CHECKING:
    app: typer.Typer
