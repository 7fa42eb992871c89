"""api-fetcher: run, backfill, schedule, demo; sources, state and demo-api report or serve."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import click

from api_fetcher import jobs, spec
from api_fetcher.config import ApiFetcherSettings
from api_fetcher.demo_api import DemoApi, DemoConfig
from api_fetcher.extract import Window
from api_fetcher.scheduler import Until
from api_fetcher.shutdown import stop_on_signals
from api_fetcher.state import read_all
from api_fetcher.telemetry import fetch_metrics
from de_common.cli import json_option, make_cli, pass_run
from de_common.flags import setting_flags
from de_common.run import Run, emit_state

S = ApiFetcherSettings
# The knobs every fetching command takes.
FETCH_FLAGS = ("sources", "sink", "output_dir", "state_dir", "quarantine_dir", "concurrency")
TUNING_FLAGS = ("batch_records", "timeout_s", "retries", "max_failed_pages", "metrics_port")

cli = make_cli(
    "api_fetcher",
    ApiFetcherSettings,
    help="Scheduled, incremental REST API ingestion: declarative sources, auth, pagination, "
    "retries, rate limits, state saved after durable writes.",
)


@cli.command()
@click.argument("names", nargs=-1)
@setting_flags(S, *FETCH_FLAGS, *TUNING_FLAGS)
@json_option
@pass_run
def run(run: Run[ApiFetcherSettings], names: tuple[str, ...], as_json: bool) -> None:
    """Fetch the named sources (all by default) once, from their saved cursors."""
    metrics = fetch_metrics(run.metrics)
    run.execute(lambda: jobs.fetch(run.settings, metrics, list(names)), as_json)


@cli.command()
@click.argument("source")
@click.option(
    "--from", "start", required=True, help="First cursor value (inclusive), e.g. 2024-01-01."
)
@click.option("--to", "end", required=True, help="Last cursor value (exclusive).")
@click.option("--endpoint", "endpoints", multiple=True, help="Only this endpoint; repeatable.")
@setting_flags(S, *FETCH_FLAGS, *TUNING_FLAGS)
@json_option
@pass_run
def backfill(
    run: Run[ApiFetcherSettings],
    source: str,
    start: str,
    end: str,
    endpoints: tuple[str, ...],
    as_json: bool,
) -> None:
    """Fetch a time range again through the endpoints' time filters; the cursor does not move."""
    metrics = fetch_metrics(run.metrics)
    window = Window(start=start, end=end, backfill=True)
    run.execute(
        lambda: jobs.backfill(run.settings, metrics, (source, list(endpoints)), window), as_json
    )


@cli.command("schedule")
@click.argument("names", nargs=-1)
@click.option("--runs", type=click.IntRange(min=1), help="Return after this many source runs.")
@click.option(
    "--for", "seconds", type=click.FloatRange(min=0), help="Return after this many seconds."
)
@setting_flags(S, *FETCH_FLAGS, *TUNING_FLAGS)
@json_option
@pass_run
def schedule_cmd(
    run: Run[ApiFetcherSettings],
    names: tuple[str, ...],
    runs: int | None,
    seconds: float | None,
    as_json: bool,
) -> None:
    """Run every source on its own interval_s until SIGTERM; overlapping ticks are skipped."""
    metrics = fetch_metrics(run.metrics)
    until = Until(runs=runs, seconds=seconds)
    run.execute(lambda: jobs.scheduled(run.settings, metrics, list(names), until), as_json)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), help="Folder (default: a temp folder).")
@setting_flags(S, "sink", "concurrency")
@json_option
@pass_run
def demo(run: Run[ApiFetcherSettings], out: Path | None, as_json: bool) -> None:
    """Start the bundled API, fetch it in every auth and pagination style, change it, fetch again."""
    folder = out or Path(tempfile.mkdtemp(prefix="api_fetcher-demo-"))
    metrics = fetch_metrics(run.metrics)
    run.execute(lambda: jobs.demo(run.settings, metrics, folder), as_json)


@cli.command()
@setting_flags(S, "sources")
@json_option
@pass_run
def sources(run: Run[ApiFetcherSettings], as_json: bool) -> None:
    """Check the source file and list its sources and endpoints."""
    parsed = spec.load(run.settings.sources)
    listing = {
        s.name: {
            "base_url": s.base_url,
            "auth": s.auth.type,
            "interval_s": s.interval_s,
            "endpoints": {e.name: e.pagination.type for e in s.endpoints},
        }
        for s in parsed.sources
    }
    emit_state({"sources": listing}, as_json)


@cli.command()
@setting_flags(S, "state_dir")
@json_option
@pass_run
def state(run: Run[ApiFetcherSettings], as_json: bool) -> None:
    """Show the saved cursor of every endpoint."""
    emit_state({"state": read_all(run.settings.state_dir)}, as_json)


@cli.command("demo-api")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--records", type=click.IntRange(min=0), default=1_000, show_default=True)
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of pages answered 429 or 500 once first.")  # fmt: skip
@click.option("--invalid-every", type=click.IntRange(min=0), default=0, show_default=True)
@pass_run
def demo_api(
    run: Run[ApiFetcherSettings],
    port: int,
    records: int,
    latency_ms: float,
    fault_rate: float,
    invalid_every: int,
) -> None:
    """Serve the bundled demo API on 127.0.0.1 until SIGTERM or Ctrl-C."""
    config = DemoConfig(
        records=records,
        latency_s=latency_ms / 1000,
        fault_rate=fault_rate,
        invalid_every=invalid_every,
    )
    api = DemoApi(config, port=port).start()
    click.echo(api.url, err=False)
    stop = threading.Event()
    with stop_on_signals(stop):
        stop.wait()
    api.stop()


def main() -> None:
    """Console script entry point."""
    cli()
