"""Parsing blocks, including hostile lines: every line becomes a row or a reject."""

from __future__ import annotations

import json

from log_analyzer.blocks import Block
from log_analyzer.formats import BUILTIN, compile_format_string
from log_analyzer.parsing import ParseOptions, parse_block

GOOD = (
    b'1.2.3.4 - - [01/Jan/2024:00:00:10 +0100] "GET /p?x=1 HTTP/1.1" 200 512 '
    b'"https://r.example/" "Mozilla/5.0" 0.250\n'
)


def _parse(data: bytes, fmt: str = "combined_rt", **kw: object) -> tuple[list[dict], list]:
    opts = ParseOptions(BUILTIN[fmt], **kw)  # type: ignore[arg-type]
    block = Block(data, 1, data.count(b"\n"), len(data))
    parsed = parse_block(block, opts)
    return parsed.table.to_pylist(), parsed.rejects


def test_combined_with_request_time_is_typed() -> None:
    rows, rejects = _parse(GOOD)
    assert rejects == []
    (row,) = rows
    assert row["ts"] == 1704067210 - 3600  # +0100 converted to UTC
    assert row["path"] == "/p"  # query string stripped by default
    assert (row["status"], row["bytes"], row["duration_ms"]) == (200, 512, 250.0)
    assert row["method"] == "GET" and row["protocol"] == "HTTP/1.1"


def test_query_kept_when_asked() -> None:
    rows, _ = _parse(GOOD, strip_query=False)
    assert rows[0]["path"] == "/p?x=1"


def test_hostile_lines_become_rejects_with_line_numbers_and_reasons() -> None:
    data = (
        GOOD
        + b"\n"  # empty
        + b"\x00\x01\x02\x03 garbage\n"  # binary
        + GOOD.replace(b"01/Jan/2024", b"99/Foo/2024")  # bad date
        + GOOD.replace(b" 200 ", b" 999 ")  # impossible status
        + b"not a log line at all\n"
        + GOOD.replace(b"Mozilla/5.0", b'Mozilla \\"quoted\\" ok')  # escaped quotes parse
        + GOOD.replace(b"/p?x=1", b"/caf\xe9")  # latin-1 byte: parsed, decoded as latin-1
        + GOOD.rstrip(b"\n")
        + b"\r\n"  # CRLF
    )
    rows, rejects = _parse(data)
    assert [r.line for r in rejects] == [2, 3, 4, 5, 6]
    reasons = [r.reason for r in rejects]
    assert reasons[0] == "empty line"
    assert reasons[1] == "binary data"
    assert reasons[2] == "bad or missing timestamp"
    assert reasons[3] == "bad or missing status"
    assert reasons[4].startswith("does not match")
    assert len(rows) == 4
    assert rows[1]["ua"] == 'Mozilla \\"quoted\\" ok'
    assert rows[2]["path"] == "/café"


def test_long_line_in_block_is_rejected() -> None:
    long = GOOD.replace(b"Mozilla/5.0", b"M" * 5000)
    rows, rejects = _parse(GOOD + long, max_line=2048)
    assert len(rows) == 1
    assert rejects[0].line == 2 and "longer than 2048" in rejects[0].reason
    assert len(rejects[0].text) <= 512


def test_common_and_dash_bytes() -> None:
    rows, rejects = _parse(
        b'::1 - - [01/Jan/2024:00:00:00 +0000] "HEAD / HTTP/1.0" 304 -\n', "common"
    )
    assert rejects == [] and rows[0]["bytes"] == 0 and rows[0]["status"] == 304
    assert rows[0]["duration_ms"] is None


def test_odd_request_line_is_kept_without_method() -> None:
    rows, rejects = _parse(
        b'1.1.1.1 - - [01/Jan/2024:00:00:00 +0000] "-" 400 0 "-" "-"\n', "combined"
    )
    assert rejects == [] and rows[0]["status"] == 400 and rows[0]["method"] is None


def test_integer_duration_is_microseconds_in_auto_mode() -> None:
    rows, _ = _parse(
        b'1.1.1.1 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 2500\n', "common_rt"
    )
    assert rows[0]["duration_ms"] == 2.5


def test_custom_format_string() -> None:
    fmt = compile_format_string('$remote_addr "$request" $status $request_time [$time_iso8601]')
    data = b'9.9.9.9 "POST /api HTTP/2.0" 201 0.010 [2024-03-01T10:00:00+00:00]\n'
    parsed = parse_block(Block(data, 1, 1, len(data)), ParseOptions(fmt))
    (row,) = parsed.table.to_pylist()
    assert row["ts"] == 1709287200 and row["duration_ms"] == 10.0 and row["method"] == "POST"


def test_csv_with_header_mapping_and_bad_rows() -> None:
    header = ["when", "client", "url", "code", "size"]
    data = (
        b"2024-01-01T00:00:00Z,1.2.3.4,/a,200,10\n"
        b"2024-01-01T00:00:01Z,1.2.3.4,/b\n"  # too few columns
        b'"2024-01-01T00:00:02Z","5.6.7.8","/c,d",404,"7"\n'
        b"1704067203,5.6.7.8,/e,500,1\n"  # epoch seconds
    )
    opts = ParseOptions(
        BUILTIN["csv"],
        csv_header=header,
        column_overrides={
            "time": "when",
            "ip": "client",
            "path": "url",
            "status": "code",
            "bytes": "size",
        },
    )
    parsed = parse_block(Block(data, 2, 4, len(data)), opts)
    rows = parsed.table.to_pylist()
    assert [r["path"] for r in rows] == ["/a", "/c,d", "/e"]
    assert rows[2]["ts"] == 1704067203 and rows[2]["status"] == 500
    assert [(r.line, r.reason) for r in parsed.rejects] == [(3, "malformed record")]


def test_jsonl_with_broken_lines() -> None:
    good = {
        "@timestamp": "2024-01-01T00:00:00Z",
        "remote_addr": "1.1.1.1",
        "request": "GET /j HTTP/1.1",
        "status": 200,
        "body_bytes_sent": 5,
        "request_time": 0.5,
    }
    data = (json.dumps(good) + "\n" + '{"broken": \n' + "[1,2]\n").encode()
    opts = ParseOptions(BUILTIN["jsonl"], max_line=1 << 20)
    parsed = parse_block(Block(data, 1, 3, len(data)), opts)
    (row,) = parsed.table.to_pylist()
    assert row["path"] == "/j" and row["status"] == 200
    assert [r.line for r in parsed.rejects] == [2, 3]


def test_fast_path_and_regex_path_agree_around_bad_lines() -> None:
    from dataclasses import replace

    lines = [GOOD.replace(b"/p?x=1", b"/p%d" % i) for i in range(3000)]
    lines[5] = b"junk line\n"
    lines[1700] = GOOD.replace(b'"GET', b"GET")  # unbalanced quotes
    lines[2999] = GOOD.replace(b"Mozilla/5.0", b'Moz \\"x\\"')  # escaped quote
    data = b"".join(lines)
    block = Block(data, 10, len(lines), len(data))
    fast = parse_block(block, ParseOptions(BUILTIN["combined_rt"]))
    slow = parse_block(block, ParseOptions(replace(BUILTIN["combined_rt"], name="regex-only")))
    assert fast.table.equals(slow.table)
    assert [(r.line, r.reason) for r in fast.rejects] == [
        (15, "does not match the combined_rt format"),
        (1710, "does not match the combined_rt format"),
    ]
    assert [r.line for r in slow.rejects] == [15, 1710]
    assert fast.table.num_rows == 2998
