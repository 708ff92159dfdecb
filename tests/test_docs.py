"""The README's two commands exist and CI runs exactly the test command."""

from __future__ import annotations

import os
from pathlib import Path

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


def test_every_documented_command_exists() -> None:
    """Each `helpline …` command in the README's table is a real subcommand."""
    parser = build_parser()
    for command in (["init", "--help"], ["serve", "--help"], ["user", "add", "--help"], ["simulate", "sms", "--help"]):
        try:
            parser.parse_args(command)
        except SystemExit as exit_:
            assert exit_.code == 0, command
