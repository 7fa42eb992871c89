"""The jobs: each takes its settings (and inputs) and returns a Summary for the run contract."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pika

from de_common.config import with_overrides
from de_common.durable import write_atomically
from de_common.errors import JobError, UserError
from de_common.inputs import expand_inputs, open_input
from de_common.run import JobFailed, Summary
from rabbitmq_worker import broker, samples, topology
from rabbitmq_worker.config import RabbitmqWorkerSettings
from rabbitmq_worker.messages import InvalidTask, Task, task_from_line
from rabbitmq_worker.publisher import AsyncPublisher, ReconnectTimeout
from rabbitmq_worker.store import Store
from rabbitmq_worker.telemetry import QueueMetrics
from rabbitmq_worker.worker import StopWhen, Worker

log = logging.getLogger(__name__)


@dataclass
class _Reader:
    """Input lines to tasks; invalid lines are kept with their reason, blank ones counted."""

    specs: list[str]
    lines: int = 0
    blank: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def tasks(self) -> Iterator[Task]:
        for item in expand_inputs(self.specs):
            with open_input(item) as stream:
                for number, line in enumerate(stream, start=1):
                    self.lines += 1
                    if not line.strip():
                        self.blank += 1
                        continue
                    try:
                        yield task_from_line(line, f"{item.path}:{number}")
                    except InvalidTask as exc:
                        self.rejects.append(
                            {
                                "input": item.path,
                                "line": number,
                                "reason": str(exc),
                                "text": line.decode("utf-8", "replace")[:1000],
                            }
                        )


def validate(specs: list[str]) -> Summary:
    """Check task files against the message schema as `publish` would, without a broker."""
    reader = _Reader(specs)
    valid = sum(1 for _ in reader.tasks())
    return Summary(
        records_in=reader.lines,
        records_out=valid,
        records_rejected=len(reader.rejects),
        records_skipped={"blank": reader.blank} if reader.blank else {},
        details={"rejects": reader.rejects},
    )


def declare(settings: RabbitmqWorkerSettings) -> None:
    """Declare the topology (idempotent)."""
    conn = broker.connect(settings)
    try:
        topology.declare(conn.channel(), broker.topology(settings))
        conn.close()
    except broker.CONNECTION_ERRORS as exc:
        raise broker.unavailable(settings, exc) from None


def publish(
    settings: RabbitmqWorkerSettings,
    metrics: QueueMetrics,
    specs: list[str],
    generated: samples.Generated | None = None,
) -> Summary:
    """Validate and publish tasks with async confirms; what fails validation or is returned is
    quarantined with the reason; exit 1 if any was not confirmed."""
    reader = _Reader(specs)
    # Inputs are checked (a missing file is a usage error) before any connection is made.
    if specs:
        expand_inputs(specs)
    tasks: Iterator[Task] = samples.generate(generated) if generated else reader.tasks()
    declare(settings)
    correlation_id = uuid.uuid4().hex
    publisher = AsyncPublisher(settings, metrics, correlation_id)
    try:
        done = publisher.publish(tasks)
        failure = None
    except ReconnectTimeout as exc:
        done, failure = publisher.done, str(exc)
    lines = reader.lines if not generated else generated.count
    unsent = lines - reader.blank - len(reader.rejects) - done.confirmed
    unsent -= len(done.returned) + len(done.nacked)
    rejects = reader.rejects + [
        {"message_id": t.message_id, "reason": reason, "text": t.body().decode()[:1000]}
        for t, reason in done.returned + done.nacked
    ]
    write_atomically(settings.quarantine, "".join(json.dumps(r) + "\n" for r in rejects).encode())
    skipped = {"blank": reader.blank} if reader.blank else {}
    if unsent:
        skipped["not_confirmed"] = unsent
    summary = Summary(
        records_in=lines,
        records_out=done.confirmed,
        records_rejected=len(rejects),
        records_skipped=skipped,
        extra={
            "exchange": broker.topology(settings).exchange,
            "correlation_id": correlation_id,
            "returned": len(done.returned),
            "nacked": len(done.nacked),
            "resent_after_reconnect": done.resent,
            "reconnects": done.reconnects,
            "quarantine": str(settings.quarantine),
        },
    )
    if failure:
        raise JobFailed(failure, summary)
    if done.returned or done.nacked:
        raise JobFailed(
            f"{len(done.returned) + len(done.nacked)} messages were not accepted by the broker "
            f"(see {settings.quarantine})",
            summary,
        )
    return summary


def work(settings: RabbitmqWorkerSettings, metrics: QueueMetrics, stop: StopWhen) -> Summary:
    """Consume the work queue until a stop condition or SIGTERM."""
    store = Store(settings.database_url.get_secret_value())
    store.ensure_schema()
    try:
        return Worker(settings, store, metrics, stop).run()
    finally:
        store.close()


def requeue(settings: RabbitmqWorkerSettings, limit: int | None, ids: list[str]) -> Summary:
    """Move parked messages back to the work queue."""
    from rabbitmq_worker.parking import Requeue, requeue_parked

    return requeue_parked(settings, Requeue(limit, frozenset(ids)))


# --- the demo ---------------------------------------------------------------------------------

HOSTILE_BODIES = [
    b"this is not json",
    b'{"task": "no_such_task", "args": {}}',
    b'{"task": "load_readings", "args": {"records": "not a list"}}',
]


def demo(settings: RabbitmqWorkerSettings, metrics: QueueMetrics, folder: Path) -> Summary:
    """Publish seeded reading batches (hostile records and messages spread in) and run the worker
    into SQLite until the queue is idle; the queues are its own and deleted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = with_overrides(
        settings,
        prefix=f"demo.{uuid.uuid4().hex[:8]}",
        retry_delays_ms=[200, 500],
        database_url=f"sqlite:///{folder / 'demo.db'}",
        quarantine=folder / "rejects.jsonl",
    )
    tasks = list(samples.generate(samples.Generated(200, "load_readings", seed=7, batch=25)))
    tasks.append(Task("demo-flaky", "fail", {"times": 1, "error": "flaky upstream"}))
    tasks.append(Task("demo-broken", "fail", {"times": 99, "error": "upstream is down"}))
    try:
        published = publish_tasks(settings, metrics, tasks)
        _publish_raw(settings, HOSTILE_BODIES)
        summary = work(settings, metrics, StopWhen(idle_timeout_s=2.0))
        store = Store(settings.database_url.get_secret_value())
        (rows,) = store.query("SELECT COUNT(*) FROM readings")[0]
        (bad,) = store.query("SELECT COUNT(*) FROM rejected_readings")[0]
        store.close()
    finally:
        _delete_topology(settings)
    summary.extra.update(
        {"published": published, "readings": rows, "rejected_readings": bad, "folder": str(folder)}
    )
    # For the showcase page: where the effects are, and where every delivery ended.
    summary.extra["output"] = settings.database_url.get_secret_value()
    summary.extra["figure"] = {
        "title": "deliveries by outcome (retries come back as new deliveries)",
        "unit": "messages",
        "bars": {
            "processed once": summary.records_out,
            "parked (exhausted or invalid)": summary.records_rejected,
            **{f"skipped: {k}": v for k, v in summary.records_skipped.items()},
            "redelivered": int(summary.extra.get("redelivered", 0)),
        },
    }
    return summary


def publish_tasks(
    settings: RabbitmqWorkerSettings, metrics: QueueMetrics, tasks: list[Task]
) -> int:
    """Publish a list of tasks with confirms; the number confirmed."""
    declare(settings)
    done = AsyncPublisher(settings, metrics, uuid.uuid4().hex).publish(iter(tasks))
    if done.confirmed != len(tasks):
        raise JobError(f"only {done.confirmed} of {len(tasks)} demo tasks were confirmed")
    return done.confirmed


def _publish_raw(settings: RabbitmqWorkerSettings, bodies: list[bytes]) -> None:
    """Bodies as a careless third party would send them (no id, maybe not even JSON)."""
    conn = broker.connect(settings)
    channel = conn.channel()
    channel.confirm_delivery()
    topo = broker.topology(settings)
    for body in bodies:
        channel.basic_publish(
            topo.exchange, topology.WORK_KEY, body, pika.BasicProperties(delivery_mode=2)
        )
    conn.close()


def _delete_topology(settings: RabbitmqWorkerSettings) -> None:
    topo = broker.topology(settings)
    try:
        conn = broker.connect(settings)
        channel = conn.channel()
        for name in topo.queues:
            channel.queue_delete(name)
        channel.exchange_delete(topo.exchange)
        conn.close()
    except Exception as exc:
        log.warning("demo queues not deleted: %s", exc)


def require_one(specs: list[str], generated: samples.Generated | None) -> None:
    """publish takes input files or --generate, not both or neither."""
    if bool(specs) == (generated is not None):
        raise UserError("give input files (or -) or --generate N, exactly one of them")
