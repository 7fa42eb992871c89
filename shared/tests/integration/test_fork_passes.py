"""A fork of one project passes its own `nox` in a folder of its own: the wiring a forker relies on.

The fastest project stands in for all here (every fork runs the same shared checks plus its own
project's session, which the monorepo's run has just passed); `nox -s forks` runs this for every
project (about five minutes each on two cores).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "noxfile.py").exists())
PROJECTS = sorted(p.parent.name for p in ROOT.glob("projects/*/pyproject.toml"))


def _nox(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        [sys.executable, "-m", "nox", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PATH": path},
        timeout=1800,
        check=False,
    )


@pytest.mark.timeout(1800)
def test_a_fork_passes_its_own_nox(tmp_path: Path) -> None:
    name = "log_analyzer" if "log_analyzer" in PROJECTS else PROJECTS[0]
    fork = tmp_path / name
    made = _nox("-s", "fork", "--", name, str(fork), cwd=ROOT)
    assert made.returncode == 0, made.stderr[-3000:]
    assert f'project = "{name}"' in (fork / ".fork.toml").read_text()
    # The fork's own copy of this test would fork again: the inner run leaves it out.
    checked = _nox("--", "-k", "not test_a_fork_passes_its_own_nox", cwd=fork)
    assert checked.returncode == 0, (checked.stdout + checked.stderr)[-5000:]
    # Its default sessions are its own code: the library it carries and the project.
    ran = re.findall(r"^nox > \* (\S+): success", checked.stderr, flags=re.M)
    assert ran == ["shared", name], checked.stderr[-2000:]
