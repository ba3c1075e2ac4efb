"""Shared CLI plumbing: the one error boundary, the root group, shared options (and, from ``_output``,
exit codes, JSON output, passwords, consoles).

Commands stay thin (STYLE.md §9): they parse, call one library function and render. Everything
human goes to stderr when ``--json`` is on, so stdout carries exactly one JSON document.
"""

from __future__ import annotations

import errno
import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from typer.core import TyperGroup

from ..errors import USAGE_ERROR, KagaError
from ._output import (
    DEBUG_ENV,
    PASSWORD_ENV,
    PASSWORD_FILE_ENV,
    ExitCode,
    err_console,
    exit_code_for,
    human,
    internal_error,
    os_error,
    out_console,
    print_fields,
    print_json,
    read_input,
    read_password,
    report_error,
)

__all__ = [
    "DEBUG_ENV", "PASSWORD_ENV", "PASSWORD_FILE_ENV", "ExitCode", "JsonOption", "KagaGroup", "PasswordFileOption",
    "err_console", "error_boundary", "exit_code_for", "fail", "human", "internal_error", "os_error", "out_console", "print_fields",
    "print_json", "read_input", "read_password", "report_error",
]

P = ParamSpec("P")
R = TypeVar("R")


def fail(error: KagaError, *, as_json: bool) -> NoReturn:
    """Report a library error (as ``{"error": …}`` under ``--json``) and exit with its code."""
    raise typer.Exit(int(report_error(error, as_json=as_json)))


def error_boundary(func: Callable[P, R]) -> Callable[P, R]:
    """Turn ``KagaError`` (and file-system errors) into a message and exit code; let ``typer.Exit`` pass."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("as_json", False))
        try:
            return func(*args, **kwargs)
        except KagaError as error:
            fail(error, as_json=as_json)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # stdout closed by the reader (| head): not an error of ours
                raise
            fail(os_error(exc), as_json=as_json)

    return wrapper


PasswordFileOption = typer.Option(
    None,
    "--password-file",
    help=f"File holding the keystore password (else ${PASSWORD_ENV}, else the file ${PASSWORD_FILE_ENV} names, "
    "else a prompt).",
    exists=True,
    dir_okay=False,
)
JsonOption = typer.Option(False, "--json", help="Print exactly one JSON document on stdout.")


# click's exception base, wherever this typer keeps click (vendored since typer 0.23)
_ClickException: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_Abort, _Exit = typer.Abort, typer.Exit

class KagaGroup(TyperGroup):
    """The root command group: the last line of the one error boundary.

    A usage error under ``--json`` still prints one JSON document (``kaga:usage-error``, exit 2);
    an exception nothing typed is a bug: one line on stderr (the traceback with ``$KAGA_VC_DEBUG=1``)
    and exit 5, never Python's exit 1, which a script would read as "checked and invalid".
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_help(self)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        as_json = "--json" in argv
        try:
            code = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except _ClickException as exc:
            if as_json:
                print(json.dumps({"error": {"code": USAGE_ERROR, "detail": exc.format_message()}}, ensure_ascii=False))
            _show_usage_error(exc)
            sys.exit(exc.exit_code)
        except _Abort:  # click's form of Ctrl-C / end of input at a prompt, and a declined confirmation
            err_console.print("aborted")
            sys.exit(int(ExitCode.ABORTED))
        except KeyboardInterrupt:
            err_console.print("interrupted")
            sys.exit(int(ExitCode.ABORTED))
        except _Exit as exc:
            sys.exit(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - the boundary of last resort: a bug becomes exit 5
            sys.exit(int(internal_error(exc, as_json=as_json)))
        sys.exit(code if isinstance(code, int) else 0)


def _plain_help(group: Any) -> None:
    """Render every help page as plain text, never as Rich markup.

    Help texts are full of DID examples to copy: Rich markup turns ``:key:`` in ``did:key:z6Mk…`` into
    an emoji and eats ``[…]``. Plain rendering shows each help text exactly as written (tested by
    tests/test_cli_help.py), which is the only escaping that covers emoji codes too.
    """
    stack = [group]
    while stack:
        command = stack.pop()
        command.rich_markup_mode = None
        if getattr(command, "help", None):
            command.help = _unwrapped_examples(command.help)
        stack.extend(getattr(command, "commands", {}).values())


def _unwrapped_examples(text: str) -> str:
    """Put each ``Example:`` line in a paragraph click does not rewrap (``\\b``), so it stays copyable."""
    import inspect

    out: list[str] = []
    in_example = False
    for line in inspect.cleandoc(text).splitlines():
        example = line.startswith("Example")
        if example and not in_example:
            out += ["", "\b"]
        elif not example and in_example and line.strip():
            out.append("")
        in_example = example or (in_example and not line.strip())
        out.append(line)
    return "\n".join(out)


def _show_usage_error(exc: Any) -> None:
    try:
        from typer import rich_utils

        rich_utils.rich_format_error(exc)
    except (ImportError, AttributeError):  # pragma: no cover - a typer without rich helpers
        exc.show()
