from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

APP = Path(__file__).with_name("demo_app.py")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No DEMO_ variables leak in, and the cwd (where .env is read) is an empty temp folder."""
    for key in list(os.environ):
        if key.startswith("DEMO_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run_app(clean_env: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run demo_app.py as its own process, the way a user runs a project CLI."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(APP), *args],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=clean_env,
            timeout=60,
        )

    return run
