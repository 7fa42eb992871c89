"""The CLI end to end as a user runs it. A project with a server asks the de_services fixtures
for it (`postgres_url`, `kafka_bootstrap`, ...): they start it, or fail under CI=true."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from {{name}} import jobs

pytestmark = pytest.mark.integration


def test_count_over_a_generated_file_matches_its_lines(tmp_path: Path) -> None:
    data = jobs.sample(tmp_path / "sample.log", 5_000, seed=1)
    res = subprocess.run(
        [sys.executable, "-m", "{{name}}", "count", str(data), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["records_in"] == data.read_bytes().count(b"\n") == 5_000
    assert summary["records_rejected"] == len((tmp_path / "rejects.jsonl").read_text().splitlines())
