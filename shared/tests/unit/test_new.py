"""`nox -s new` writes an eleventh project in the shape, and that project's own session passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "noxfile.py").exists())
SKIP = shutil.ignore_patterns(
    ".git", ".nox", ".venv", ".state", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"
)


def nox(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # uv (from this venv) must be on PATH for the sessions that call it.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        [sys.executable, "-m", "nox", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PATH": path},
        timeout=600,
    )


def test_new_project_is_complete_and_its_session_passes(tmp_path: Path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=SKIP)

    made = nox("-s", "new", "--", "line_counter", "Counts lines.", cwd=repo)

    assert made.returncode == 0, made.stderr
    project = repo / "projects" / "line_counter"
    for part in (
        "pyproject.toml", "uv.lock", "README.md", "Dockerfile", "bench/run.py",
        "src/line_counter/cli.py", "src/line_counter/config.py", "src/line_counter/jobs.py",
        "tests/unit/test_cli_contract.py", "tests/integration/test_end_to_end.py",
    ):  # fmt: skip
        assert (project / part).is_file(), part
    assert (repo / ".github" / "workflows" / "ci-line_counter.yml").is_file()
    assert "USER app" in (project / "Dockerfile").read_text()
    readme = (project / "README.md").read_text()
    for section in (
        "What it shows",
        "Run it",
        "Configure it",
        "Guarantees",
        "Benchmarks",
        "Fork it",
    ):
        assert f"## {section}" in readme

    checked = nox("-s", "line_counter", cwd=repo)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert "Session line_counter was successful" in checked.stderr

    bench = nox("-s", "bench", "--", "line_counter", cwd=repo)
    assert bench.returncode == 0, bench.stderr[-3000:]
    assert "ratio" in bench.stdout + bench.stderr


def test_new_refuses_an_existing_name(tmp_path: Path):
    res = nox("-s", "new", "--", "shared", cwd=ROOT)
    assert res.returncode != 0
    assert "a new lowercase snake_case name" in res.stderr
