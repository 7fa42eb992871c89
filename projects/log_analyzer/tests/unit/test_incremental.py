"""Incremental mode: only new lines are read; rotation and truncation are detected."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from log_analyzer import blocks, pipeline
from log_analyzer.formats import BUILTIN
from log_analyzer.pipeline import Options, analyze, commit
from log_analyzer.sources import Input, expand


def _lines(start: int, n: int) -> bytes:
    return b"".join(
        b'10.0.%d.%d - - [01/Jan/2024:00:%02d:%02d +0000] "GET /p/%d HTTP/1.1" 200 %d "-" "ua"\n'
        % (i % 200, i % 250, (i // 60) % 60, i % 60, i, i)
        for i in range(start, start + n)
    )


def _run(
    folder: Path, state: Path, *, workers: int = 1, commit_it: bool = True
) -> pipeline.RunResult:
    opts = Options(
        format_name="combined",
        state_path=state,
        rejects_path=folder / "rejects.jsonl",
        workers=workers,
        block_size=4096,
    )
    res = analyze(expand([str(folder / "access.log*")]), opts)
    if commit_it:
        commit(res, opts)
    return res


def _paths(res: pipeline.RunResult) -> set[str]:
    return {p for p, _ in res.agg.paths.counts.items()}


def test_incremental_across_rotation_and_truncation(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    state = tmp_path / "state.json"
    live = logs / "access.log"
    seen: set[str] = set()
    total = 0

    live.write_bytes(_lines(0, 3000))
    r = _run(logs, state)
    assert (r.parsed, r.rejected) == (3000, 0)
    seen |= _paths(r)
    total += r.parsed

    # appended lines and a half-written last line: only complete new lines count
    tail = _lines(3500, 1)
    with live.open("ab") as fh:
        fh.write(_lines(3000, 500) + tail[:20])
    r = _run(logs, state)
    assert r.parsed == 500 and not (_paths(r) & seen)
    seen |= _paths(r)
    total += r.parsed

    # the writer finishes the line, adds more, then logrotate renames and starts a new file
    with live.open("ab") as fh:
        fh.write(tail[20:] + _lines(3501, 99))
    os.rename(live, logs / "access.log.1")
    live.write_bytes(_lines(4000, 200))
    r = _run(logs, state)
    assert r.parsed == 300 and not (_paths(r) & seen)
    assert r.files[0]["event"] == "rotated" and r.files[1]["event"] == "new"
    seen |= _paths(r)
    total += r.parsed

    # second rotation: .1 is compressed to .2.gz, live becomes .1, a new live file appears
    with gzip.open(logs / "access.log.2.gz", "wb") as gz:
        gz.write((logs / "access.log.1").read_bytes())
    (logs / "access.log.1").unlink()
    os.rename(live, logs / "access.log.1")
    live.write_bytes(_lines(5000, 50))
    r = _run(logs, state)
    assert r.parsed == 50 and not (_paths(r) & seen)
    assert [f["event"] for f in r.files] == ["rotated", "rotated", "new"]
    seen |= _paths(r)
    total += r.parsed

    # copytruncate: same inode, emptied and rewritten
    with live.open("r+b") as fh:
        fh.truncate(0)
        fh.write(_lines(6000, 30))
    r = _run(logs, state)
    assert r.parsed == 30 and r.files[-1]["event"] in ("replaced", "truncated")
    total += r.parsed

    # nothing new: nothing counted
    r = _run(logs, state)
    assert r.parsed == 0 and r.lines == 0
    assert total == 3000 + 500 + 100 + 200 + 50 + 30
    assert len(seen) + 30 == total


def test_crash_before_commit_rereads_the_same_lines(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    state = tmp_path / "state.json"
    (logs / "access.log").write_bytes(_lines(0, 100))
    first = _run(logs, state, commit_it=False)  # as if killed before the state was saved
    again = _run(logs, state)
    assert first.parsed == again.parsed == 100
    assert _run(logs, state).parsed == 0
    saved = json.loads(state.read_text())
    assert saved["files"][0]["lines"] == 100


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_workers_over_byte_ranges_match_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: str
) -> None:
    monkeypatch.setattr(pipeline, "RANGE_BYTES", 1000)
    monkeypatch.setattr(blocks, "MIN_RANGE_BYTES", 1000)
    logs = tmp_path / "logs"
    logs.mkdir()
    data = bytearray(_lines(0, 2000))
    bad_at = [17, 999, 1500]
    lines = data.split(b"\n")
    for i in bad_at:
        lines[i - 1] = b"broken line %d" % i
    (logs / "access.log").write_bytes(b"\n".join(lines))
    opts1 = Options(format_name="combined", rejects_path=tmp_path / "r1.jsonl", block_size=2048)
    optsn = Options(
        format_name="combined",
        rejects_path=tmp_path / "r2.jsonl",
        block_size=2048,
        workers=2,
        executor=executor,
    )
    sources = expand([str(logs / "access.log")])
    units, _ = pipeline.plan(optsn, sources, BUILTIN["combined"], [])
    assert len(units) > 1  # really cut into byte ranges
    one = analyze(sources, opts1)
    many = analyze(sources, optsn)
    assert (
        (one.lines, one.parsed, one.rejected)
        == (many.lines, many.parsed, many.rejected)
        == (2000, 1997, 3)
    )
    r1 = [json.loads(x)["line"] for x in (tmp_path / "r1.jsonl").read_text().splitlines()]
    r2 = [json.loads(x)["line"] for x in (tmp_path / "r2.jsonl").read_text().splitlines()]
    assert r1 == r2 == bad_at
    assert dict(one.agg.status) == dict(many.agg.status)
    assert one.agg.minutes == many.agg.minutes


def test_file_that_disappears_before_it_is_read_is_named_not_fatal(tmp_path: Path) -> None:
    from log_analyzer.pipeline import Unit, run_unit

    gone = tmp_path / "gone.log"
    unit = Unit(0, 0, Input(str(gone), ""), BUILTIN["combined"], None, 0, None, 1, False, False)
    res = run_unit(unit, Options(), str(tmp_path), None)
    assert res.vanished == str(gone) and res.lines == 0

    kept = tmp_path / "kept.log"
    kept.write_bytes(_lines(0, 10))
    r = analyze(expand([str(kept)]), Options(format_name="combined"))
    assert r.parsed == 10 and r.vanished == []
