"""Every ``kaga-vc …`` line in the README's shell blocks names a real command and only its real options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main

from kaga_vc.cli._app import app

README = Path(__file__).resolve().parent.parent / "README.md"


def _shell_lines() -> list[str]:
    """The ``kaga-vc`` invocations of the README's ``sh`` blocks, continuation lines joined."""
    lines: list[str] = []
    in_block = False
    pending = ""
    for raw in README.read_text(encoding="utf-8").splitlines():
        if raw.startswith("```"):
            in_block = raw.strip() in ("```sh", "```bash", "```console") and not in_block
            pending = ""
            continue
        if not in_block:
            continue
        line = pending + " " + raw.strip() if pending else raw.strip()
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        pending = ""
        for part in re.split(r"&&|;|\|", line.split(" # ")[0].split("  #")[0]):
            part = part.strip()
            if part.startswith("kaga-vc"):
                lines.append(part)
    # and the inline code spans of the prose: `kaga-vc city init`, `kaga-vc log export --anonymized …`
    for span in re.findall(r"`(kaga-vc [^`]+)`", README.read_text(encoding="utf-8")):
        lines.extend(p.strip() for p in re.split(r"&&|;|\|", span) if p.strip().startswith("kaga-vc"))
    return lines


def _resolve(words: list[str]) -> tuple[list[str], object, list[str]]:
    command: object = typer.main.get_command(app)
    path: list[str] = []
    rest = list(words)
    while rest and getattr(command, "commands", None) and rest[0] in command.commands:  # type: ignore[attr-defined]
        path.append(rest[0])
        command = command.commands[rest.pop(0)]  # type: ignore[attr-defined]
    return path, command, rest


LINES = _shell_lines()


def test_the_readme_has_commands() -> None:
    assert len(LINES) > 40


def test_the_first_two_lines_are_install_and_test() -> None:
    text = README.read_text(encoding="utf-8").splitlines()
    block = text[text.index("```sh") + 1:text.index("```sh") + 3]
    assert block[0].startswith("python3 -m venv .venv && . .venv/bin/activate && pip install . && kaga-vc demo")
    assert block[1].startswith("bash scripts/test.sh")


@pytest.mark.parametrize("line", ["kaga-vc log show --verbose", "kaga-vc log shows", "kaga-vc log", "kaga-vc --frobnicate"])
def test_a_wrong_line_is_caught(line: str) -> None:
    with pytest.raises(AssertionError):
        test_readme_command_exists_with_its_options(line)


@pytest.mark.parametrize("line", LINES)
def test_readme_command_exists_with_its_options(line: str) -> None:
    # brackets mark optional parts; ellipses and placeholders are words like any other
    words = shlex.split(line.replace("[", " ").replace("]", " "), posix=True)[1:]
    path, command, rest = _resolve(words)
    if not path and words and words[0] in ("--help", "--version"):  # the root's own options
        root = typer.main.get_command(app)
        assert words[0] == "--help" or any(words[0] in p.opts for p in root.params), f"{line}: no root option"
        return
    assert path, f"no such command: {line}"
    if rest == ["…"] and getattr(command, "commands", None):  # `kaga-vc key …`: any command of the group
        return
    assert not getattr(command, "commands", None), f"{line}: {' '.join(path)} is a group, not a command"
    options = {opt for param in command.params for opt in param.opts if opt.startswith("-")}  # type: ignore[attr-defined]
    options |= {"--help"}
    used = [w.split("=", 1)[0] for w in rest if w.startswith("--")]
    unknown = [o for o in used if o not in options]
    assert not unknown, f"{line}: {' '.join(path)} has no option {unknown}"
