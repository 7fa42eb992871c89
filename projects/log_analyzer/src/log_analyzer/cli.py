"""Command line: analyze, generate, demo (and config from de_common). Parses, then calls jobs.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from de_common.cli import json_option, make_cli, pass_run
from de_common.flags import setting_flags
from de_common.run import Run, Summary
from log_analyzer import jobs
from log_analyzer.config import LogAnalyzerSettings
from log_analyzer.filters import Filters
from log_analyzer.generate import GenOptions

cli = make_cli(
    "log_analyzer",
    LogAnalyzerSettings,
    "Fast, bounded-memory analytics for web-server, CSV and JSON-lines logs.",
)


def _render(summary: Summary) -> None:
    """The report as tables for a person; the summary table printed after them has the counts."""
    from log_analyzer.console_report import render

    render(summary.details["report"], summary)


@cli.command("analyze")
@click.argument("inputs", nargs=-1, required=True)
@setting_flags(
    LogAnalyzerSettings,
    "format",
    "format_string",
    "columns",
    "workers",
    "executor",
    "block_size_mb",
    "max_line_bytes",
    "top_n",
    "granularity",
    "strip_query",
    "rejects_file",
    "max_reject_rate",
    "state_file",
)
@click.option("--since", help="Only requests at or after this time (ISO 8601, UTC default).")
@click.option("--until", help="Only requests before this time.")
@click.option("--status", help="Only these statuses, e.g. 404,5xx.")
@click.option("--path", help="Only paths matching this regex.")
@click.option("--csv", "csv_dir", type=click.Path(path_type=Path), help="Write tables as CSV.")
@click.option(
    "--parquet",
    "parquet_dir",
    type=click.Path(path_type=Path),
    help="Write parsed rows as Parquet (date=YYYY-MM-DD/).",
)
@click.option("--html", "html_path", type=click.Path(path_type=Path), help="HTML report file.")
@json_option
@pass_run
def analyze_cmd(
    run: Run[LogAnalyzerSettings], inputs: tuple[str, ...], as_json: bool, **flags: Any
) -> None:
    """Analyse log files, globs, rotated sets or '-' (stdin)."""
    request = jobs.AnalyzeRequest(
        inputs,
        filters=Filters.parse(flags["since"], flags["until"], flags["status"], flags["path"]),
        outputs=jobs.Outputs(flags["csv_dir"], flags["parquet_dir"], flags["html_path"]),
        run_id=run.run_id,
    )
    run.execute(lambda: jobs.analyze(run.settings, request), as_json, render=_render)


@cli.command("generate")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--lines", type=int, default=100_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--duration/--no-duration", default=True, show_default=True)
@click.option("--malformed-every", type=int, default=0, show_default=True)
@click.option(
    "--hostile-every",
    type=int,
    default=0,
    show_default=True,
    help="One hostile line every N (cut quotes, random bytes, NUL runs, empty, invalid UTF-8).",
)
@click.option("--rotated/--single", default=True, show_default=True)
@json_option
@pass_run
def generate_cmd(run: Run[LogAnalyzerSettings], folder: Path, as_json: bool, **flags: Any) -> None:
    """Write a seeded sample log set (access.log.2.gz, access.log.1, access.log)."""
    options = GenOptions(
        lines=flags["lines"],
        seed=flags["seed"],
        duration=flags["duration"],
        malformed_every=flags["malformed_every"],
        hostile_every=flags["hostile_every"],
    )
    request = jobs.GenerateRequest(folder, options, rotated=flags["rotated"])
    run.execute(lambda: jobs.generate(run.settings, request), as_json)


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
    request = jobs.DemoRequest(out, lines, seed, run.run_id)
    run.execute(lambda: jobs.demo(run.settings, request), as_json, render=_render)


def main() -> None:
    """Console script entry point."""
    cli()
