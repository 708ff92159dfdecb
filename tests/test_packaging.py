"""A plain (not editable) `pip install .` ships what `helpline` reads at run time, and finds it there.

The wheel is built from a copy of the source tree, with no network (``--no-build-isolation --no-index``), and
run from a directory of its own, away from any source tree: `helpline init` makes an instance with it, and the
settings it loads name the default configuration, the risk lexicon and the prototypes inside the package.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_FILES = ("default.toml", "risk-lexicon.toml", "risk-prototypes.toml")

# Run with the unpacked wheel first on the path: `helpline init`, then the settings the instance loads.
INSTALLED_RUN = """
import json, sys
from pathlib import Path
import helpline
from helpline.app import build
from helpline.cli import main
from helpline.settings import default_config_path, load
assert main(["init", "--data-dir", "var"]) == 0
settings = load(Path("var/helpline.toml"), {})
build(settings)
guard = settings.safeguarding
print(json.dumps({
    "package": helpline.__file__,
    "default": str(default_config_path()),
    "lexicon": str(guard.lexicon_file),
    "prototypes": str(guard.prototypes_file),
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel --no-deps` builds from a copy of this source tree."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "helpline", source / "helpline", symlinks=True, ignore=skip)
    shutil.copytree(ROOT / "config", source / "config")
    dist = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    built_by = [*command, "--wheel-dir", str(dist), str(source)]
    subprocess.run(built_by, check=True, capture_output=True, timeout=300)  # noqa: S603 - this Python's pip, fixed arguments
    [built] = dist.glob("helpline-*.whl")
    return built


def test_the_wheel_holds_the_default_configuration(wheel: Path) -> None:
    """Every file in config/ is in the wheel, byte for byte, as helpline/config/."""
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name: archive.read(name) for name in archive.namelist() if name.startswith("helpline/config/")}
    expected = {f"helpline/config/{path.name}": path.read_bytes() for path in sorted((ROOT / "config").iterdir())}
    assert set(expected) >= {f"helpline/config/{name}" for name in RUNTIME_FILES}
    assert shipped == expected


def test_an_installed_helpline_finds_its_configuration(wheel: Path, tmp_path: Path) -> None:
    """From the unpacked wheel, `helpline init` works and the settings name the files inside the package."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    environ = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(site)}
    done = subprocess.run(  # noqa: S603 - this Python, our own fixed script
        [sys.executable, "-c", INSTALLED_RUN],
        check=False,
        cwd=work,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    package = site / "helpline"
    assert Path(found["package"]).parent == package  # the wheel's copy, not the source tree's
    assert Path(found["default"]) == package / "config" / "default.toml"
    assert Path(found["lexicon"]) == package / "config" / "risk-lexicon.toml"
    assert Path(found["prototypes"]) == package / "config" / "risk-prototypes.toml"
    assert (work / "var" / "helpline.toml").is_file()
