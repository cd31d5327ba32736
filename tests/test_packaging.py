"""`pip install .` (pyproject.toml [project]): the same dependencies as requirements.txt, every package and
every resource file in the wheel, and the two commands pointing at real entry points. (The install itself in a
fresh venv is in the README's "Install as a package".)"""
from __future__ import annotations

import fnmatch
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def requirement_lines(path: Path) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("-")}


def test_dependencies_are_those_of_requirements_txt() -> None:
    assert set(PYPROJECT["project"]["dependencies"]) == requirement_lines(REPO / "requirements.txt")
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"


def test_every_folder_of_python_code_is_an_installed_package() -> None:
    found = set(find_packages(str(REPO), include=PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]))
    code_folders = {
        ".".join(p.parent.relative_to(REPO).parts)
        for top in ("core", "gui", "models", "resources")
        for p in (REPO / top).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert code_folders - found == set(), "folders of code that `pip install .` would leave out (no __init__.py?)"
    assert not any(name.startswith(("tests", "bench", "build_scripts")) for name in found)


def test_every_resource_file_is_package_data() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["resources"]
    root = REPO / "resources"
    files = [p.relative_to(root).as_posix() for p in root.rglob("*")
             if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert "icon/sonoclick-256.png" in files
    assert [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)] == []


@pytest.mark.parametrize("command, target", [("sonoclick", "gui.app:run"), ("sonoclick-cli", "core.cli:main")])
def test_the_commands_point_at_the_app_and_the_cli(command: str, target: str) -> None:
    assert PYPROJECT["project"]["scripts"][command] == target
    module, function = target.split(":")
    assert callable(getattr(importlib.import_module(module), function))


def test_the_cli_command_lists_the_labels_options(capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["labels", "--help"])
    assert exit_info.value.code == 0 and "--jitter" in capsys.readouterr().out


def test_python_m_core_still_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "core", "labels", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "--jitter" in done.stdout, done.stderr
