"""Benchmark verdicts: the ratio's direction, the target, and the saved file."""

from __future__ import annotations

import json
from pathlib import Path

from de_common.benchmarks import Comparison, write_results


def test_rate_targets_need_a_higher_ratio_and_time_targets_a_lower_one() -> None:
    rate = Comparison("append", "rows/s", 92.0, "psql \\copy", 100.0, target=0.85)
    assert round(rate.ratio, 2) == 0.92 and rate.met
    slow = Comparison("append", "rows/s", 80.0, "psql \\copy", 100.0, target=0.85)
    assert not slow.met
    time = Comparison("report", "s", 88.0, "DuckDB", 100.0, target=1.0, better="lower")
    assert time.met
    assert not Comparison("report", "s", 120.0, "DuckDB", 100.0, target=1.0, better="lower").met


def test_results_file_holds_the_verdicts_the_input_and_the_machine(tmp_path: Path) -> None:
    comparisons = [
        Comparison("consumer", "msg/s", 145012, "Quix Streams", 47934, target=3.0),
        Comparison("producer", "msg/s", 60000, "Quix Streams", 46500, target=2.0),
    ]
    path = tmp_path / "bench" / "results.json"
    write_results(path, "kafka_ingest", comparisons, data="500,000 events", command="nox -s bench")
    saved = json.loads(path.read_text())
    assert saved["project"] == "kafka_ingest" and saved["data"] == "500,000 events"
    assert [c["met"] for c in saved["comparisons"]] == [True, False]
    assert saved["comparisons"][0]["ratio"] == 3.025
    assert saved["machine"]["cpus"] >= 1 and "load_1m" in saved["machine"]
