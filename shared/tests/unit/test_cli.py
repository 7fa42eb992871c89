from __future__ import annotations

import json

import pytest


def test_job_prints_one_json_summary(run_app):
    res = run_app("job", "--json", "--batch-size", "7", env={"DEMO_PASSWORD": "pw-0001"})
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary == {
        "records_in": 3,
        "records_out": 1,
        "records_rejected": 1,
        "records_skipped": {"duplicate": 1},
        "duration_s": summary["duration_s"],
        "status": "ok",
        "batch_size": 7,
        "mode": "append",
        "strict": False,
        "labels": {},
        "sinks": ["parquet"],
        "pattern": "^[a-z][a-z0-9_.]{0,63}$",
    }
    assert isinstance(summary["duration_s"], float)
    # logs went to stderr as JSON lines, with the secret and the api_key redacted
    logs = [json.loads(line) for line in res.stderr.splitlines()]
    assert {line["project"] for line in logs} == {"demo_app"}
    assert "pw-0001" not in res.stderr and "abc123xyz" not in res.stderr
    assert any(line["logger"] == "pika.connection" for line in logs)


def test_config_command_masks_secrets(run_app):
    res = run_app("config", env={"DEMO_PASSWORD": "pw-0002", "DEMO_NAME": "x"})
    assert res.returncode == 0, res.stderr
    shown = json.loads(res.stdout)
    assert shown["password"] == "**********" and shown["name"] == "x"
    assert "pw-0002" not in res.stdout + res.stderr


def test_invalid_setting_exits_2_with_one_line(run_app):
    res = run_app("job", env={"DEMO_BATCH_SIZE": "lots"})
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [res.stderr.strip()]
    assert res.stderr.startswith("error: invalid setting DEMO_BATCH_SIZE")
    assert "Traceback" not in res.stderr


def test_invalid_flag_value_exits_2(run_app, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("batch_size = -")
    res = run_app("--config", str(cfg), "job")
    assert res.returncode == 2
    assert "is not valid TOML" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize(
    ("kind", "code", "text"),
    [
        ("user", 2, "error: no such file: in.csv"),
        ("job", 1, "error: reject rate 0.5 above --max-reject-rate 0.1"),
        ("crash", 1, "error: RuntimeError: connection string postgresql://app:***@db/x refused"),
    ],
)
def test_failures_are_one_line_and_a_failed_summary(run_app, kind: str, code: int, text: str):
    res = run_app("fail", kind, "--json", env={"DEMO_PASSWORD": "pw-0003"})
    assert res.returncode == code
    assert res.stderr.strip() == text
    assert "pw-0003" not in res.stderr + res.stdout
    summary = json.loads(res.stdout)
    assert summary["status"] == "failed"
    assert summary["error"] == text.removeprefix("error: ")
    assert summary["records_in"] == 0


def test_a_failure_after_counting_prints_the_partial_counts(run_app):
    res = run_app("fail", "partial", "--json")
    assert res.returncode == 1
    summary = json.loads(res.stdout)
    assert (summary["records_in"], summary["records_out"], summary["records_rejected"]) == (4, 2, 2)
    assert summary["status"] == "failed" and summary["error"] == "2 of 4 rejected, above 0.1"


def test_an_unbalanced_summary_fails_the_run(run_app):
    res = run_app("job", "--unbalanced", "--json")
    assert res.returncode == 1
    assert "records do not balance: in 3 != out 3 + rejected 1 + skipped 1" in res.stderr
    assert json.loads(res.stdout)["status"] == "failed"


def test_flags_come_from_the_settings_fields(run_app):
    res = run_app("job", "--help")
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    assert "--batch-size INTEGER Rows per batch (default: 100) [env: DEMO_BATCH_SIZE]" in text
    assert "--mode [append|upsert]" in text and "[env: DEMO_MODE]" in text
    assert "--strict / --no-strict" in text and "--labels KEY=VALUE" in text
    assert "--password" not in text


def test_flags_override_the_environment_and_are_validated(run_app, tmp_path):
    env = {"DEMO_MODE": "upsert", "DEMO_BATCH_SIZE": "5"}
    args = (
        "job",
        "--json",
        "--strict",
        "--labels",
        "a=1",
        "--labels",
        "b=2",
        "--out",
        str(tmp_path),
    )
    summary = json.loads(run_app(*args, env=env).stdout)
    assert (summary["mode"], summary["batch_size"], summary["strict"]) == ("upsert", 5, True)
    assert summary["labels"] == {"a": "1", "b": "2"}
    bad = run_app("job", "--batch-size", "0")
    assert bad.returncode == 2
    assert (
        bad.stderr.startswith("error: invalid setting DEMO_BATCH_SIZE")
        and "Traceback" not in bad.stderr
    )


def test_state_commands_print_their_own_json(run_app):
    res = run_app("state", "--json", env={"DEMO_NAME": "x"})
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"name": "x", "lag": 0}


def test_a_fault_point_kills_the_process_there(run_app):
    res = run_app("job", "--json", env={"DE_FAULT": "demo.after_log"})
    assert res.returncode == -9
    assert res.stdout == ""  # killed before the summary
    assert '"done"' in res.stderr


def test_inputs_from_paths_globs_stdin_and_compressed_files(run_app, tmp_path):
    import bz2
    import gzip
    import zipfile

    (tmp_path / "a.txt").write_text("1\n2\n")
    (tmp_path / "b.log.gz").write_bytes(gzip.compress(b"1\n2\n3\n"))
    (tmp_path / "c.data").write_bytes(bz2.compress(b"1\n"))  # the content says bz2, not the name
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as z:
        z.writestr("d.csv", "1\n2\n3\n4\n")
    res = run_app(
        "count",
        "--json",
        str(tmp_path / "*.txt"),
        str(tmp_path / "b.log.gz"),
        str(tmp_path / "c.data"),
        str(tmp_path / "d.zip"),
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["records_in"] == 2 + 3 + 1 + 4
    missing = run_app("count", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"error: input file not found: {tmp_path / 'nope.csv'}"
    empty_glob = run_app("count", str(tmp_path / "*.parquet"))
    assert empty_glob.returncode == 2 and "no file matches" in empty_glob.stderr


def test_debug_level_shows_the_traceback_redacted(run_app):
    res = run_app("--log-level", "debug", "fail", "crash", env={"DEMO_PASSWORD": "pw-0004"})
    assert res.returncode == 1
    assert "Traceback" in res.stderr and "pw-0004" not in res.stderr


def test_help_works_even_with_bad_settings(run_app):
    res = run_app("job", "--help", env={"DEMO_BATCH_SIZE": "lots"})
    assert res.returncode == 0 and "--json" in res.stdout


def test_an_unreachable_pushgateway_is_logged_and_the_run_keeps_its_status(run_app):
    res = run_app("job", "--json", env={"DEMO_PUSHGATEWAY_URL": "http://127.0.0.1:9"})
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["status"] == "ok"
    errors = [e for e in map(json.loads, res.stderr.splitlines()) if e["level"] == "error"]
    assert [e["msg"] for e in errors] == [
        "metrics not pushed: pushgateway unreachable at http://127.0.0.1:9: [Errno 111] Connection refused"
    ]


def test_list_of_choices_is_a_repeated_choice_flag(run_app):
    ok = run_app("job", "--json", "--sinks", "parquet", "--sinks", "postgres")
    assert json.loads(ok.stdout)["sinks"] == ["parquet", "postgres"]
    bad = run_app("job", "--sinks", "s3")
    assert bad.returncode == 2 and "'s3' is not one of 'parquet', 'postgres'" in bad.stderr


def test_the_table_for_a_person_prints_values_as_they_are(run_app):
    res = run_app("job")
    assert res.returncode == 0, res.stderr
    assert "^[a-z][a-z0-9_.]{0,63}$" in res.stdout


def test_profile_and_trace_memory_log_where_time_and_memory_went(run_app, tmp_path):
    prof = tmp_path / "job.prof"
    res = run_app("--profile", str(prof), "--trace-memory", "job", "--json")
    assert res.returncode == 0, res.stderr
    # The summary is the same as an unprofiled run's: the figures go to the log.
    assert json.loads(res.stdout)["records_in"] == 3
    logs = [json.loads(line) for line in res.stderr.splitlines()]
    cpu = next(line for line in logs if line["msg"] == "cpu profile written")
    assert cpu["path"] == str(prof) and "cumulative" in cpu["top"]
    import pstats

    functions = {fn for (_, _, fn) in pstats.Stats(str(prof)).stats}  # type: ignore[attr-defined]
    assert "work" in functions  # the job's own function was profiled
    memory = next(line for line in logs if line["msg"] == "memory traced")
    assert memory["python_peak_mib"] >= 0 and memory["process_peak_rss_mib"] > 10
    assert memory["largest_sites"]
