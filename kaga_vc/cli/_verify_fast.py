"""``kaga-vc verify … --bundle …`` without typer: the offline verifier's cold start (README "Cold start").

Importing typer, click and Rich costs a shop's verifier more than the verification itself, so
:func:`kaga_vc.cli.main` hands a ``verify`` command line that names a ``--bundle`` here first. This
parser knows only the offline options and is deliberately strict: anything it is not sure of (an
option it does not know, a chain option, ``--help``, a value that looks like an option, a number
click would parse differently, a path click would refuse, a usage error) makes :func:`run` return
None before anything is read, and the full typer command then parses the same command line and
reports, exactly as it always has. What runs is :func:`kaga_vc.cli._verify_run.run_verify`, the
typer command's own body. ``tests/test_cli_cold_start.py`` checks this table against the typer
command's options and compares both entries' output.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

# option → (parameter of run_verify, kind); kinds: str, int, flag, multi (repeatable str), path, password
OPTIONS: dict[str, tuple[str, str]] = {
    "--challenge": ("challenge", "str"),
    "--domain": ("domain", "str"),
    "--now": ("now", "str"),
    "--max-clock-skew": ("max_clock_skew", "int"),
    "--request": ("request", "str"),
    "--bundle": ("bundle", "str"),
    "--policy": ("policy", "str"),
    "--city": ("city", "str"),
    "--trust-any-city": ("trust_any_city", "flag"),
    "--status-lists": ("status_lists", "str"),
    "--verifier-key": ("verifier_key", "path"),
    "--log": ("log", "str"),
    "--category": ("category", "str"),
    "--no-log": ("no_log", "flag"),
    "--password-file": ("password_file", "password"),
    "--type": ("required_type", "str"),
    "--format": ("formats", "multi"),
    "--json": ("as_json", "flag"),
}
# the typer command's other options: they go online (a chain, did:web) or show help: the full CLI takes them
FULL_CLI_ONLY = ("--rpc-url", "--registry", "--chain-id", "--embedded-chain", "--anchor-proof", "--did-web",
                 "--allow-private-address", "--help")


def parse(argv: list[str]) -> dict[str, Any] | None:
    """The keyword arguments of ``run_verify`` for ``argv`` (after ``verify``), or None: not for this parser."""
    values: dict[str, Any] = {}
    files: list[str] = []
    rest = list(argv)
    while rest:
        token = rest.pop(0)
        if token == "-" or not token.startswith("-"):
            files.append(token)
            continue
        name, has_value, value = token.partition("=")
        spec = OPTIONS.get(name)
        if spec is None:
            return None
        key, kind = spec
        if kind == "flag":
            if has_value:
                return None
            values[key] = True
            continue
        if not has_value:
            if not rest or rest[0].startswith("-"):
                return None
            value = rest.pop(0)
        if kind == "multi":
            values.setdefault(key, []).append(value)
        elif kind == "int":
            if not (value.isascii() and value.isdigit()):
                return None
            values[key] = int(value)
        elif kind == "path":
            if Path(value).is_dir():  # click's dir_okay=False
                return None
            values[key] = Path(value)
        elif kind == "password":
            if not Path(value).is_file():  # click's exists=True, dir_okay=False
                return None
            values[key] = Path(value)
        else:
            values[key] = value
    if len(files) != 1 or values.get("bundle") is None:
        return None
    return {"file": files[0], **values}


def run(argv: list[str]) -> int | None:
    """Run the offline verify for ``argv`` (after ``verify``): its exit code, or None to use the full CLI."""
    options = parse(argv)
    if options is None:
        return None
    from ._lean_imports import install

    install()  # pyld without its network and HTML machinery (this process only)
    from ..errors import KagaError
    from ._output import internal_error, os_error, report_error
    from ._verify_run import UsageProblem, run_verify

    as_json = bool(options.get("as_json"))
    try:
        return int(run_verify(**options))
    except UsageProblem:  # raised before anything is read: the full CLI reports it
        return None
    except KagaError as error:  # the typer command's error boundary (kaga_vc.cli._common.error_boundary)
        return int(report_error(error, as_json=as_json))
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise
        return int(report_error(os_error(exc), as_json=as_json))
    except Exception as exc:  # noqa: BLE001 - the root group's boundary of last resort (KagaGroup)
        return int(internal_error(exc, as_json=as_json))
