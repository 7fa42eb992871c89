"""The job commands: each takes the settings (and what to read or write) and returns a Summary.

Lines are accounted for as the run contract wants them: `records_in` lines read, `records_out`
requests counted, `records_rejected` lines that could not be used, `records_skipped["filtered"]`
requests the filters left out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from de_common.cli import progress
from de_common.config import with_overrides
from de_common.faults import fault_point
from de_common.run import JobFailed, Summary
from log_analyzer import pipeline
from log_analyzer.config import LogAnalyzerSettings
from log_analyzer.filters import Filters
from log_analyzer.generate import GenOptions, rotated_set
from log_analyzer.generate import generate as write_sample
from log_analyzer.report import build_report
from log_analyzer.sources import Input, expand

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outputs:
    """What an analysis writes besides its summary; None = not written."""

    csv_dir: Path | None = None
    parquet_dir: Path | None = None
    html_path: Path | None = None
    title: str = "Access log report"


@dataclass(frozen=True)
class AnalyzeRequest:
    """What to analyse (paths, globs, folders, '-'), which requests count, what to write."""

    inputs: Sequence[str]
    filters: Filters = field(default_factory=Filters)
    outputs: Outputs = field(default_factory=Outputs)
    run_id: str = "run"


@dataclass(frozen=True)
class GenerateRequest:
    """Where to write a sample log set, as a rotated set or one access.log."""

    folder: Path
    options: GenOptions = field(default_factory=GenOptions)
    rotated: bool = True


@dataclass(frozen=True)
class DemoRequest:
    """The demo's folder (None = a new temporary one) and the size of its sample logs."""

    out: Path | None = None
    lines: int = 60_000
    seed: int = 7
    run_id: str = "run"


def analyze(settings: LogAnalyzerSettings, request: AnalyzeRequest) -> Summary:
    """Analyse, write the requested outputs, enforce max_reject_rate, then commit the Parquet
    parts and the incremental state (a failed run commits neither)."""
    sources = expand(request.inputs)
    opts = _pipeline_options(settings, request)
    with progress(_size_on_disk(sources), "reading logs") as bar:
        result = pipeline.analyze(sources, opts, on_bytes=bar.advance)
    report = build_report(result.agg, settings.top_n, settings.granularity)
    summary = _summary(result, request.run_id)
    summary.extra.update(_write_outputs(report, summary, request.outputs))
    rate = _reject_rate(result)
    if settings.max_reject_rate is not None and rate > settings.max_reject_rate:
        raise JobFailed(
            f"{result.rejected} of {result.lines} lines rejected ({rate:.2%}), above "
            f"--max-reject-rate {settings.max_reject_rate:.2%}; see {result.rejects_path}",
            summary,
        )
    fault_point("analyze.before_commit")
    pipeline.commit(result, opts)
    summary.details["report"] = report
    return summary


def generate(settings: LogAnalyzerSettings, request: GenerateRequest) -> Summary:
    """Write a seeded sample log set; its malformed lines count as rejected. (No setting applies;
    the settings are taken like every job's.)"""
    paths = rotated_set(request.folder) if request.rotated else [request.folder / "access.log"]
    # Visitor sets are only for tests that check the report against the generator's truth.
    truth = write_sample(paths, dataclasses.replace(request.options, count_visitors=False))
    return Summary(
        records_in=truth.lines,
        records_out=truth.valid,
        records_rejected=truth.malformed,
        extra={"files": [str(p) for p in paths], "bytes_served": truth.bytes},
    )


def demo(settings: LogAnalyzerSettings, request: DemoRequest) -> Summary:
    """Generate a seeded rotated log set with malformed lines, then analyse it into every output."""
    folder = request.out or Path(tempfile.mkdtemp(prefix="log-analyzer-demo-"))
    paths = rotated_set(folder / "logs")
    started = time.monotonic()
    write_sample(
        paths,
        GenOptions(
            lines=request.lines,
            seed=request.seed,
            duration=True,
            malformed_every=997,
            rate_per_s=0.5,
        ),
    )
    log.info(
        "demo logs written",
        extra={"folder": str(folder / "logs"), "s": round(time.monotonic() - started, 2)},
    )
    outputs = Outputs(
        csv_dir=folder / "csv",
        parquet_dir=folder / "parquet",
        html_path=folder / "report.html",
        title="log_analyzer demo",
    )
    summary = analyze(
        with_overrides(settings, rejects_file=folder / "rejects.jsonl"),
        AnalyzeRequest([str(p) for p in paths], outputs=outputs, run_id=request.run_id),
    )
    # What the showcase page shows for this project: the report, and its status mix.
    summary.extra["output"] = str(outputs.html_path)
    classes = summary.details.get("report", {}).get("status_classes", {})
    summary.extra["figure"] = {
        "title": "responses by status class",
        "unit": "requests",
        "bars": classes,
    }
    return summary


def _pipeline_options(settings: LogAnalyzerSettings, request: AnalyzeRequest) -> pipeline.Options:
    return pipeline.Options(
        format_name=settings.format,
        format_string=settings.format_string,
        column_overrides=settings.columns,
        block_size=settings.block_size_mb << 20,
        max_line=settings.max_line_bytes,
        workers=settings.workers,
        executor=settings.executor,
        filters=request.filters,
        strip_query=settings.strip_query,
        rejects_path=settings.rejects_file,
        parquet_dir=request.outputs.parquet_dir,
        state_path=settings.state_file,
        run_id=request.run_id,
    )


def _size_on_disk(sources: list[Input]) -> int | None:
    """Bytes to read for the progress bar; None (an open-ended bar) when unknown."""
    total = 0
    for source in sources:
        if not source.is_stdin:
            with contextlib.suppress(OSError):  # gone since it was listed: named later
                total += os.path.getsize(source.path)
    return total or None


def _reject_rate(r: pipeline.RunResult) -> float:
    return r.rejected / r.lines if r.lines else 0.0


def _summary(r: pipeline.RunResult, run_id: str) -> Summary:
    return Summary(
        records_in=r.lines,
        records_out=r.parsed - r.filtered,
        records_rejected=r.rejected,
        records_skipped={"filtered": r.filtered},
        extra={
            "run_id": run_id,
            "format": r.format,
            "files": len(r.files),
            "latin1_lines": r.latin1,
            "fallback_lines": r.fallback,
            "reject_rate": round(_reject_rate(r), 6),
            "reject_reasons": dict(r.reasons.most_common()),
            "rejects_file": r.rejects_path,
            "unreadable": r.vanished,
            "file_events": {f["path"]: f.get("event", "read") for f in r.files},
        },
    )


def _write_outputs(report: dict[str, Any], summary: Summary, outputs: Outputs) -> dict[str, Any]:
    """CSV tables and the HTML page now; Parquet parts are moved into place by the commit."""
    written: dict[str, Any] = {}
    if outputs.csv_dir is not None:
        from log_analyzer.csv_out import write_csv

        written["csv_files"] = write_csv(report, outputs.csv_dir)
    if outputs.html_path is not None:
        from log_analyzer.html_report import render_html

        outputs.html_path.parent.mkdir(parents=True, exist_ok=True)
        page = render_html(report, summary, outputs.title)
        outputs.html_path.write_text(page, encoding="utf-8")
        written["html"] = str(outputs.html_path)
    if outputs.parquet_dir is not None:
        written["parquet"] = str(outputs.parquet_dir)
    return written
