"""The ``kaga-vc`` command line (thin: parses, calls the library, prints)."""

from __future__ import annotations


def main() -> None:
    """Console-script entry point."""
    from ._app import app

    app()
