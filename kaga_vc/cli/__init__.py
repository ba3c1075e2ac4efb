"""The ``kaga-vc`` command line (thin: parses, calls the library, prints).

:func:`main` imports only what the command line in hand needs (README "Cold start"):
``kaga-vc --help`` and ``--version`` print without typer; ``kaga-vc verify … --bundle …`` runs the
offline verify without typer or click (``_verify_fast.py``; anything it does not handle goes on to
typer); any other command builds the typer root group with that one command only (``_app.py``).
"""

from __future__ import annotations

ROOT_HELP_MIN_COLUMNS = 80  # click renders the root help alike at any width from 80 columns up


def main() -> None:
    """Console-script entry point; Ctrl-C while the command is still loading exits 130 without a traceback."""
    import sys

    try:
        argv = sys.argv[1:]
        code = _without_typer(argv)
        if code is not None:
            sys.exit(code)
        from ._app import COMMANDS, command_app, full_app

        app = command_app(argv[0]) if argv and argv[0] in COMMANDS else full_app()
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)


def _without_typer(argv: list[str]) -> int | None:
    """Run ``argv`` without typer if it is one of the command lines that can be: the exit code, else None."""
    import sys

    if argv == ["--version"]:
        from .. import __version__

        sys.stdout.write(f"kaga-vc {__version__}\n")
        return 0
    if argv == ["--help"]:
        prog = _program_name()
        import shutil

        if prog is None or shutil.get_terminal_size().columns < ROOT_HELP_MIN_COLUMNS:
            return None
        from ._root_help import ROOT_HELP

        sys.stdout.write(ROOT_HELP.replace("Usage: kaga-vc ", f"Usage: {prog} ", 1))
        return 0
    if argv[:1] == ["verify"]:
        from ._verify_fast import run

        return run(argv[1:])
    return None


def _program_name() -> str | None:
    """The name click shows in ``Usage:`` (the script's file name), or None where click would say ``python -m …``."""
    import os
    import sys

    main_module = sys.modules.get("__main__")
    if getattr(main_module, "__package__", None) not in (None, ""):
        return None
    return os.path.basename(sys.argv[0])
