"""monitoring: serve (the exporter), probe, check, coverage, dashboards, demo (and config)."""

from __future__ import annotations

from collections.abc import Callable

import click

from de_common.cli import json_option, make_cli, pass_run
from de_common.errors import JobError
from de_common.flags import setting_flags
from de_common.run import Run, emit_state
from monitoring import jobs, thresholds
from monitoring.config import MonitoringSettings
from monitoring.thresholds import Verdict

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


@cli.group()
def check() -> None:
    """Threshold checks for a scheduler: one JSON object, exit 1 when over (or unmeasurable)."""


def report(measure: Callable[[], Verdict], as_json: bool) -> None:
    """Print the verdict as state; a failed one then exits 1 with its error as the one line."""
    verdict = measure()
    emit_state(verdict.state(), as_json)
    if verdict.error is not None:
        raise JobError(verdict.error)


@check.command("kafka-lag")
@click.option("--group", required=True, help="Consumer group whose lag is measured.")
@click.option("--topic", help="Only this topic (counted from its start before the group commits).")
@click.option(
    "--max-lag",
    type=click.IntRange(min=0),
    required=True,
    help="Exit 1 when the total lag is over.",
)
@setting_flags(S, "kafka_bootstrap", "check_timeout_s")
@json_option
@pass_run
def kafka_lag(
    run: Run[MonitoringSettings], group: str, topic: str | None, max_lag: int, as_json: bool
) -> None:
    """Total lag of a consumer group (per partition too) against --max-lag."""
    report(lambda: thresholds.kafka_lag(run.settings, group, topic, max_lag), as_json)


@check.command("parking-lot")
@click.option("--queue", required=True, help="Queue to measure, e.g. <prefix>.parked.")
@click.option(
    "--max", "max_messages", type=click.IntRange(min=0), required=True,
    help="Exit 1 when the queue holds more messages (ready + unacked).",
)  # fmt: skip
@setting_flags(S, "rabbitmq_management_url", "rabbitmq_vhost", "rabbitmq_user", "check_timeout_s")
@json_option
@pass_run
def parking_lot(run: Run[MonitoringSettings], queue: str, max_messages: int, as_json: bool) -> None:
    """Messages in a RabbitMQ queue (a parking lot, a DLQ) against --max."""
    report(lambda: thresholds.parking_lot(run.settings, queue, max_messages), as_json)


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
