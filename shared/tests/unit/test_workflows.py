"""The CI wiring stays in step with the repository: one valid workflow per package, filtered by path."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "noxfile.py").exists())
WORKFLOWS = ROOT / ".github" / "workflows"
PROJECTS = sorted(p.parent.name for p in ROOT.glob("projects/*/pyproject.toml"))
PACKAGES = {
    "shared": "shared",
    "infra": "infra",
    "showcase": "infra/showcase",
    **{p: f"projects/{p}" for p in PROJECTS},
}


def load(path: Path) -> dict[object, object]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_every_workflow_is_valid_against_the_github_schema():
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    exe = shutil.which("check-jsonschema") or str(
        Path(sys.executable).with_name("check-jsonschema")
    )
    res = subprocess.run(
        [exe, "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "ok -- validation done" in res.stdout


def test_every_package_has_a_workflow_and_every_workflow_a_package():
    have = {p.stem.removeprefix("ci-") for p in WORKFLOWS.glob("ci-*.yml")}
    assert have == set(PACKAGES)


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_workflow_runs_its_own_session_filtered_by_its_paths(name: str):
    wf = load(WORKFLOWS / f"ci-{name}.yml")
    on = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads the bare key `on` as True
    assert isinstance(on, dict)
    for event in ("push", "pull_request"):
        paths = set(on[event]["paths"])
        assert {f"{PACKAGES[name]}/**", "shared/**", "infra/**", "noxfile.py"} <= paths
        assert f".github/workflows/ci-{name}.yml" in paths
    job = wf["jobs"]["check"]  # type: ignore[index]
    assert job["uses"] == "./.github/workflows/_project.yml"
    assert job["with"]["project"] == name
    assert wf["concurrency"]["cancel-in-progress"] is True  # type: ignore[index]
    assert wf["permissions"] == {"contents": "read"}


def test_nox_lists_shared_and_every_project():
    res = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "-f", str(ROOT / "noxfile.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    listed = {line.split()[1] for line in res.stdout.splitlines() if line.startswith(("* ", "- "))}
    assert {"shared", "infra", "showcase", *PROJECTS} <= listed
