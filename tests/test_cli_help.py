"""Every help page shows its text as written: no Rich markup, no emoji codes, examples copyable.

Rich markup used to turn ``:key:`` in ``did:key:z6Mk…`` into an emoji and would eat ``[…]``; the
CLI renders help as plain text (kaga_vc/cli/_common.py, ``_plain_help``).
"""

from __future__ import annotations

import re
import unicodedata

import pytest
import typer.main
from typer.testing import CliRunner

from kaga_vc.cli._app import app

runner = CliRunner()
ROOT = typer.main.get_command(app)


def _commands() -> list[tuple[tuple[str, ...], object]]:
    found, stack = [], [((), ROOT)]
    while stack:
        path, command = stack.pop()
        found.append((path, command))
        stack.extend(((*path, name), sub) for name, sub in getattr(command, "commands", {}).items())
    return found


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


COMMANDS = _commands()


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_help_is_shown_verbatim(path: tuple[str, ...], command: object) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert result.exit_code == 0, result.output
    shown = result.output
    assert not any(unicodedata.category(ch) == "So" for ch in shown), "a symbol (emoji?) in the help"
    flat = _flat(shown)
    # every example line of the docstring, verbatim on one line (copyable), and every option's help
    for line in (getattr(command, "help", None) or "").splitlines():
        if line.startswith("Example"):
            assert line in shown.splitlines() or ("  " + line) in shown.splitlines(), line
    for param in getattr(command, "params", []):
        text = getattr(param, "help", None)
        if text:
            assert _flat(text) in flat, (param.name, text)


def test_did_key_examples_survive() -> None:
    shown = runner.invoke(app, ["issue", "kyc", "--help"]).output
    assert "--subject did:key:z6Mk…" in shown
    assert "\N{KEY}" not in shown
