"""The CLI's plumbing that needs neither typer nor Rich at import: exit codes, error reports, JSON, input.

``kaga-vc verify`` runs on this alone (the import budget of the offline verifier, README "Cold
start"); :mod:`kaga_vc.cli._common` re-exports it next to the typer parts. The consoles are Rich
consoles created on first use, so Rich is imported only when something is printed through them.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import (
    ANCHOR_NOT_FOUND,
    CONTEXT_LOAD_FAILED,
    CONTEXT_NOT_BUNDLED,
    CREDENTIAL_ALREADY_RECORDED,
    FILESYSTEM_ERROR,
    INTERNAL_ERROR,
    LOG_KEY_MISMATCH,
    LOG_UNAVAILABLE,
    NETWORK_ERROR,
    NODE_UNREACHABLE,
    STATUS_LIST_UNAVAILABLE,
    AccessLogError,
    DocumentLoadError,
    InputError,
    KagaError,
    KeystoreError,
    ProofError,
    RecordsError,
    RegistryError,
    ResolutionError,
    StatusError,
    UnavailableError,
    UnsupportedError,
)

if TYPE_CHECKING:
    from rich.console import Console

PASSWORD_ENV = "KAGA_VC_PASSWORD"
PASSWORD_FILE_ENV = "KAGA_VC_PASSWORD_FILE"
DEBUG_ENV = "KAGA_VC_DEBUG"


class ExitCode(IntEnum):
    """Process exit codes of every ``kaga-vc`` command."""

    OK = 0  # success, or verified
    INVALID = 1  # checked and invalid
    USAGE = 2  # usage error (typer's own)
    BAD_INPUT = 3  # input unreadable or malformed
    COULD_NOT_CHECK = 4  # a node, DID document, context or status list was unavailable
    INTERNAL = 5  # a bug: please report it
    ABORTED = 130  # the user stopped it: Ctrl-C, or a declined or aborted prompt (128 + SIGINT)


class _LazyConsole:
    """A ``rich.console.Console`` made (and Rich imported) on first use; its options are fixed here."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        console = self.__dict__.get("_console")
        if console is None:
            from rich.console import Console

            console = self._console = Console(**self._options)
        return getattr(console, name)


if TYPE_CHECKING:
    err_console: Console
    out_console: Console
else:
    err_console = _LazyConsole(stderr=True, highlight=False, emoji=False)
    out_console = _LazyConsole(highlight=False, emoji=False)


_STYLE_TAG = re.compile(r"\[/?(?:bold red|bold|yellow|dim)?\]")


def note(message: str) -> None:
    """One line for a person on stderr, with Rich markup: through Rich on a terminal; elsewhere (a script's
    log, a pipe) the plain text, unwrapped, and Rich is not imported for it (the offline verify's notes)."""
    if sys.stderr.isatty():
        err_console.print(message)
        return
    sys.stderr.write(_STYLE_TAG.sub("", message) + "\n")
    sys.stderr.flush()


# kaga_vc.registry._errors codes, spelled out: the verify path imports this module, never the registry
_REGISTRY_MISCONFIGURED = ("kaga:wrong-chain", "kaga:no-registry")  # the node or address named is not the one
_REGISTRY_UNAVAILABLE = ("kaga:chain-busy", "kaga:chain-corrupt", "kaga:rpc-error", "kaga:transaction-timeout")


def exit_code_for(error: KagaError) -> ExitCode:
    """Map a library error to the exit code a script can branch on."""
    if isinstance(error, (InputError, KeystoreError)):
        return ExitCode.BAD_INPUT
    if isinstance(error, DocumentLoadError) and error.code in (CONTEXT_NOT_BUNDLED,):
        return ExitCode.INVALID
    if isinstance(error, (DocumentLoadError,)) and error.code == CONTEXT_LOAD_FAILED:
        return ExitCode.COULD_NOT_CHECK
    if isinstance(error, UnavailableError) or (isinstance(error, RegistryError) and error.code == NODE_UNREACHABLE):
        return ExitCode.COULD_NOT_CHECK
    if isinstance(error, RegistryError):
        if error.code in _REGISTRY_MISCONFIGURED:
            return ExitCode.BAD_INPUT
        if error.code in _REGISTRY_UNAVAILABLE:
            return ExitCode.COULD_NOT_CHECK
    if isinstance(error, ResolutionError):
        bad_input = ("invalidDid", "invalidDidUrl", "invalidOptions", "representationNotSupported")
        return ExitCode.BAD_INPUT if error.code in bad_input else ExitCode.COULD_NOT_CHECK
    if isinstance(error, (ProofError, UnsupportedError)):
        return ExitCode.INVALID
    if isinstance(error, AccessLogError):
        if error.code in (LOG_UNAVAILABLE, ANCHOR_NOT_FOUND):
            return ExitCode.COULD_NOT_CHECK
        if error.code == LOG_KEY_MISMATCH:
            return ExitCode.BAD_INPUT
    if isinstance(error, StatusError):  # an unknown credential or a refused transition is the caller's input
        return ExitCode.COULD_NOT_CHECK if error.code == STATUS_LIST_UNAVAILABLE else ExitCode.BAD_INPUT
    if isinstance(error, RecordsError):
        return ExitCode.BAD_INPUT if error.code == CREDENTIAL_ALREADY_RECORDED else ExitCode.COULD_NOT_CHECK
    return ExitCode.INVALID


def report_error(error: KagaError, *, as_json: bool) -> ExitCode:
    """Report a library error (as ``{"error": …}`` under ``--json``); the exit code it maps to."""
    if as_json:
        print(json.dumps({"error": error.to_dict()}, ensure_ascii=False))
    else:
        err_console.print(f"[bold red]error[/] [dim]{error.code}[/]: {error.detail}")
    return exit_code_for(error)


def internal_error(exc: BaseException, *, as_json: bool) -> ExitCode:
    """An exception nothing typed is a bug: one line on stderr (the traceback with ``$KAGA_VC_DEBUG=1``), exit 5."""
    if os.environ.get(DEBUG_ENV):
        import traceback

        traceback.print_exception(exc)
    detail = f"internal error ({type(exc).__name__}); please report it (details: ${DEBUG_ENV}=1)"
    if as_json:
        print(json.dumps({"error": {"code": INTERNAL_ERROR, "detail": detail}}))
    err_console.print(f"[bold red]error[/] [dim]{INTERNAL_ERROR}[/]: {detail}")
    return ExitCode.INTERNAL


def os_error(exc: OSError) -> KagaError:
    """A typed error for an ``OSError`` no library layer turned into one.

    A file or directory that cannot be read, created or written (``$KAGA_VC_HOME`` is a file or
    read-only, a disk is full) is the caller's input or environment: exit 3. A connection that fails
    is something that could not be reached: exit 4.
    """
    if isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror)) or type(exc).__module__.startswith(
            ("requests", "urllib3")):
        return UnavailableError(NETWORK_ERROR, f"network error: {exc.strerror or type(exc).__name__}")
    where = f": {exc.filename}" if exc.filename else ""
    return InputError(FILESYSTEM_ERROR, f"{exc.strerror or type(exc).__name__}{where}")


def print_json(data: Any) -> None:
    """Write exactly one JSON document to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def human(value: Any) -> str:
    """A value in plain words for human output: never Python's ``None``, dict or list reprs."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{k} {human(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(human(v) for v in value) or "none"
    return str(value)


def print_fields(data: Any, *, indent: str = "") -> None:
    """Print a mapping as ``name: value`` lines; nested mappings indented, lists of mappings one per line.

    Values are plain text (no Rich markup is read from them), and wrap rather than being cut.
    """
    from rich.text import Text

    for name, value in data.items():
        if isinstance(value, dict) and value:
            out_console.print(Text(f"{indent}{name}:", style="bold"))
            print_fields(value, indent=indent + "  ")
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value):
            out_console.print(Text(f"{indent}{name}:", style="bold"))
            for item in value:
                out_console.print(Text(f"{indent}  - {human(item)}"), soft_wrap=True)
        else:
            line = Text(f"{indent}{name}: ", style="bold")
            line.append(human(value), style="")
            out_console.print(line, soft_wrap=True)


def read_input(source: str) -> str:
    """Read a file path, or stdin for ``-``; InputError when it cannot be read.

    A PNG or JPEG image (a QR code written by ``--qr``, or a photo of one) is read as the text of
    its QR code (kaga_vc.verifier.qr.read_qr, zxing-cpp).
    """
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise InputError("PARSING_ERROR", f"cannot read {source}: {exc.strerror or exc}") from None
    from ..verifier.qr import is_qr_image

    if is_qr_image(data):
        from ..verifier.qr import read_qr

        return read_qr(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("PARSING_ERROR", f"cannot read {source}: not UTF-8 text nor a PNG/JPEG QR code") from None


def read_password(password_file: Path | None, *, confirm: bool = False, prompt: str = "Keystore password") -> str:
    """The keystore password: from a file, ``$KAGA_VC_PASSWORD``, or an interactive prompt.

    Never from an option value, which would end up in shell history.
    """
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise InputError("PARSING_ERROR", f"cannot read password file: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise InputError("PARSING_ERROR", "the password file is not UTF-8 text") from None
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    file_env = os.environ.get(PASSWORD_FILE_ENV)
    if file_env:
        return read_password(Path(file_env))
    if not sys.stdin.isatty():
        raise InputError(
            "kaga:password-required",
            f"no password: use --password-file, set {PASSWORD_ENV} or {PASSWORD_FILE_ENV}, or run in a terminal",
        )
    import typer

    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))
