"""Format detection and format-string compilation."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from log_analyzer.formats import (
    BUILTIN,
    compile_apache,
    compile_format_string,
    compile_nginx,
    detect,
)

from de_common.errors import UserError

COMBINED = (
    '203.0.113.9 - alice [10/Oct/2023:13:55:36 -0700] "GET /a?b=1 HTTP/1.1" 200 2326 '
    '"https://ref.example/" "Mozilla/5.0 (X11)"'
)


def _match(fmt_pattern: str, line: str) -> dict[str, str]:
    m = re.match(f"^{fmt_pattern}$", line)
    assert m is not None, line
    return {k: v for k, v in m.groupdict().items() if v is not None}


@pytest.mark.parametrize(
    ("line", "name"),
    [
        (COMBINED, "combined"),
        (COMBINED + " 0.123", "combined_rt"),
        ('1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.0" 404 -', "common"),
        ('1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.0" 404 - 1234', "common_rt"),
        ("www.example.com:443 " + COMBINED, "vhost_combined"),
        ('{"time": "2024-01-01T00:00:00Z", "status": 200, "path": "/"}', "jsonl"),
        ("timestamp,ip,path,status\n2024-01-01T00:00:00Z,1.2.3.4,/,200", "csv"),
    ],
)
def test_detect_each_builtin(line: str, name: str) -> None:
    fmt = detect(line.split("\n") * 3)
    assert fmt is not None and fmt.name == name


def test_detect_gives_up_on_prose() -> None:
    assert detect(["hello world", "this is not a log"]) is None


def test_detect_tolerates_a_minority_of_bad_lines() -> None:
    fmt = detect([COMBINED, COMBINED, "garbage", COMBINED])
    assert fmt is not None and fmt.name == "combined"


def test_nginx_format_with_request_time_and_unknown_vars() -> None:
    fmt = compile_nginx(
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_time $upstream_addr'
    )
    got = _match(
        fmt.pattern, COMBINED.replace('"Mozilla/5.0 (X11)"', '"Moz (X)" "-" 0.250 10.0.0.1:80')
    )
    assert got["ip"] == "203.0.113.9"
    assert got["status"] == "200"
    assert got["duration"] == "0.250"
    assert got["ua"] == "Moz (X)"
    assert fmt.duration_unit == "s"


def test_apache_format_with_microseconds_and_escaped_quotes() -> None:
    fmt = compile_apache(r"%v %h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D")
    got = _match(fmt.pattern, "site.example " + COMBINED + " 1500")
    assert got["vhost"] == "site.example"
    assert got["time"] == "10/Oct/2023:13:55:36 -0700"
    assert got["duration"] == "1500"
    assert fmt.duration_unit == "us"


def test_compiled_pattern_runs_in_arrow_re2() -> None:
    fmt = compile_format_string('$remote_addr [$time_local] "$request" $status')
    arr = pa.array(['1.1.1.1 [10/Oct/2023:13:55:36 +0000] "GET /x HTTP/1.1" 301\n'])
    out = pc.extract_regex(arr, fmt.line_regex).to_pylist()[0]
    assert out["status"] == "301" and out["request"] == "GET /x HTTP/1.1"


@pytest.mark.parametrize(
    "bad",
    ["", "just words", "%h %Q %s", "$foo $bar", "%h 100% %s"],
)
def test_bad_format_strings_are_user_errors(bad: str) -> None:
    with pytest.raises(UserError):
        compile_format_string(bad)


def test_builtin_patterns_compile_with_python_re() -> None:
    for fmt in BUILTIN.values():
        if fmt.kind == "regex":
            re.compile(fmt.line_regex)
