"""The launcher CLI without starting anything: help, usage errors, status of a fresh state folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from de_services import registry


def launcher(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DE_STATE_DIR": str(state)}
    return subprocess.run(
        [sys.executable, "-m", "de_services", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_help_lists_the_verbs_and_each_service_verb(tmp_path: Path):
    res = launcher("--help", state=tmp_path)
    assert res.returncode == 0, res.stderr
    for verb in ("up", "down", "status", "provision", "env", "measure"):
        assert verb in res.stdout
    for service in registry.services().values():
        for verb in service.commands:
            assert verb in res.stdout


def test_unknown_service_is_a_usage_error_on_one_line(tmp_path: Path):
    res = launcher("up", "mysql", state=tmp_path)
    assert res.returncode == 2
    assert "unknown service 'mysql'" in res.stderr
    assert "Traceback" not in res.stderr


def test_status_of_a_fresh_state_folder_reports_every_service_down(tmp_path: Path):
    res = launcher("status", "--json", state=tmp_path)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert list(report) == list(registry.services())
    assert not any(entry["running"] for entry in report.values())


@pytest.mark.parametrize("verb", ["down", "env"])
def test_verbs_on_nothing_running_do_nothing(verb: str, tmp_path: Path):
    res = launcher(verb, "postgres", state=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    assert not (tmp_path / "postgres" / "service.json").exists()
