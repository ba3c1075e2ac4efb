"""The ``kaga-vc`` command line (thin: parses, calls the library, prints)."""

from __future__ import annotations


def main() -> None:
    """Console-script entry point; Ctrl-C while the command is still loading exits 130 without a traceback."""
    import sys

    try:
        from ._app import app

        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
