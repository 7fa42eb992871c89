"""Every installable unit installs from a checked-in lock that matches its pyproject."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "noxfile.py").exists())
PROJECTS = sorted(p.parent for p in ROOT.glob("projects/*/pyproject.toml"))
UNITS = [ROOT, ROOT / "shared", ROOT / "infra" / "services", ROOT / "infra" / "showcase", *PROJECTS]
TOOL_LOCKS = ROOT / "infra" / "services" / "src" / "de_services" / "toolvenvs"


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert found, "uv is part of shared's dev group"
    return found


def lock_check(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [uv(), "lock", "--check", "--offline", "--project", str(unit)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.relative_to(ROOT).as_posix() or "root")
def test_lock_matches_its_pyproject(unit: Path):
    assert (unit / "uv.lock").is_file(), f"{unit}: no uv.lock (run `nox -s lock`)"
    res = lock_check(unit)
    assert res.returncode == 0, f"{unit}: {res.stderr} (run `nox -s lock`)"


def test_a_pyproject_changed_without_its_lock_fails_the_check(tmp_path: Path):
    project = PROJECTS[0]
    ignore = shutil.ignore_patterns(".nox", ".venv", "__pycache__")
    shutil.copytree(ROOT / "shared", tmp_path / "shared", ignore=ignore)
    shutil.copytree(ROOT / "infra" / "services", tmp_path / "infra" / "services", ignore=ignore)
    shutil.copytree(project, tmp_path / "projects" / project.name, ignore=ignore)
    pyproject = tmp_path / "projects" / project.name / "pyproject.toml"
    text = pyproject.read_text()
    dropped = re.search(r'^  "(?!de-common)[^"]+",\n', text, flags=re.MULTILINE)
    assert dropped, "the project has a dependency to drop"
    pyproject.write_text(text.replace(dropped.group(0), "", 1))

    res = lock_check(tmp_path / "projects" / project.name)

    assert res.returncode != 0
    assert "needs to be updated" in res.stderr


TOOL_SPECS = sorted([*TOOL_LOCKS.glob("*.in"), *ROOT.glob("projects/*/bench/*.in")])


@pytest.mark.parametrize("spec", TOOL_SPECS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_tool_lock_pins_what_its_input_names(spec: Path):
    pins = (spec.with_suffix(".txt")).read_text().splitlines()
    for line in spec.read_text().splitlines():
        wanted = line.split("#")[0].strip()
        if not wanted or wanted.startswith("-e "):
            assert wanted in ("", *pins), f"{spec.name}: {wanted} not in the lock (nox -s lock)"
            continue
        name, version = re.sub(r"\[.*\]", "", wanted).split("==")
        assert f"{name}=={version}" in pins, f"{spec.name}: {wanted} not in the lock (nox -s lock)"


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_dockerfile_installs_the_lock(project: Path):
    dockerfile = (project / "Dockerfile").read_text()
    assert (
        f"uv sync --locked --no-dev --no-editable --no-cache --project /app/projects/{project.name}"
        in dockerfile
    )
    assert "pip install /app" not in dockerfile
