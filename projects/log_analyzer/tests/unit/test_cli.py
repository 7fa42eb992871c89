"""The command line: one JSON object, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LINE = b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8"\n'


def _cli(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOG_ANALYZER_REJECTS_FILE": str((cwd or Path.cwd()) / "rejects.jsonl")}
    return subprocess.run(
        [sys.executable, "-m", "log_analyzer", "--log-format", "json", *args],
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_json_summary_balances_and_rejects_file(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(LINE * 5 + b"garbage\n" + LINE)
    p = _cli("analyze", str(f), "--json", "--rejects", str(tmp_path / "bad.jsonl"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["records_in"], out["records_out"], out["records_rejected"]) == (7, 6, 1)
    assert out["report"]["status_codes"] == {"200": 6}
    assert out["report"]["bots"]["bot_requests"] == 6
    (rej,) = [json.loads(x) for x in (tmp_path / "bad.jsonl").read_text().splitlines()]
    assert rej == {
        "file": str(f),
        "line": 6,
        "reason": "does not match the combined format",
        "text": "garbage",
    }


def test_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    p = _cli("analyze", str(tmp_path / "missing.log"), "--json", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stdout == ""
    assert (
        p.stderr.strip().splitlines()[-1]
        == f"error: input file not found: {tmp_path / 'missing.log'}"
    )
    assert "Traceback" not in p.stderr


def test_bad_format_string_is_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(LINE)
    p = _cli("analyze", str(f), "--format-string", "%h %Q", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1].startswith("error: unknown LogFormat directive %Q")


def test_max_reject_rate_fails_the_run(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(LINE + b"bad\n" * 3)
    p = _cli(
        "analyze",
        str(f),
        "--format",
        "combined",
        "--json",
        "--max-reject-rate",
        "0.5",
        cwd=tmp_path,
    )
    assert p.returncode == 1
    assert "3 of 4 lines rejected" in p.stderr.strip().splitlines()[-1]
    ok = _cli(
        "analyze",
        str(f),
        "--format",
        "combined",
        "--json",
        "--max-reject-rate",
        "0.8",
        cwd=tmp_path,
    )
    assert ok.returncode == 0


def test_stdin_empty_file_and_filters(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    p = _cli(
        "analyze",
        "-",
        str(empty),
        "--format",
        "combined",
        "--json",
        "--status",
        "2xx",
        "--since",
        "2024-01-01",
        stdin=LINE * 3 + LINE.replace(b" 200 ", b" 500 "),
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["records_in"], out["records_out"], out["records_filtered"]) == (4, 3, 1)


def test_bad_setting_from_environment_is_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(LINE)
    env_run = subprocess.run(
        [sys.executable, "-m", "log_analyzer", "analyze", str(f)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "LOG_ANALYZER_WORKERS": "zero"},
    )
    assert env_run.returncode == 2
    assert "LOG_ANALYZER_WORKERS" in env_run.stderr.strip().splitlines()[-1]


def test_demo_writes_every_output(tmp_path: Path) -> None:
    p = _cli("demo", "--out", str(tmp_path / "d"), "--lines", "5000", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["records_in"] == out["records_out"] + out["records_rejected"] == 5000
    assert out["records_rejected"] == 5000 // 997
    html = (tmp_path / "d" / "report.html").read_text()
    assert "<svg" in html and "http" not in html.split("<body>")[0]  # nothing fetched
    assert list((tmp_path / "d" / "parquet").glob("date=*/*.parquet"))
    assert (tmp_path / "d" / "csv" / "timeline.csv").exists()


def test_unreachable_pushgateway_is_one_line_exit_1(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(LINE)
    p = subprocess.run(
        [sys.executable, "-m", "log_analyzer", "analyze", str(f), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "LOG_ANALYZER_PUSHGATEWAY_URL": "http://127.0.0.1:9"},
    )
    assert p.returncode == 1
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("error: pushgateway unreachable at http://127.0.0.1:9")
