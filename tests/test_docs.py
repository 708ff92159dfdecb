"""The README's two commands exist and CI runs exactly the test command."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest

from helpline.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def test_readme_shows_both_commands() -> None:
    """The README names scripts/run and scripts/test."""
    readme = (ROOT / "README.md").read_text()
    assert "scripts/run" in readme and "scripts/test" in readme


def test_scripts_are_executable() -> None:
    """The README's commands and CI's entry point can be run as they are written."""
    for script in ("scripts/run", "scripts/test", "scripts/bootstrap", ".ci/run"):
        assert os.access(ROOT / script, os.X_OK), script


def test_ci_runs_the_test_script_and_nothing_else() -> None:
    """.ci/run calls scripts/test and no other command."""
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == "exec scripts/test"
    assert all(c.startswith(("set ", "cd ", "exec scripts/test")) for c in commands)


def documented_commands() -> list[list[str]]:
    """Every `helpline …` command in the README's table, alternatives (a\\|b) expanded."""
    commands = []
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"^\| `helpline ([^`]+)`", line)
        if not match:
            continue
        words = []
        for word in match.group(1).split():
            if word.startswith(("-", "[")) or word.isupper():
                break
            words.append(word.split("\\|"))
        commands.extend([list(c) for c in itertools.product(*words)])
    return commands


def test_every_documented_command_exists() -> None:
    """Each `helpline …` command in the README's table is a real subcommand."""
    commands = documented_commands()
    assert ["user", "add"] in commands and ["audit", "verify"] in commands
    parser = build_parser()
    for command in commands:
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([*command, "--help"])
        assert exit_.value.code == 0, command
