"""monitoring: serve (the exporter), probe, coverage, dashboards, demo (and config from de_common)."""

from __future__ import annotations

import click

from de_common.cli import json_option, make_cli, pass_run
from de_common.flags import setting_flags
from de_common.run import Run
from monitoring import jobs
from monitoring.config import MonitoringSettings

S = MonitoringSettings
DEMO_FLAGS = (
    "demo_kafka_bootstrap",
    "demo_rabbitmq_management_url",
    "demo_s3_endpoint",
    "demo_hdfs_url",
)

cli = make_cli(
    "monitoring",
    MonitoringSettings,
    help="Pipeline health from outside (Kafka lag, RabbitMQ queues, table and lake freshness) as "
    "Prometheus metrics, with the alert rules and Grafana dashboards checked against the code.",
)


@cli.command()
@setting_flags(S, "checks", "listen_addr", "port", "interval_s")
@pass_run
def serve(run: Run[MonitoringSettings]) -> None:
    """Run the exporter: checks every interval, /metrics on listen-addr:port, until SIGTERM."""
    jobs.serve(run.settings)


@cli.command()
@setting_flags(S, "checks")
@json_option
@pass_run
def probe(run: Run[MonitoringSettings], as_json: bool) -> None:
    """Run every check of the checks file once; up checks are out, down ones skipped as down."""
    run.execute(lambda: jobs.probe(run.settings), as_json)


@cli.command()
@setting_flags(S, "root", "quarantine")
@json_option
@pass_run
def coverage(run: Run[MonitoringSettings], as_json: bool) -> None:
    """Every metric the repository exports needs a panel, an alert or a listed reason (exit 1)."""
    run.execute(lambda: jobs.check_coverage(run.settings), as_json)


@cli.command()
@click.option("--project", "projects", multiple=True, help="Only this project (repeatable).")
@click.option("--force", is_flag=True, help="Overwrite existing dashboard files.")
@setting_flags(S, "root")
@json_option
@pass_run
def dashboards(
    run: Run[MonitoringSettings], projects: tuple[str, ...], force: bool, as_json: bool
) -> None:
    """Write the overview and per-project dashboards into infra/grafana/dashboards."""
    run.execute(lambda: jobs.write_dashboards(run.settings, list(projects), force), as_json)


@cli.command()
@setting_flags(S, *DEMO_FLAGS)
@json_option
@pass_run
def demo(run: Run[MonitoringSettings], as_json: bool) -> None:
    """Seed a stale table, a lagging group, full queues and DLQs in the services given; probe them."""
    run.execute(lambda: jobs.demo(run.settings), as_json)


def main() -> None:
    """Console script entry point."""
    cli()
