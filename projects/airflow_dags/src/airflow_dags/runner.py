"""Run one project's CLI in that project's own virtualenv and read its `--json` summary.

Locally (this module) a task runs `<venv>/bin/python -m <project> <command> ... --json` as a child
process: the project's dependencies never meet Airflow's. In production the same task is a
KubernetesPodOperator with the project's image and the same arguments (see `pod_arguments` and the
README): the image's entrypoint is the project's console script, so only the launcher changes.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class StepFailed(RuntimeError):
    """A project's CLI exited non-zero or printed a failed summary; the message is its error."""


@dataclass(frozen=True)
class Step:
    """One CLI call: `python -m <project> <args...> --json` with extra environment."""

    project: str
    args: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)

    def argv(self, venv: Path) -> list[str]:
        """The local command line, in the project's virtualenv."""
        return [str(venv / "bin" / "python"), "-m", self.project, *self.args, "--json"]

    def pod_arguments(self) -> list[str]:
        """The production variant's container arguments (entrypoint = the console script)."""
        return [*self.args, "--json"]


def parse_summary(stdout: str) -> dict[str, Any]:
    """The one JSON object a `--json` command prints on stdout (the last one if noise precedes it)."""
    text = stdout.strip()
    candidates = [text, *reversed([ln for ln in text.splitlines() if ln.startswith("{")])]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise StepFailed(f"no JSON summary on stdout: {text[-300:]!r}")


def _child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The worker's environment minus what would make the child use Airflow's interpreter."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONHOME"}}
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def _drain(stream: Any, sink: list[str]) -> None:
    sink.append(stream.read())


def run_step(step: Step, venv: Path, cwd: Path | None = None) -> dict[str, Any]:
    """Run the step; its stderr lines go to this task's log, its summary is returned.

    Raises StepFailed with the summary's `error` (or the last stderr line) when the exit code is
    non-zero or the status is failed. A task killed by its execution_timeout (an exception raised
    in this thread) takes the child's whole process group with it.
    """
    python = venv / "bin" / "python"
    if not python.exists():
        raise StepFailed(
            f"{step.project}: no virtualenv at {venv} (create it: nox -s {step.project}, or set "
            f'AIRFLOW_DAGS_VENVS=\'{{"{step.project}": "/path"}}\')'
        )
    argv = step.argv(venv)
    log.info("running %s", " ".join(argv))
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(step.env),
        cwd=cwd,
        start_new_session=True,
    )
    out: list[str] = []
    reader = threading.Thread(target=_drain, args=(proc.stdout, out), daemon=True)
    reader.start()
    last_err = ""
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            line = line.rstrip("\n")
            if line:
                last_err = line
                log.info("%s | %s", step.project, line)
        code = proc.wait()
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    reader.join()
    stdout = "".join(out)
    try:
        summary = parse_summary(stdout)
    except StepFailed:
        if code != 0:
            raise StepFailed(f"{step.project} {step.args[0]} exited {code}: {last_err}") from None
        raise
    if code != 0 or summary.get("status") == "failed":
        error = summary.get("error") or last_err
        raise StepFailed(f"{step.project} {step.args[0]} failed (exit {code}): {error}")
    return summary
