"""The runner against a real tiny CLI in a real (symlinked) virtualenv: exit codes, summaries,
stderr into the log, the error of a failed summary as the task's error."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest
from airflow_dags.runner import Step, StepFailed, parse_summary, run_step

TINY = """
import json, sys
mode = sys.argv[1]
print("starting " + mode, file=sys.stderr)
print("second log line", file=sys.stderr)
if mode == "ok":
    print(json.dumps({"records_in": 3, "records_out": 3, "status": "ok", "echo": sys.argv[2:]}))
elif mode == "failed":
    print(json.dumps({"records_in": 1, "status": "failed", "error": "table orders is locked"}))
    sys.exit(1)
elif mode == "lying":
    print(json.dumps({"status": "ok"}))
    sys.exit(3)
elif mode == "crash":
    raise SystemExit("error: cannot reach 127.0.0.1:1")
elif mode == "env":
    import os
    print(json.dumps({"status": "ok", "value": os.environ.get("TINY_SETTING"),
                      "virtual_env": os.environ.get("VIRTUAL_ENV")}))
"""


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A venv-shaped folder whose python is this interpreter, and a `tinycli` package."""
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(sys.executable)
    package = tmp_path / "pkgs" / "tinycli"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(TINY)
    return tmp_path / "venv"


def step(tmp_venv: Path, *args: str, **env: str) -> Step:
    pythonpath = str(tmp_venv.parent / "pkgs")
    return Step("tinycli", args, {"PYTHONPATH": pythonpath, **env})


def test_ok_summary_is_returned_and_json_flag_added(venv: Path) -> None:
    summary = run_step(step(venv, "ok", "a", "b"), venv)
    assert summary["records_out"] == 3
    assert summary["echo"] == ["a", "b", "--json"]


def test_stderr_lines_reach_the_task_log(venv: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="airflow_dags.runner"):
        run_step(step(venv, "ok"), venv)
    lines = [r.getMessage() for r in caplog.records]
    assert "tinycli | starting ok" in lines and "tinycli | second log line" in lines


def test_a_failed_summary_fails_with_its_error(venv: Path) -> None:
    with pytest.raises(StepFailed, match="table orders is locked"):
        run_step(step(venv, "failed"), venv)


def test_a_non_zero_exit_fails_even_with_an_ok_summary(venv: Path) -> None:
    with pytest.raises(StepFailed, match="exit 3"):
        run_step(step(venv, "lying"), venv)


def test_a_crash_without_summary_fails_with_the_last_stderr_line(venv: Path) -> None:
    with pytest.raises(StepFailed, match=r"cannot reach 127\.0\.0\.1:1"):
        run_step(step(venv, "crash"), venv)


def test_step_env_reaches_the_child_and_the_workers_venv_does_not(
    venv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", "/opt/airflow-venv")
    summary = run_step(step(venv, "env", TINY_SETTING="42"), venv)
    assert summary["value"] == "42" and summary["virtual_env"] is None


def test_a_missing_venv_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(StepFailed, match="nox -s api_fetcher"):
        run_step(Step("api_fetcher", ("run",)), tmp_path / "nowhere")


def test_parse_summary_takes_the_last_json_object_after_noise() -> None:
    assert parse_summary('warming up\n{"status": "ok", "n": 1}\n') == {"status": "ok", "n": 1}
    with pytest.raises(StepFailed, match="no JSON summary"):
        parse_summary("no json here")


def test_production_variant_gets_the_same_arguments() -> None:
    s = Step("csv_to_postgres", ("load", "x.csv"))
    assert s.pod_arguments() == ["load", "x.csv", "--json"]
    assert s.argv(Path("/v"))[3:] == s.pod_arguments()
    assert os.path.basename(s.argv(Path("/v"))[0]) == "python"
