"""`nox -s fork` writes a standalone repository of one project that keeps working on its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "noxfile.py").exists())


def nox(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nox", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_fork_keeps_one_project_and_its_wiring(tmp_path: Path):
    project = sorted(p.parent.name for p in ROOT.glob("projects/*/pyproject.toml"))[0]
    dest = tmp_path / "fork"

    res = nox("-s", "fork", "--", project, str(dest), cwd=ROOT)

    assert res.returncode == 0, res.stderr
    assert [p.name for p in (dest / "projects").iterdir()] == [project]
    assert (dest / "shared" / "src" / "de_common" / "cli.py").is_file()
    assert (dest / ".git").is_dir()
    for lock in ("uv.lock", "shared/uv.lock", f"projects/{project}/uv.lock"):
        assert (dest / lock).read_bytes() == (ROOT / lock).read_bytes(), lock
    wfs = sorted(p.name for p in (dest / ".github" / "workflows").iterdir())
    expected = [
        "_project.yml",
        "ci-infra.yml",
        "ci-shared.yml",
        "ci-showcase.yml",
        f"ci-{project}.yml",
    ]
    assert wfs == sorted(expected)
    listed = nox("-l", cwd=dest)
    assert listed.returncode == 0, listed.stderr
    sessions = {line.split()[1] for line in listed.stdout.splitlines() if line[:2] in ("* ", "- ")}
    assert project in sessions
    others = {p.parent.name for p in ROOT.glob("projects/*/pyproject.toml")} - {project}
    assert not sessions & others


def test_fork_refuses_a_non_empty_destination(tmp_path: Path):
    (tmp_path / "x").write_text("keep me")
    project = sorted(p.parent.name for p in ROOT.glob("projects/*/pyproject.toml"))[0]
    res = nox("-s", "fork", "--", project, str(tmp_path), cwd=ROOT)
    assert res.returncode != 0
    assert "is not empty" in res.stderr
    assert (tmp_path / "x").read_text() == "keep me"
