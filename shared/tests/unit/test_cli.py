from __future__ import annotations

import json

import pytest


def test_job_prints_one_json_summary(run_app):
    res = run_app("job", "--json", "--batch-size", "7", env={"DEMO_PASSWORD": "pw-0001"})
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary == {
        "records_in": 3,
        "records_out": 2,
        "records_rejected": 1,
        "duration_s": summary["duration_s"],
        "batch_size": 7,
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
def test_failures_are_one_line(run_app, kind: str, code: int, text: str):
    res = run_app("fail", kind, env={"DEMO_PASSWORD": "pw-0003"})
    assert res.returncode == code
    assert res.stderr.strip() == text
    assert "pw-0003" not in res.stderr


def test_debug_level_shows_the_traceback_redacted(run_app):
    res = run_app("--log-level", "debug", "fail", "crash", env={"DEMO_PASSWORD": "pw-0004"})
    assert res.returncode == 1
    assert "Traceback" in res.stderr and "pw-0004" not in res.stderr


def test_help_works_even_with_bad_settings(run_app):
    res = run_app("job", "--help", env={"DEMO_BATCH_SIZE": "lots"})
    assert res.returncode == 0 and "--json" in res.stdout
