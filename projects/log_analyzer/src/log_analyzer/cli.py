"""Command line: analyze, demo, generate (and config from de_common)."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from de_common.cli import Run, Summary, emit_summary, json_option, make_cli, pass_run, progress
from de_common.errors import JobError, UserError
from log_analyzer.config import LogAnalyzerSettings
from log_analyzer.filters import Filters, check_regex, parse_statuses
from log_analyzer.formats import FORMAT_NAMES
from log_analyzer.generate import GenOptions, generate, rotated_set
from log_analyzer.pipeline import Options, RunResult, analyze, commit
from log_analyzer.report import build_report

log = logging.getLogger(__name__)

cli = make_cli(
    "log_analyzer",
    LogAnalyzerSettings,
    "Fast, bounded-memory analytics for web-server, CSV and JSON-lines logs.",
)


def _epoch(text: str | None, flag: str) -> int | None:
    if text is None:
        return None
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{flag}: cannot read {text!r} as an ISO 8601 date or time") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp())


def _columns(items: tuple[str, ...]) -> dict[str, str] | None:
    if not items:
        return None
    out = {}
    for item in items:
        canon, sep, source = item.partition("=")
        if not sep or not canon or not source:
            raise UserError(f"--column takes FIELD=COLUMN, got {item!r}")
        out[canon.strip()] = source.strip()
    return out


def run_analysis(
    run: Run[LogAnalyzerSettings],
    inputs: list[str],
    *,
    filters: Filters,
    as_json: bool,
    csv_dir: Path | None,
    parquet_dir: Path | None,
    html_path: Path | None,
    title: str = "Access log report",
) -> dict[str, Any]:
    """Analyse, write the requested outputs, account for every line, enforce the reject rate."""
    s = run.settings
    opts = Options(
        format_name=s.format,
        format_string=s.format_string,
        column_overrides=s.columns,
        block_size=s.block_size_mb << 20,
        max_line=s.max_line_bytes,
        workers=s.workers,
        executor=s.executor,
        filters=filters,
        strip_query=s.strip_query,
        rejects_path=s.rejects_file,
        parquet_dir=parquet_dir,
        state_path=s.state_file,
        run_id=run.run_id,
    )
    total_bytes = sum(os.path.getsize(p) for p in inputs if os.path.isfile(p)) or None
    with run.metrics.timed(), progress(total_bytes, "reading logs") as bar:
        result = analyze(inputs, opts, on_bytes=bar.advance)
    report = build_report(result.agg, s.top_n, s.granularity)
    summary = _summary(run, result)
    if csv_dir is not None:
        from log_analyzer.csv_out import write_csv

        summary["csv_files"] = write_csv(report, csv_dir)
    if html_path is not None:
        from log_analyzer.html_report import render_html

        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render_html(report, summary, title), encoding="utf-8")
        summary["html"] = str(html_path)
    if parquet_dir is not None:
        summary["parquet"] = str(parquet_dir)
    run.metrics.count("ok", result.parsed - result.filtered)
    run.metrics.count("filtered", result.filtered)
    run.metrics.count("rejected", result.rejected)
    rate = result.rejected / result.lines if result.lines else 0.0
    summary["reject_rate"] = round(rate, 6)
    if s.max_reject_rate is not None and rate > s.max_reject_rate:
        run.push_metrics(run.settings.pushgateway_url)
        raise JobError(
            f"{result.rejected} of {result.lines} lines rejected ({rate:.2%}), above "
            f"--max-reject-rate {s.max_reject_rate:.2%}; see {result.rejects_path}"
        )
    commit(result, opts)
    run.metrics.mark_success()
    run.push_metrics(run.settings.pushgateway_url)
    if not as_json:
        from log_analyzer.console_report import render

        render(report, summary)
    emit_summary(
        Summary(
            records_in=result.lines,
            records_out=result.parsed - result.filtered,
            records_rejected=result.rejected,
            duration_s=run.elapsed(),
            extra={**summary, "report": report} if as_json else summary,
        ),
        as_json,
    )
    return report


def _summary(run: Run[LogAnalyzerSettings], r: RunResult) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "format": r.format,
        "files": len(r.files),
        "lines": r.lines,
        "parsed": r.parsed,
        "rejected": r.rejected,
        "records_filtered": r.filtered,
        "latin1_lines": r.latin1,
        "reject_reasons": dict(r.reasons.most_common()),
        "rejects_file": r.rejects_path,
        "unreadable": r.vanished,
        "file_events": {f["path"]: f.get("event", "read") for f in r.files},
    }


_FORMAT = click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), help="Force a format.")


@cli.command("analyze")
@click.argument("inputs", nargs=-1, required=True)
@_FORMAT
@click.option("--format-string", help="Nginx log_format ($var) or Apache LogFormat (%x) string.")
@click.option("--column", "columns", multiple=True, help="CSV/JSON mapping FIELD=COLUMN.")
@click.option("--workers", type=int, help="Parallel workers over files and byte ranges.")
@click.option(
    "--executor",
    type=click.Choice(["threads", "processes"]),
    help="threads (default: Arrow releases the GIL, one heap) or processes.",
)
@click.option("--since", help="Only requests at or after this time (ISO 8601, UTC default).")
@click.option("--until", help="Only requests before this time.")
@click.option("--status", "status", help="Only these statuses, e.g. 404,5xx.")
@click.option("--path", "path_regex", help="Only paths matching this regex.")
@click.option("--top", "top_n", type=int, help="Rows in each top list.")
@click.option("--granularity", type=click.Choice(["auto", "minute", "hour"]))
@click.option("--csv", "csv_dir", type=click.Path(path_type=Path), help="Write tables as CSV.")
@click.option("--parquet", "parquet_dir", type=click.Path(path_type=Path), help="Parsed rows.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), help="HTML report file.")
@click.option("--rejects", "rejects_file", type=click.Path(path_type=Path), help="Rejects file.")
@click.option("--state", "state_file", type=click.Path(path_type=Path), help="Incremental state.")
@click.option("--max-reject-rate", type=float, help="Fail (exit 1) above this share, 0..1.")
@json_option
@pass_run
def analyze_cmd(run: Run[LogAnalyzerSettings], inputs: tuple[str, ...], **kw: Any) -> None:
    """Analyse log files, globs, rotated sets or '-' (stdin)."""
    run.with_overrides(
        format=kw["fmt"],
        format_string=kw["format_string"],
        columns=_columns(kw["columns"]),
        workers=kw["workers"],
        executor=kw["executor"],
        top_n=kw["top_n"],
        granularity=kw["granularity"],
        rejects_file=kw["rejects_file"],
        state_file=kw["state_file"],
        max_reject_rate=kw["max_reject_rate"],
    )
    filters = Filters(
        since=_epoch(kw["since"], "--since"),
        until=_epoch(kw["until"], "--until"),
        statuses=parse_statuses(kw["status"]),
        path_regex=check_regex(kw["path_regex"]),
    )
    run_analysis(
        run,
        list(inputs),
        filters=filters,
        as_json=kw["as_json"],
        csv_dir=kw["csv_dir"],
        parquet_dir=kw["parquet_dir"],
        html_path=kw["html_path"],
    )


@cli.command("generate")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--lines", type=int, default=100_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--duration/--no-duration", default=True, show_default=True)
@click.option("--malformed-every", type=int, default=0, show_default=True)
@click.option("--rotated/--single", default=True, show_default=True)
@json_option
@pass_run
def generate_cmd(run: Run[LogAnalyzerSettings], folder: Path, **kw: Any) -> None:
    """Write a seeded sample log set (access.log.2.gz, access.log.1, access.log)."""
    paths = rotated_set(folder) if kw["rotated"] else [folder / "access.log"]
    opts = GenOptions(
        lines=kw["lines"],
        seed=kw["seed"],
        duration=kw["duration"],
        malformed_every=kw["malformed_every"],
        count_visitors=False,
    )
    truth = generate(paths, opts)
    emit_summary(
        Summary(
            truth.lines,
            truth.valid,
            truth.malformed,
            run.elapsed(),
            {"files": [str(p) for p in paths], "bytes_served": truth.bytes},
        ),
        kw["as_json"],
    )


@cli.command("demo")
@click.option("--out", type=click.Path(path_type=Path), help="Folder (default: a temp folder).")
@click.option("--lines", type=int, default=60_000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@json_option
@pass_run
def demo_cmd(
    run: Run[LogAnalyzerSettings], out: Path | None, lines: int, seed: int, as_json: bool
) -> None:
    """Generate a seeded rotated log set with malformed lines, then analyse it end to end."""
    folder = out or Path(tempfile.mkdtemp(prefix="log-analyzer-demo-"))
    logs = folder / "logs"
    paths = rotated_set(logs)
    started = time.monotonic()
    generate(
        paths,
        GenOptions(lines=lines, seed=seed, duration=True, malformed_every=997, rate_per_s=0.5),
    )
    log.info(
        "demo logs written", extra={"folder": str(logs), "s": round(time.monotonic() - started, 2)}
    )
    run.with_overrides(rejects_file=folder / "rejects.jsonl")
    run_analysis(
        run,
        [str(p) for p in paths],
        filters=Filters(),
        as_json=as_json,
        csv_dir=folder / "csv",
        parquet_dir=folder / "parquet",
        html_path=folder / "report.html",
        title="log_analyzer demo",
    )


def main() -> None:
    """Console script entry point."""
    cli()
