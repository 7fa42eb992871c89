"""Hostile lines cost only themselves: the fast split sets aside exactly the lines it cannot take,
the regex parses just those, and every line keeps its reason and line number."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from log_analyzer import blocks, pipeline
from log_analyzer.blocks import Block
from log_analyzer.formats import BUILTIN
from log_analyzer.generate import HOSTILE_KINDS, GenOptions, generate
from log_analyzer.parsing import FAST_COLUMNS, Parsed, ParseOptions, parse_block
from log_analyzer.sources import expand

NOT_COMBINED = "does not match the combined format"


def _good(i: int) -> bytes:
    return (
        b'10.0.%d.%d - - [01/Jan/2024:00:%02d:%02d +0000] "GET /p/%d HTTP/1.1" 200 %d "-" "M"\n'
        % (
            i % 200,
            i % 250,
            (i // 60) % 60,
            i % 60,
            i,
            i,
        )
    )


def _parse(lines: list[bytes], fmt: str = "combined") -> tuple[Parsed, Parsed]:
    """The block parsed as usual, and by the format's regex alone (the reference)."""
    data = b"".join(lines)
    block = Block(data, 1, data.count(b"\n"), len(data))
    fast = parse_block(block, ParseOptions(BUILTIN[fmt]))
    slow = parse_block(block, ParseOptions(replace(BUILTIN[fmt], name="regex-only")))
    return fast, slow


def _rejects(parsed: Parsed) -> list[tuple[int, str]]:
    return [(r.line, r.reason.replace("regex-only", "combined")) for r in parsed.rejects]


def test_a_few_hostile_lines_in_a_block_leave_the_rest_on_the_fast_path() -> None:
    lines = [_good(i) for i in range(3000)]
    hostile = {
        500: b"\n",
        900: b"\x00" * 40 + b"10.0.0.1 - - [01/Ja\n",  # a crash's NUL run, then a cut line
        1300: b'\x16\x03\x01\x02\x00 "x\r\xc3 binary\n',  # a quote, a CR, invalid UTF-8
        1700: b'9.9.9.9 - - [01/Jan/2024:00:00:00 +0000] "GET /trunc\n',  # the quote stays open
        2100: b'10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET /caf\xe9\n',  # not UTF-8, cut
        2999: b"\n",  # the block's last line
    }
    for i, line in hostile.items():
        lines[i] = line
    fast, slow = _parse(lines)

    assert (
        _rejects(fast)
        == _rejects(slow)
        == [
            (501, "empty line"),
            (901, "binary data"),
            (1301, "binary data"),
            (1701, NOT_COMBINED),
            (2101, NOT_COMBINED),
            (3000, "empty line"),
        ]
    )
    assert fast.table.num_rows == 3000 - len(hostile)
    assert fast.table.equals(slow.table)  # same rows, same order
    assert fast.table["path"].to_pylist() == [f"/p/{i}" for i in range(3000) if i not in hostile]
    assert fast.latin1_lines == 2
    # through the regex: the lines the split could not take (the CR, the invalid UTF-8, the NUL
    # run and the open quote, which also swallowed the line after it); the empty lines were
    # rejected by the split's own checks
    assert fast.fallback_lines == 5
    assert slow.fallback_lines == 0  # (a format without a fast split counts no fallback)


def test_a_quote_left_open_at_the_end_of_a_block_is_a_reject_not_a_request() -> None:
    # the reader accepts this line: ten fields, the last one running into the final newline
    cut = b'9.9.9.9 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 (Win\n'
    fast, slow = _parse([_good(i) for i in range(1000)] + [cut])
    assert _rejects(fast) == _rejects(slow) == [(1001, NOT_COMBINED)]
    assert fast.table.num_rows == 1000 and fast.fallback_lines == 1


def test_an_open_quote_that_leaves_the_right_width_costs_only_its_lines() -> None:
    # three fields, then a quote that swallows the next line: ten fields in all
    lines = [_good(i) for i in range(1000)]
    lines[400] = b'a b c "d e\n'
    fast, slow = _parse(lines)
    assert _rejects(fast) == _rejects(slow) == [(401, NOT_COMBINED)]
    assert fast.table.equals(slow.table) and fast.table.num_rows == 999
    assert fast.fallback_lines == 2  # that line and the one it swallowed, not the block


def test_crlf_endings_and_backslash_escapes_stay_on_the_fast_path() -> None:
    crlf = [_good(i).replace(b"\n", b"\r\n") for i in range(1000)]
    fast, slow = _parse(crlf)
    assert fast.rejects == [] and fast.fallback_lines == 0 and fast.table.equals(slow.table)

    escaped = [_good(i).replace(b"/p/", b"/\\x16\\x03/") for i in range(1000)]  # nginx escapes
    escaped[10] = escaped[10].replace(b'"M"', b'"M \\"q\\""')  # an escaped quote: set aside
    escaped[20] = escaped[20].replace(b"GET", b"G\rT")  # a CR inside a line: set aside
    fast, slow = _parse(escaped)
    assert fast.table.equals(slow.table) and fast.table.num_rows == 1000
    assert fast.table["ua"][10].as_py() == 'M \\"q\\"'
    assert fast.fallback_lines == 2


def test_generated_hostile_lines_are_exactly_the_difference_and_all_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n, every = 30_000, 100
    messy, clean = tmp_path / "messy.log", tmp_path / "clean.log"
    truth = generate([messy], GenOptions(lines=n, seed=5, hostile_every=every))
    clean_truth = generate([clean], GenOptions(lines=n - n // every, seed=5))
    kept = [x for i, x in enumerate(messy.read_bytes().split(b"\n")[:-1], 1) if i % every]
    assert kept == clean.read_bytes().split(b"\n")[:-1]  # the same valid lines, in order
    assert truth.valid == clean_truth.valid == n - n // every
    assert set(truth.hostile) == set(HOSTILE_KINDS) and truth.malformed == n // every

    monkeypatch.setattr(pipeline, "RANGE_BYTES", 100_000)  # several byte ranges and blocks
    monkeypatch.setattr(blocks, "MIN_RANGE_BYTES", 100_000)
    opts = pipeline.Options(
        format_name="combined",
        workers=2,
        block_size=256 << 10,
        rejects_path=tmp_path / "rejects.jsonl",
    )
    res = pipeline.analyze(expand([str(messy)]), opts)
    assert (res.lines, res.parsed, res.rejected) == (n, truth.valid, truth.malformed)
    assert res.latin1 == truth.latin1
    assert res.agg.bytes == truth.bytes and dict(res.agg.status) == dict(truth.status)
    assert res.fallback < 3 * truth.malformed  # the hostile lines and their neighbours only
    rows = [json.loads(x) for x in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rows] == list(range(every, n + 1, every))
    assert Counter(r["reason"] for r in rows) == res.reasons
    assert set(res.reasons) <= {"empty line", "binary data", NOT_COMBINED}


def test_every_format_with_a_fast_split_needs_a_closing_bracket() -> None:
    # _fields_mixed does not ask the regex about set-aside lines without ']'
    for name in FAST_COLUMNS:
        assert r"\]" in BUILTIN[name].pattern, name
