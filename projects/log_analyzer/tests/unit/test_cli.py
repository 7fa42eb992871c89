"""The command line: one JSON object, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from de_common.run import STANDARD_KEYS
from de_services.testing import fault_env

LINE = b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8"\n'
ANALYZE_KEYS = [
    *STANDARD_KEYS,
    "run_id",
    "format",
    "files",
    "latin1_lines",
    "fallback_lines",
    "reject_rate",
    "reject_reasons",
    "rejects_file",
    "unreadable",
    "file_events",
]


def _cli(
    *args: str,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    rejects = str((cwd or Path.cwd()) / "rejects.jsonl")
    env = {**os.environ, "LOG_ANALYZER_REJECTS_FILE": rejects, **(env or {})}
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
    rejects = tmp_path / "bad.jsonl"
    p = _cli("analyze", str(f), "--json", "--rejects-file", str(rejects), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert list(out) == [*ANALYZE_KEYS, "report"]  # no key twice under another name
    assert (out["records_in"], out["records_out"], out["records_rejected"]) == (7, 6, 1)
    assert out["records_skipped"] == {"filtered": 0} and out["status"] == "ok"
    assert out["reject_reasons"] == {"does not match the combined format": 1}
    assert out["rejects_file"] == str(rejects) and out["file_events"] == {str(f): "read"}
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
    message = f"input file not found: {tmp_path / 'missing.log'}"
    failed = json.loads(p.stdout)  # the run contract prints the failed summary, counts zero
    assert failed == {
        "records_in": 0,
        "records_out": 0,
        "records_rejected": 0,
        "records_skipped": {},
        "duration_s": failed["duration_s"],
        "status": "failed",
        "error": message,
    }
    assert p.stderr.strip().splitlines()[-1] == f"error: {message}"
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
    failed = json.loads(p.stdout)  # the failed summary carries the counts of the run
    assert failed["status"] == "failed" and failed["error"].startswith("3 of 4 lines rejected")
    assert (failed["records_in"], failed["records_out"], failed["records_rejected"]) == (4, 1, 3)
    assert failed["records_skipped"] == {"filtered": 0} and failed["reject_rate"] == 0.75
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
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "ok"


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
    assert (out["records_in"], out["records_out"], out["records_rejected"]) == (4, 3, 0)
    assert out["records_skipped"] == {"filtered": 1}


def test_bad_setting_from_environment_is_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(LINE)
    env_run = _cli("analyze", str(f), cwd=tmp_path, env={"LOG_ANALYZER_WORKERS": "zero"})
    assert env_run.returncode == 2
    assert "LOG_ANALYZER_WORKERS" in env_run.stderr.strip().splitlines()[-1]


def test_demo_writes_every_output(tmp_path: Path) -> None:
    p = _cli("demo", "--out", str(tmp_path / "d"), "--lines", "5000", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["records_in"] == out["records_out"] + out["records_rejected"] == 5000
    assert out["records_rejected"] == 5000 // 997
    assert out["records_skipped"] == {"filtered": 0} and out["status"] == "ok"
    keys = [*ANALYZE_KEYS, "csv_files", "html", "parquet", "output", "figure", "report"]
    assert list(out) == keys
    assert out["html"] == out["output"] == str(tmp_path / "d" / "report.html")
    # The showcase's figure is the report's own status mix, summing to what was kept.
    assert out["figure"]["bars"] == out["report"]["status_classes"]
    assert sum(out["figure"]["bars"].values()) == out["records_out"]
    html = (tmp_path / "d" / "report.html").read_text()
    assert "<svg" in html and "http" not in html.split("<body>")[0]  # nothing fetched
    assert list((tmp_path / "d" / "parquet").glob("date=*/*.parquet"))
    assert (tmp_path / "d" / "csv" / "timeline.csv").exists()


def test_unreachable_pushgateway_keeps_the_run_and_logs_why(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(LINE)
    pushgateway = {"LOG_ANALYZER_PUSHGATEWAY_URL": "http://127.0.0.1:9"}
    p = _cli("analyze", str(f), "--json", cwd=tmp_path, env=pushgateway)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["status"] == "ok"
    assert "metrics not pushed: pushgateway unreachable at http://127.0.0.1:9" in p.stderr


def test_setting_flags_apply_and_are_validated(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(LINE.replace(b"/a ", b"/a?x=1 ") * 2 + LINE.replace(b"/a ", b"/b ") + LINE)
    p = _cli("analyze", str(f), "--json", "--top-n", "1", "--no-strip-query", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["report"]["top"]["paths"] == [["/a?x=1", 2]]
    bad = _cli("analyze", str(f), "--format", "nginx", cwd=tmp_path)
    assert bad.returncode == 2
    last = bad.stderr.strip().splitlines()[-1]
    assert last.startswith("error: invalid setting LOG_ANALYZER_FORMAT: ") and "'nginx'" in last


def test_a_person_gets_the_report_as_tables_then_the_counts(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(LINE * 2)
    p = _cli("analyze", str(f), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "Top paths" in p.stdout and "Unique visitors per day" in p.stdout
    rows = {line.split()[0] for line in p.stdout.splitlines() if line.strip()}
    assert {"records_in", "records_out", "records_skipped", "status"} <= rows
    assert "report" not in rows  # shown as tables, not as one huge summary row


def test_a_crash_before_the_commit_rereads_the_same_lines(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(LINE * 3)
    state, parquet = tmp_path / "state.json", tmp_path / "pq"
    args = ("analyze", str(f), "--json", "--state-file", str(state), "--parquet", str(parquet))
    killed = _cli(*args, cwd=tmp_path, env=fault_env("analyze.before_commit"))
    assert killed.returncode == -9 and killed.stdout == ""
    assert not state.exists() and not list(parquet.glob("date=*/*.parquet"))
    again = json.loads(_cli(*args, cwd=tmp_path).stdout)
    assert (again["records_in"], again["records_out"], again["status"]) == (3, 3, "ok")
    assert len(list(parquet.glob("date=*/*.parquet"))) == 1
    assert json.loads(_cli(*args, cwd=tmp_path).stdout)["records_in"] == 0
