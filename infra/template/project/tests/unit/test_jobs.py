"""The count job accounts for every line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from {{name}} import jobs
from {{name}}.config import {{Name}}Settings


def test_count_skips_empty_and_quarantines_bad_lines(tmp_path: Path) -> None:
    data = tmp_path / "in.log.gz"
    data.write_bytes(gzip.compress(b"a\n\nb \xff\nc\n"))
    settings = {{Name}}Settings(quarantine=tmp_path / "rejects.jsonl")

    summary = jobs.count(settings, [str(data)])

    assert (summary.records_in, summary.records_out, summary.records_rejected) == (4, 2, 1)
    assert summary.records_skipped == {"empty": 1}
    (reject,) = [json.loads(line) for line in settings.quarantine.read_text().splitlines()]
    assert reject["line"] == 3 and "utf-8" in reject["reason"]
