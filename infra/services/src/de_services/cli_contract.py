"""The CLI contract every project's own test suite runs against its own CLI.

A project subclasses `CliContract` in `tests/unit/test_cli_contract.py` and says how to run one job
without a service, which setting to break, which secret to set and which input to miss; pytest then
collects the checks below for it::

    class TestCliContract(CliContract):
        module = "log_analyzer"
        job = ("generate", "{tmp}/logs", "--lines", "50")
        bad_setting = ("LOG_ANALYZER_WORKERS", "many")
        missing_input = ("analyze", "{tmp}/missing.log")

`{tmp}` in an argument becomes the test's temporary folder (also the working directory).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import click

# Only projects run this module, and every project installs de-common.
from de_common.run import STANDARD_KEYS


class CliContract:
    """Checks any project CLI built on de_common must pass."""

    module: ClassVar[str]
    job: ClassVar[Sequence[str]]
    bad_setting: ClassVar[tuple[str, str]]
    missing_input: ClassVar[Sequence[str]]
    secret: ClassVar[tuple[str, str] | None] = None
    env: ClassVar[dict[str, str]] = {}

    def cli(
        self, tmp: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `python -m <module> ARGS` as a user would, in `tmp`, with `{tmp}` filled in."""
        argv = [a.replace("{tmp}", str(tmp)) for a in args]
        return subprocess.run(
            [sys.executable, "-m", self.module, *argv],
            capture_output=True,
            text=True,
            cwd=tmp,
            env={**os.environ, **self.env, **(env or {})},
            timeout=300,
            check=False,
        )

    def commands(self) -> list[str]:
        group = importlib.import_module(f"{self.module}.cli").cli
        assert isinstance(group, click.Group)
        return sorted(group.commands)

    def test_help_works_for_every_command(self, tmp_path: Path) -> None:
        top = self.cli(tmp_path, "--help")
        assert top.returncode == 0, top.stderr
        for command in self.commands():
            res = self.cli(tmp_path, command, "--help")
            assert res.returncode == 0, f"{command} --help: {res.stderr}"
            assert "Usage:" in res.stdout

    def test_a_bad_setting_exits_2_with_one_line_naming_the_env_var(self, tmp_path: Path) -> None:
        name, value = self.bad_setting
        res = self.cli(tmp_path, "config", env={name: value})
        assert res.returncode == 2, res.stdout + res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and name in lines[0], lines
        assert "Traceback" not in res.stderr

    def test_config_masks_secrets(self, tmp_path: Path) -> None:
        if self.secret is None:
            res = self.cli(tmp_path, "config")
            assert res.returncode == 0, res.stderr
            assert isinstance(json.loads(res.stdout), dict)
            return
        name, value = self.secret
        res = self.cli(tmp_path, "config", env={name: value})
        assert res.returncode == 0, res.stderr
        assert value not in res.stdout + res.stderr
        assert "**********" in res.stdout

    def test_json_prints_exactly_one_balanced_summary(self, tmp_path: Path) -> None:
        res = self.cli(tmp_path, *self.job, "--json")
        assert res.returncode == 0, res.stderr
        summary = json.loads(res.stdout)  # exactly one object: anything else fails to parse
        assert isinstance(summary, dict)
        assert list(summary)[: len(STANDARD_KEYS)] == list(STANDARD_KEYS)
        assert summary["status"] == "ok"
        skipped = sum(summary["records_skipped"].values())
        assert summary["records_in"] == (
            summary["records_out"] + summary["records_rejected"] + skipped
        )
        assert summary["records_in"] > 0

    def test_a_missing_input_exits_2_without_a_traceback(self, tmp_path: Path) -> None:
        res = self.cli(tmp_path, *self.missing_input)
        assert res.returncode == 2, res.stdout + res.stderr
        assert "Traceback" not in res.stderr
        assert res.stderr.strip().splitlines()[-1].startswith("error: ")
