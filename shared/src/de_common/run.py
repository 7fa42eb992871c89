"""The run contract: every job command's run is timed, counted, reported and finished by `execute()`.

A job is a function that takes its settings (and inputs) and returns a `Summary`. `execute()` times it,
checks the record balance, records outcomes from the summary, pushes or serves metrics as configured,
always prints the summary (`status` ok or failed, with the error) and marks the last success only on
a clean exit. No project times, counts or pushes by hand.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from de_common import logging as de_logging
from de_common.config import Settings
from de_common.errors import JobError, ServiceUnavailable, UserError
from de_common.metrics import JobMetrics, push, serve
from de_common.profiling import ProfileOptions, profiled

S = TypeVar("S", bound=Settings)

log = logging.getLogger(__name__)

# The keys every job summary starts with, in this order; a job's own keys come after and never
# repeat one of these.
STANDARD_KEYS = (
    "records_in",
    "records_out",
    "records_rejected",
    "records_skipped",
    "duration_s",
    "status",
)


class BalanceError(JobError):
    """records_in != records_out + records_rejected + sum(records_skipped): a bug in the job."""


@dataclass
class Summary:
    """What a job accounts for: every record in is out, rejected or skipped for a named reason."""

    records_in: int = 0
    records_out: int = 0
    records_rejected: int = 0
    records_skipped: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # Printed after `extra` with --json only (a full report), never in the table for a person.
    details: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        """Raise BalanceError when the counts do not add up or a job key shadows a standard one."""
        clash = sorted((set(self.extra) | set(self.details)) & {*STANDARD_KEYS, "error"})
        if clash:
            raise BalanceError(f"job keys repeat standard summary keys: {', '.join(clash)}")
        skipped = sum(self.records_skipped.values())
        if self.records_in != self.records_out + self.records_rejected + skipped:
            raise BalanceError(
                f"records do not balance: in {self.records_in} != out {self.records_out} + "
                f"rejected {self.records_rejected} + skipped {skipped} {self.records_skipped}"
            )

    def as_dict(self, duration_s: float, status: str, error: str | None = None) -> dict[str, Any]:
        """The summary a person sees: the standard keys, the error (if any), then the job's keys."""
        data: dict[str, Any] = {
            "records_in": self.records_in,
            "records_out": self.records_out,
            "records_rejected": self.records_rejected,
            "records_skipped": dict(self.records_skipped),
            "duration_s": duration_s,
            "status": status,
        }
        if error is not None:
            data["error"] = error
        data.update(self.extra)
        return data


class JobFailed(JobError):
    """The run failed after accounting for its records: the summary is printed with the error."""

    def __init__(self, message: str, summary: Summary, exit_code: int = 1) -> None:
        super().__init__(message)
        self.summary = summary
        self.exit_code = exit_code


@dataclass
class Run(Generic[S]):
    """What one command invocation works with: its settings, run id and metrics."""

    project: str
    settings: S
    run_id: str
    metrics: JobMetrics
    started: float = field(default_factory=time.monotonic)
    profile: ProfileOptions = field(default_factory=ProfileOptions)

    def execute(
        self,
        job: Callable[[], Summary],
        as_json: bool,
        render: Callable[[Summary], None] | None = None,
    ) -> Summary:
        """Run the job under the contract; a failure is re-raised after its summary is printed.

        `render` shows a person more than the summary table (a report) on a clean, non-JSON run.
        """
        server = None
        if self.settings.metrics_port is not None:
            server, _ = serve(self.settings.metrics_port, self.metrics.registry)
        try:
            return self._execute(job, as_json, render)
        finally:
            if server is not None:
                server.shutdown()

    def _execute(
        self,
        job: Callable[[], Summary],
        as_json: bool,
        render: Callable[[Summary], None] | None,
    ) -> Summary:
        started = time.perf_counter()
        try:
            with profiled(self.profile):
                summary = job()
            summary.check()
        except (UserError, JobError) as exc:
            partial = exc.summary if isinstance(exc, JobFailed) else Summary()
            self._record(partial, time.perf_counter() - started, ok=False)
            emit(partial.as_dict(self._elapsed(started), "failed", _one_line(exc)), as_json)
            raise
        except Exception as exc:
            self._record(Summary(), time.perf_counter() - started, ok=False)
            error = f"{type(exc).__name__}: {_one_line(exc)}"
            emit(Summary().as_dict(self._elapsed(started), "failed", error), as_json)
            raise
        self._record(summary, time.perf_counter() - started, ok=True)
        if render is not None and not as_json:
            render(summary)
        data = summary.as_dict(self._elapsed(started), "ok")
        emit({**data, **summary.details} if as_json else data, as_json)
        return summary

    def _record(self, summary: Summary, seconds: float, ok: bool) -> None:
        """Outcomes from the summary, the duration, last success only when ok; then push."""
        self.metrics.count("ok", summary.records_out)
        self.metrics.count("rejected", summary.records_rejected)
        for reason, n in summary.records_skipped.items():
            self.metrics.count(reason, n)
        self.metrics.duration.labels(project=self.project).observe(seconds)
        if ok:
            self.metrics.mark_success()
        self.metrics.runs.labels(project=self.project, status="ok" if ok else "failed").inc()
        if self.settings.pushgateway_url:
            # Grouped by job (the project) only: a per-run key would leave one group per run on
            # the gateway forever, and last_success would never be overwritten. A gateway that
            # cannot be reached does not undo the work: the run keeps its status, the error is
            # logged, and the stale last_success is what monitoring alerts on.
            try:
                push(self.settings.pushgateway_url, self.project, self.metrics.registry)
            except ServiceUnavailable as exc:
                log.error("metrics not pushed: %s", exc)

    @staticmethod
    def _elapsed(started: float) -> float:
        return round(time.perf_counter() - started, 3)


def _one_line(exc: BaseException) -> str:
    return de_logging.redact(" ".join(str(exc).split()) or type(exc).__name__)


def emit(data: Mapping[str, Any], as_json: bool) -> None:
    """One JSON object on stdout, or a small two-column table for a person."""
    if as_json:
        click.echo(json.dumps(data, default=str))
        return
    table = Table(show_header=False, box=None)
    for key, value in data.items():
        shown = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
        # Text, not markup: a value such as a regex `^[a-z]+$` must print as it is.
        table.add_row(Text(key), Text(shown))
    Console().print(table)


def emit_state(data: Mapping[str, Any], as_json: bool) -> None:
    """What a state command (lag, status, topics list) prints: its own JSON, no job keys."""
    emit(data, as_json)
