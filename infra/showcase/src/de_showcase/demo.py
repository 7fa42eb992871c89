"""Run one project's demo the way a user would: its services up, its own venv, its own CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from de_showcase.figures import Figure, figure_of
from de_showcase.projects import Project


@dataclass(frozen=True)
class Context:
    """Where things go and how the launcher and uv are called."""

    root: Path
    out: Path
    launcher: Sequence[str]
    timeout_s: float = 1200.0

    def venv(self, project: Project) -> Path:
        # One venv per project, beside nox's own: a project's demo runs exactly its runtime lock.
        return self.root / ".nox" / "demo-venvs" / project.name

    def log(self, project: Project) -> Path:
        return self.out / "logs" / f"{project.name}.log"


@dataclass
class Outcome:
    """One row of the summary: what ran and how it ended."""

    project: str
    what: str
    status: str  # ok | failed | unavailable
    duration_s: float = 0.0
    records_in: int | None = None
    records_out: int | None = None
    records_rejected: int | None = None
    output: str | None = None
    error: str | None = None
    figure: Figure | None = None
    log: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class StepFailed(Exception):
    """A step before the demo itself (services, venv) failed; the message is one line."""


def _run(argv: Sequence[str], log: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    with log.open("a") as sink:
        sink.write(f"$ {' '.join(argv)}\n")
        sink.flush()
        return subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=sink, text=True, **kwargs)


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def start_services(ctx: Context, project: Project) -> dict[str, str]:
    """The project's demo env: each variable set to its running local service's URL."""
    if not project.demo_env:
        return {}
    log = ctx.log(project)
    up = _run([*ctx.launcher, "up", *project.services], log, cwd=ctx.root)
    if up.returncode != 0:
        raise StepFailed(f"service unavailable ({', '.join(project.services)}): {_last_line(log)}")
    env = _run([*ctx.launcher, "env", *project.services], log, cwd=ctx.root)
    urls: dict[str, str] = {}
    for line in env.stdout.splitlines():
        var, _, url = line.removeprefix("export ").partition("=")
        urls[var] = url
    by_service = {_SERVICE_OF_ENV.get(var, var): url for var, url in urls.items()}
    missing = [s for s in project.services if s not in by_service]
    if missing:
        raise StepFailed(f"service unavailable: {', '.join(missing)} reported no URL")
    return {var: by_service[service] for var, service in project.demo_env.items()}


# The launcher's env var for each service (infra/services/README.md).
_SERVICE_OF_ENV = {
    "DE_POSTGRES_URL": "postgres",
    "DE_RABBITMQ_URL": "rabbitmq",
    "DE_KAFKA_BOOTSTRAP": "kafka",
    "DE_HDFS_URL": "hdfs",
    "DE_HIVE_URL": "hive",
    "DE_S3_ENDPOINT": "moto",
    "DE_PROMETHEUS_URL": "prometheus",
    "DE_PUSHGATEWAY_URL": "pushgateway",
}


def sync_venv(ctx: Context, project: Project) -> Path:
    """Install the project's locked runtime set (no dev tools) into its demo venv."""
    venv = ctx.venv(project)
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
    argv = ["uv", "sync", "--locked", "--quiet", "--project", str(project.path)]
    done = _run([*argv, "--no-default-groups"], ctx.log(project), env=env, cwd=ctx.root)
    if done.returncode != 0:
        raise StepFailed(f"install failed: {_last_line(ctx.log(project))}")
    return venv / "bin" / "python"


def what_it_runs(python: Path, project: Project) -> str:
    """The demo command's one-line help: what the row says ran."""
    done = subprocess.run(
        [str(python), "-m", project.name, "demo", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    paragraphs = [p.strip() for p in done.stdout.split("\n\n")]
    text = paragraphs[1] if len(paragraphs) > 1 else project.description
    return " ".join(text.split())


def parse_summary(stdout: str) -> dict[str, Any]:
    """The one JSON summary object a `--json` job prints (the last `{...}` line block)."""
    start = stdout.find("{")
    if start < 0:
        raise ValueError("no JSON summary on stdout")
    summary, _ = json.JSONDecoder().raw_decode(stdout[start:])
    if not isinstance(summary, dict):
        raise ValueError("the summary is not a JSON object")
    return summary


def collect_output(ctx: Context, project: Project, output: str | None) -> str | None:
    """Where the output is, made reachable from the page: an HTML report is copied beside it."""
    if not output:
        return None
    path = Path(output)
    if path.suffix == ".html" and path.is_file():
        target = ctx.out / project.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.resolve() != target.resolve():
            shutil.copy2(path, target)
        return str(target.relative_to(ctx.out))
    return output


def run_demo(ctx: Context, project: Project) -> Outcome:
    """Services, venv, `python -m <project> demo --json`: one Outcome, never an exception."""
    log = ctx.log(project)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    started = time.monotonic()
    outcome = Outcome(project.name, project.description, "failed", log=str(log))
    try:
        env = start_services(ctx, project)
    except StepFailed as exc:
        outcome.status, outcome.error = "unavailable", str(exc)
        return outcome
    try:
        python = sync_venv(ctx, project)
        outcome.what = what_it_runs(python, project)
        workdir = ctx.out / project.name
        workdir.mkdir(parents=True, exist_ok=True)
        done = _run(
            [str(python), "-m", project.name, "demo", "--json"],
            log,
            env={**os.environ, **env},
            cwd=workdir,
            timeout=ctx.timeout_s,
        )
    except StepFailed as exc:
        outcome.error = str(exc)
        return outcome
    except subprocess.TimeoutExpired:
        outcome.error = f"demo timed out after {ctx.timeout_s:.0f}s"
        return outcome
    finally:
        outcome.duration_s = round(time.monotonic() - started, 1)
    try:
        summary = parse_summary(done.stdout)
    except ValueError as exc:
        outcome.error = f"exit {done.returncode}, {exc}: {_last_line(log)}"
        return outcome
    outcome.summary = summary
    outcome.status = "ok" if done.returncode == 0 and summary.get("status") == "ok" else "failed"
    outcome.error = summary.get("error") or (None if outcome.ok else _last_line(log))
    for key in ("records_in", "records_out", "records_rejected"):
        value = summary.get(key)
        setattr(outcome, key, value if isinstance(value, int) else None)
    outcome.output = collect_output(ctx, project, summary.get("output"))
    outcome.figure = figure_of(summary)
    return outcome
