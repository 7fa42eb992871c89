"""Block reading (line numbers, long lines, partial tails, ranges) and input expansion."""

from __future__ import annotations

import gzip
import io
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from log_analyzer import blocks
from log_analyzer.blocks import Reading, aligned_ranges, iter_blocks
from log_analyzer.sources import expand, rotation_key

from de_common.errors import UserError


def _lines(data: bytes, **kw: Any) -> tuple[list[bytes], list[tuple[int, str]], int]:
    out: list[bytes] = []
    rejects = []
    end = 0
    for b in iter_blocks(io.BytesIO(data), Reading(**kw)):
        out.extend(b.data.split(b"\n")[:-1])
        rejects.extend((r.line, r.reason) for r in b.rejects)
        end = b.end_offset
    return out, rejects, end


def test_blocks_keep_every_line_and_offset() -> None:
    data = b"".join(b"line %d\n" % i for i in range(1000))
    lines, rejects, end = _lines(data, block_size=100)
    assert lines == [b"line %d" % i for i in range(1000)] and rejects == [] and end == len(data)


def test_line_longer_than_limit_is_skipped_not_held() -> None:
    data = b"a\n" + b"x" * 10_000 + b"\nb\n"
    lines, rejects, end = _lines(data, block_size=64, max_line=1024)
    assert lines == [b"a", b"b"]
    assert rejects == [(2, "line longer than 1024 bytes")]
    assert end == len(data)


def test_partial_last_line_is_held_in_incremental_mode() -> None:
    data = b"one\ntwo\nthr"
    held, _, end_held = _lines(data, hold_partial=True)
    full, _, end_full = _lines(data)
    assert held == [b"one", b"two"] and end_held == 8
    assert full == [b"one", b"two", b"thr"] and end_full == len(data)


def test_aligned_ranges_cover_the_file_on_line_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blocks, "MIN_RANGE_BYTES", 10)
    f = tmp_path / "x.log"
    data = b"".join(b"%05d some text\n" % i for i in range(500))
    f.write_bytes(data)
    ranges = aligned_ranges(str(f), 0, len(data), 4)
    assert len(ranges) == 4 and ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_, b), (a, _) in pairwise(ranges):
        assert a == b and data[a - 1 : a] == b"\n"


def test_rotated_set_is_ordered_oldest_first(tmp_path: Path) -> None:
    names = ["access.log", "access.log.1", "access.log.2.gz", "access.log.10.gz", "error.log"]
    for n in names:
        p = tmp_path / n
        if n.endswith(".gz"):
            with gzip.open(p, "wb") as fh:
                fh.write(b"x\n")
        else:
            p.write_bytes(b"x\n")
    got = [Path(s.path).name for s in expand([str(tmp_path / "*.log*")])]
    assert got == ["access.log.10.gz", "access.log.2.gz", "access.log.1", "access.log", "error.log"]
    gz = expand([str(tmp_path / "access.log.2.gz")])[0]
    assert gz.compression == "gzip"


def test_dated_rotation_sorts_ascending() -> None:
    keys = sorted(["a.log-20240103.gz", "a.log", "a.log-20240101.gz"], key=rotation_key)
    assert keys == ["a.log-20240101.gz", "a.log-20240103.gz", "a.log"]


def test_missing_inputs_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        expand([str(tmp_path / "nope.log")])
    with pytest.raises(UserError, match="no file matches"):
        expand([str(tmp_path / "*.nothing")])


def test_gz_bz2_and_plain_give_the_same_counts_and_a_cut_gz_is_named(tmp_path: Path) -> None:
    import bz2

    from log_analyzer.pipeline import Options, analyze

    line = b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /%d HTTP/1.1" 200 5 "-" "x"\n'
    data = b"".join(line % i for i in range(5000))
    (tmp_path / "p.log").write_bytes(data)
    (tmp_path / "g.log.gz").write_bytes(gzip.compress(data))
    (tmp_path / "b.log.bz2").write_bytes(bz2.compress(data))
    for name in ("p.log", "g.log.gz", "b.log.bz2"):
        r = analyze(expand([str(tmp_path / name)]), Options(format_name="combined"))
        assert (r.lines, r.parsed, r.rejected, r.vanished) == (5000, 5000, 0, [])
    cut = gzip.compress(data)
    (tmp_path / "cut.log.gz").write_bytes(cut[: len(cut) // 2])
    cut_opts = Options(format_name="combined", block_size=1024)
    r = analyze(expand([str(tmp_path / "cut.log.gz")]), cut_opts)
    assert 0 < r.parsed < 5000 and r.rejected == 0
    assert r.vanished and "cut.log.gz" in r.vanished[0]


def test_zip_by_content_and_stdin_last(tmp_path: Path) -> None:
    import zipfile

    from log_analyzer.pipeline import Options, analyze
    from log_analyzer.sources import open_source

    line = b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "x"\n'
    (tmp_path / "access.log").write_bytes(line)
    with zipfile.ZipFile(tmp_path / "access.log.1.zip", "w") as z:
        z.writestr("access.log.1", line * 3)
    got = expand(["-", str(tmp_path / "access.log*")])
    assert [(Path(i.path).name, i.compression) for i in got] == [
        ("access.log.1.zip", "zip"),
        ("access.log", ""),
        ("-", ""),
    ]
    r = analyze(got[:2], Options(format_name="combined"))
    assert (r.lines, r.parsed, r.rejected) == (4, 4, 0)
    (tmp_path / "access.log").unlink()  # gone since it was listed: named, not a usage error
    with pytest.raises(FileNotFoundError):
        open_source(got[1])
