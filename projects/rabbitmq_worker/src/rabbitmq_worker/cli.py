"""rabbitmq-worker: publish, validate, work, requeue-parked, rpc-server, demo; status and rpc-call
report state; config from de_common."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from de_common.cli import json_option, make_cli, pass_run
from de_common.errors import UserError
from de_common.flags import setting_flags
from de_common.run import Run, emit_state
from rabbitmq_worker import jobs, rpc, samples, status
from rabbitmq_worker.config import RabbitmqWorkerSettings
from rabbitmq_worker.telemetry import queue_metrics
from rabbitmq_worker.worker import StopWhen

S = RabbitmqWorkerSettings
TOPOLOGY = ("prefix", "delivery_limit", "retry_delays_ms")

cli = make_cli(
    "rabbitmq_worker",
    RabbitmqWorkerSettings,
    help="A reliable pika task queue: publisher confirms, manual acks off the I/O thread, "
    "retry tiers and a parking lot.",
)


@cli.command()
@click.argument("inputs", nargs=-1)
@click.option("--generate", "count", type=click.IntRange(min=0), help="Publish N seeded tasks.")
@click.option(
    "--task",
    type=click.Choice(["noop", "load_readings"]),
    default="noop",
    show_default=True,
    help="Kind of generated task.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of --generate.")
@click.option(
    "--pad-bytes", type=click.IntRange(min=0), default=0, help="Pad generated noop bodies to ~N."
)
@setting_flags(S, *TOPOLOGY, "confirm_window", "quarantine", "reconnect_timeout_s")
@json_option
@pass_run
def publish(
    run: Run[RabbitmqWorkerSettings],
    inputs: tuple[str, ...],
    count: int | None,
    task: str,
    seed: int,
    pad_bytes: int,
    as_json: bool,
) -> None:
    """Publish JSONL tasks (files, globs, '-') or --generate N, persistent, with async confirms."""
    generated = None if count is None else samples.Generated(count, task, seed, pad_bytes)
    jobs.require_one(list(inputs), generated)
    metrics = queue_metrics(run.metrics)
    run.execute(lambda: jobs.publish(run.settings, metrics, list(inputs), generated), as_json)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@json_option
@pass_run
def validate(run: Run[RabbitmqWorkerSettings], inputs: tuple[str, ...], as_json: bool) -> None:
    """Check JSONL task files against the message schema as publish would, without a broker."""
    run.execute(lambda: jobs.validate(list(inputs)), as_json)


@cli.command()
@click.option("--idle-timeout", type=float, help="Stop after this many seconds without messages.")
@click.option("--max-messages", type=click.IntRange(min=1), help="Stop after N deliveries.")
@setting_flags(S, *TOPOLOGY, "concurrency", "prefetch", "heartbeat_s", "reconnect_timeout_s")
@setting_flags(S, "metrics_port")
@json_option
@pass_run
def work(
    run: Run[RabbitmqWorkerSettings],
    idle_timeout: float | None,
    max_messages: int | None,
    as_json: bool,
) -> None:
    """Consume the work queue; SIGTERM stops consuming, finishes and acks in-flight work, exits."""
    stop = StopWhen(idle_timeout_s=idle_timeout, max_messages=max_messages)
    metrics = queue_metrics(run.metrics)
    run.execute(lambda: jobs.work(run.settings, metrics, stop), as_json)


@cli.command("requeue-parked")
@click.option("--limit", type=click.IntRange(min=1), help="Move at most N messages.")
@click.option("--message-id", "ids", multiple=True, help="Only these message ids (repeatable).")
@setting_flags(S, *TOPOLOGY)
@json_option
@pass_run
def requeue_parked(
    run: Run[RabbitmqWorkerSettings], limit: int | None, ids: tuple[str, ...], as_json: bool
) -> None:
    """Move parked messages back to the work queue after a fix (history headers kept)."""
    run.execute(lambda: jobs.requeue(run.settings, limit, list(ids)), as_json)


@cli.command("status")
@setting_flags(S, *TOPOLOGY, "management_url")
@json_option
@pass_run
def status_command(run: Run[RabbitmqWorkerSettings], as_json: bool) -> None:
    """Depth, unacked and consumers of every queue, and how many messages are parked."""
    emit_state(status.queue_status(run.settings), as_json)


@cli.command("rpc-server")
@click.option("--max-requests", type=click.IntRange(min=1), help="Stop after N requests.")
@click.option("--idle-timeout", type=float, help="Stop after this many seconds without requests.")
@setting_flags(S, "prefix", "prefetch")
@json_option
@pass_run
def rpc_server(
    run: Run[RabbitmqWorkerSettings],
    max_requests: int | None,
    idle_timeout: float | None,
    as_json: bool,
) -> None:
    """Answer {"numbers": [...]} requests on <prefix>.rpc with count, sum and mean."""
    until = rpc.ServeUntil(max_requests, idle_timeout)
    run.execute(lambda: rpc.serve(run.settings, until), as_json)


@cli.command("rpc-call")
@click.argument("numbers", nargs=-1, type=float, required=True)
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait.")
@setting_flags(S, "prefix")
@json_option
@pass_run
def rpc_call(
    run: Run[RabbitmqWorkerSettings], numbers: tuple[float, ...], timeout: float, as_json: bool
) -> None:
    """Ask the RPC server for statistics of NUMBERS; prints its reply (with the correlation id)."""
    if timeout <= 0:
        raise UserError("--timeout must be positive")
    emit_state(rpc.call(run.settings, {"numbers": list(numbers)}, timeout), as_json)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), help="Folder (default: a temp folder).")
@json_option
@pass_run
def demo(run: Run[RabbitmqWorkerSettings], out: Path | None, as_json: bool) -> None:
    """Publish seeded sensor batches (hostile ones too) and work them into SQLite, on own queues."""
    folder = out or Path(tempfile.mkdtemp(prefix="rabbitmq_worker-demo-"))
    metrics = queue_metrics(run.metrics)
    run.execute(lambda: jobs.demo(run.settings, metrics, folder), as_json)


def main() -> None:
    """Console script entry point."""
    cli()
