"""The CLI as a user runs it: a run SIGKILLed between its outputs, then rerun to the exact result."""

from __future__ import annotations

from pathlib import Path

import pytest

from de_services.testing import fault_env

from .conftest import LAST, START, assert_matches, cli, expected, parquet_daily, summary_of

pytestmark = pytest.mark.integration


def test_a_run_killed_between_outputs_is_made_whole_by_a_rerun(
    landing: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    args = ["run", "--source", str(landing), "--output", str(lake)]
    args += ["--from", START.isoformat(), "--to", LAST.isoformat(), "--master", "local[2]"]

    killed = cli(*args, env=fault_env("run.after_trips"))

    assert killed.returncode == -9, killed.stderr[-2000:]
    assert any(lake.glob("trips/date=*/*.parquet")) and not (lake / "daily").exists()

    summary = summary_of(cli(*args))

    want = expected(landing)
    assert_matches(summary, want)
    assert parquet_daily(lake) == want.daily
    assert all(check["ok"] for check in summary["quality"])


def test_a_missing_landing_zone_is_one_error_line(tmp_path: Path) -> None:
    res = cli("run", "--source", str(tmp_path / "nowhere"), "--output", str(tmp_path / "lake"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert (
        res.stderr.strip().splitlines()[-1] == f"error: input not found: {tmp_path}/nowhere/trips"
    )
