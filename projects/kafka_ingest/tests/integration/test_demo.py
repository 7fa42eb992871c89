"""The showcase command end to end: the balance holds and the replay stores nothing twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import cli_env, run_cli

pytestmark = pytest.mark.integration


def test_demo_accounts_for_every_record(kafka_bootstrap: str, tmp_path: Path) -> None:
    summary = run_cli(
        ["demo", "--events", "2000", "--output-dir", "out"], cli_env(kafka_bootstrap), tmp_path
    )
    assert summary["records_in"] == summary["records_out"] + summary["records_rejected"]
    assert summary["records_skipped"] == {"duplicate": 0, "undelivered": 0}
    assert (summary["rejected_at_producer"], summary["dlq_at_consumer"]) == (40, 3)
    assert summary["parquet_rows"] == summary["produced"] == 1960
    assert summary["replay_written"] == 0 and summary["replay_duplicates_skipped"] == 1960
    assert summary["exactly_once"] is True
    # The showcase's figure tells the same story as the counts.
    bars = summary["figure"]["bars"]
    stored = (bars["produced"], bars["in Parquet"], bars["stored again by the replay"])
    assert stored == (1960, 1960, 0)
    assert Path(summary["output"]).is_dir()
