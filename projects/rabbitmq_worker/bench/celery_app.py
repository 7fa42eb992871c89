"""The Celery anchor: the same task functions as our worker (rabbitmq_worker.tasks), acks_late,
on the same broker. Runs inside the Celery venv (bench/celery.txt).

    python celery_app.py publish N noop|load_readings PAD   # Celery's own publisher (apply_async)
    celery -A celery_app worker -P threads -c 4 ...          # the worker under test

Each finished task appends its message id to $BENCH_OUT/<pid>.ids (one O_APPEND write), so the
benchmark counts every task: none lost, none doubled.
"""

from __future__ import annotations

import os
import sys
import time

from celery import Celery
from rabbitmq_worker import samples, tasks
from rabbitmq_worker.messages import Task
from rabbitmq_worker.store import Store

QUEUE = os.environ.get("BENCH_CELERY_QUEUE", "celery-bench")
app = Celery("bench", broker=os.environ["BENCH_AMQP_URL"])
app.conf.update(
    task_acks_late=True,  # ack after the task ran, like our worker
    task_ignore_result=True,
    task_default_queue=QUEUE,
    worker_prefetch_multiplier=int(os.environ.get("BENCH_CELERY_PREFETCH_MULTIPLIER", "16")),
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    accept_content=["json"],
)

_fd: int | None = None
_store: Store | None = None


def _record(message_id: str) -> None:
    global _fd
    if _fd is None:
        path = os.path.join(os.environ["BENCH_OUT"], f"{os.getpid()}.ids")
        _fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.write(_fd, (message_id + "\n").encode())


@app.task(name="noop")
def noop(message_id: str, args: dict) -> None:  # type: ignore[type-arg]
    tasks.noop(Task(message_id, "noop", args), tasks.Context(None, 0))
    _record(message_id)


@app.task(name="load_readings")
def load_readings(message_id: str, args: dict) -> None:  # type: ignore[type-arg]
    global _store
    if _store is None:
        _store = Store(os.environ["BENCH_DATABASE_URL"])
    tasks.load_readings(Task(message_id, "load_readings", args), tasks.Context(_store, 0))
    _record(message_id)


def publish(count: int, kind: str, pad: int) -> None:
    """Publish with Celery's own producer (persistent; no publisher confirms: Celery's default)."""
    task = {"noop": noop, "load_readings": load_readings}[kind]
    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for t in samples.generate(samples.Generated(count, kind, pad_bytes=pad)):
            task.apply_async((t.message_id, t.args), producer=producer)
    print(f"{time.perf_counter() - started:.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "publish":
        publish(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
