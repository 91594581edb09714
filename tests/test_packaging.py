"""The install: exact versions from the lock, one version string, the `ilmasto` command, setup run once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot import __version__
from bot.cli import COMMANDS
from bot.settings import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROFILES = {"app": (), "dev": ("dev", "st", "llm", "bench")}  # as scripts/lock.sh and scripts/setup.sh lock them


def locked(profile: str) -> dict[str, str]:
    """name -> exact version in requirements/<profile>.txt."""
    text = (PROJECT_ROOT / "requirements" / f"{profile}.txt").read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


@pytest.mark.parametrize("profile", list(PROFILES))
def test_the_lock_pins_every_dependency_of_its_profile_within_pyproject(profile):
    """Fails when a dependency is added to pyproject.toml without running scripts/lock.sh."""
    pins = locked(profile)
    wanted = [*PYPROJECT["project"]["dependencies"],
              *(dep for extra in PROFILES[profile] for dep in PYPROJECT["project"]["optional-dependencies"][extra])]
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if name == "torch":  # left to pip on purpose: it takes the machine's build of the pinned version
            continue
        assert name in pins, f"{name} is not in requirements/{profile}.txt: run bash scripts/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])


def test_the_app_lock_has_the_same_versions_as_the_dev_lock():
    dev = locked("dev")
    assert {name: version for name, version in locked("app").items() if dev.get(name) != version} == {}


def test_one_version_string_and_the_console_command():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bot.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert project["scripts"] == {"ilmasto": "bot.cli:main"}
    assert set(COMMANDS) == {"ingest", "search", "ask", "serve", "report"}
    assert isinstance(project["license"], str)  # an SPDX expression: the table form is deprecated


def test_benchmark_only_packages_are_not_installed_with_the_app():
    base = {canonicalize_name(Requirement(d).name) for d in PYPROJECT["project"]["dependencies"]}
    assert not base & {"langchain-chroma", "langchain-text-splitters"}
    assert not {"langchain-chroma", "langchain-text-splitters"} & set(locked("app"))


def test_scripts_import_the_installed_package():
    editing = re.compile(r"sys\.path\.(insert|append|extend)|sys\.path\s*(\[|\+?=)")
    edits = [p.name for p in (PROJECT_ROOT / "scripts").glob("*.py") if editing.search(p.read_text(encoding="utf-8"))]
    assert edits == []


def test_setup_installs_from_the_lock_once_and_again_only_when_it_changes(tmp_path):
    """setup.sh with a stand-in python that records what it was asked to run."""
    for name in ("scripts/setup.sh", "pyproject.toml", "requirements/app.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    calls = tmp_path / "calls.log"
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n', encoding="utf-8")
    python.chmod(0o755)

    def setup() -> list[str]:
        subprocess.run(["bash", str(tmp_path / "scripts" / "setup.sh")], check=True, timeout=60,
                       env={**os.environ, "PYTHON": "false"})
        return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []

    assert setup() == ["-m pip install -q -r requirements/app.txt -e ."]
    assert len(setup()) == 1  # the second run (test.sh after .ci/run, start.sh after start.sh) installs nothing
    with (tmp_path / "requirements" / "app.txt").open("a") as lock:
        lock.write("# relocked\n")
    assert len(setup()) == 2
