"""The README's commands exist, CI runs exactly the test command, and every setting the docs name is real."""

from __future__ import annotations

import itertools
import os
import re
import tomllib
from pathlib import Path

import pytest

from helpline.audit.events import Action
from helpline.cli import build_parser
from helpline.settings import known_settings

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


KNOWN = known_settings()
# A setting as the docs name it: `section.key` (not part of a host name or a path), or HELPLINE_SECTION__KEY.
DOTTED = re.compile(rf"(?<![\w./:-])({'|'.join(KNOWN)})\.([a-z][a-z0-9_]*)(?![\w./-])")
ENVIRONMENT = re.compile(r"HELPLINE_([A-Z]+)__([A-Z0-9_]+)")
TOML_BLOCK = re.compile(r"```toml\n(.*?)```", re.DOTALL)


def named_settings(text: str) -> set[tuple[str, str]]:
    """Every (section, key) a document names: in its inline code, its environment examples and its TOML blocks."""
    named = {
        (match.group(1), match.group(2)) for code in re.findall(r"`([^`\n]+)`", text) for match in DOTTED.finditer(code)
    }
    named |= {(section.lower(), key.lower()) for section, key in ENVIRONMENT.findall(text) if section != "SECTION"}
    for block in TOML_BLOCK.findall(text):
        for section, values in tomllib.loads(block).items():
            named |= {(section, key) for key in values}
    return named


@pytest.mark.parametrize("document", ["README.md", "SECURITY.md"])
def test_every_setting_the_docs_name_exists(document: str) -> None:
    """Each setting a document names (`section.key`, HELPLINE_…__…, TOML examples) is known to the loader."""
    named = named_settings((ROOT / document).read_text())
    assert len(named) > 5, "the pattern found almost nothing: check it"
    audited = {action.value for action in Action}  # audit actions are dotted too (`auth.account_locked`)
    unknown = sorted(
        f"{section}.{key}"
        for section, key in named
        if key not in KNOWN.get(section, set()) and f"{section}.{key}" not in audited
    )
    assert unknown == [], f"{document} names settings the loader does not know: {unknown}"
