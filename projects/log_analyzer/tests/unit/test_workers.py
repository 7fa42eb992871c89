"""Default workers: the CPUs the process may use (its affinity), overridable; bounded in flight."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from log_analyzer import config, pipeline
from log_analyzer.aggregate import Aggregate
from log_analyzer.config import LogAnalyzerSettings, available_cpus
from log_analyzer.formats import BUILTIN
from log_analyzer.pipeline import Options, Unit, UnitResult
from log_analyzer.sources import Input

from de_common.config import with_overrides


def test_default_workers_follow_the_cpu_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_ANALYZER_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)  # online CPUs: not what counts
    assert available_cpus() == 3
    assert LogAnalyzerSettings().workers == 3
    assert Options().workers == 3
    assert with_overrides(LogAnalyzerSettings(), workers=1).workers == 1
    monkeypatch.setenv("LOG_ANALYZER_WORKERS", "2")
    assert LogAnalyzerSettings().workers == 2

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(200)))
    assert available_cpus() == config.MAX_WORKERS  # within the setting's bounds
    monkeypatch.delattr(os, "sched_getaffinity")  # no affinity call (macOS, Windows)
    assert available_cpus() == 8


@pytest.mark.skipif(not shutil.which("taskset"), reason="needs taskset (util-linux)")
def test_the_cli_default_is_the_affinity_it_runs_with(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LOG_ANALYZER_WORKERS"}

    def workers(*prefix: str) -> int:
        cmd = [*prefix, sys.executable, "-m", "log_analyzer", "config"]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
        return int(json.loads(out.stdout)["workers"])

    assert workers() == len(os.sched_getaffinity(0))
    assert workers("taskset", "-c", "0") == 1


def test_units_in_flight_are_bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Finished units wait to be merged in order: only a window of them may be submitted ahead,
    so memory does not grow with the number of units."""
    merged = 0
    ahead: list[int] = []
    lock = threading.Lock()

    def fake_run_unit(unit: Unit, *_: object) -> UnitResult:
        with lock:
            ahead.append(unit.index - merged)
        return UnitResult(unit.index, Aggregate(), end_offset=unit.start)

    monkeypatch.setattr(pipeline, "run_unit", fake_run_unit)
    source = Input(str(tmp_path / "x.log"), "")
    units = [
        Unit(i, 0, source, BUILTIN["combined"], None, 0, None, 1, False, False) for i in range(40)
    ]
    opts = Options(workers=3)
    seen = []
    for result in pipeline._execute(units, opts, str(tmp_path), None, lambda _: None):
        seen.append(result.index)
        merged += 1
    assert seen == list(range(40))
    assert max(ahead) <= 2 * opts.workers
