"""The task handlers: what a worker thread runs for one message.

A handler raises `PermanentError` for a task that can never succeed (parked at once) and any other
exception for a failure worth retrying (the retry tiers, then the parking lot).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from de_common.faults import fault_point
from rabbitmq_worker.messages import Task
from rabbitmq_worker.store import Store, Tx


class PermanentError(Exception):
    """The task's arguments are wrong: retrying cannot help."""


class TransientError(Exception):
    """A failure that may pass (the `fail` task raises it on purpose)."""


@dataclass(frozen=True)
class Outcome:
    """What a handler did: `duplicate` when the ledger already had the message id."""

    duplicate: bool = False


@dataclass(frozen=True)
class Context:
    """What a handler may use: the store (None for tasks without a durable effect), the attempt."""

    store: Store | None
    attempt: int


Handler = Callable[[Task, Context], Outcome]


def noop(task: Task, ctx: Context) -> Outcome:
    """Nothing: the benchmark's baseline of pure queue overhead."""
    return Outcome()


def sleep(task: Task, ctx: Context) -> Outcome:
    """Sleep `seconds` (a long task: heartbeats must keep flowing meanwhile)."""
    seconds = task.args.get("seconds")
    if not isinstance(seconds, int | float) or not 0 <= seconds <= 3600:
        raise PermanentError("sleep: args.seconds must be a number from 0 to 3600")
    time.sleep(seconds)
    return Outcome()


def fail(task: Task, ctx: Context) -> Outcome:
    """Fail the first `times` attempts with `error` (exercises the retry tiers and parking)."""
    times = task.args.get("times", 1)
    if not isinstance(times, int) or times < 0:
        raise PermanentError("fail: args.times must be a non-negative integer")
    if ctx.attempt < times:
        raise TransientError(str(task.args.get("error", "failing on purpose")))
    return Outcome()


def _reading_problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return "not an object"
    sensor, ts, value = record.get("sensor"), record.get("ts"), record.get("value")
    if not isinstance(sensor, str) or not sensor.strip():
        return "sensor missing"
    if not isinstance(ts, str) or len(ts) < 10:
        return "ts missing"
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
    ):
        return f"value not a finite number: {value!r}"
    return None


def load_readings(task: Task, ctx: Context) -> Outcome:
    """The demo job: upsert a batch of sensor readings, add them to per-sensor totals and keep the
    invalid ones with their reason, all in the transaction that records the message id."""
    records = task.args.get("records")
    if not isinstance(records, list):
        raise PermanentError("load_readings: args.records must be a list")
    if ctx.store is None:
        raise PermanentError("load_readings needs a database")

    def effect(tx: Tx) -> int:
        good = []
        for position, record in enumerate(records):
            problem = _reading_problem(record)
            if problem is None:
                good.append(record)
                continue
            tx.execute(
                "INSERT INTO rejected_readings (message_id, position, reason, record) "
                "VALUES (?, ?, ?, ?)",
                (task.message_id, position, problem, json.dumps(record)),
            )
        # Last writer per (sensor, ts) wins, as in the batch order.
        tx.executemany(
            "INSERT INTO readings (sensor, ts, value, message_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sensor, ts) DO UPDATE SET value = excluded.value, "
            "message_id = excluded.message_id",
            [(r["sensor"], r["ts"], r.get("value"), task.message_id) for r in good],
        )
        totals: dict[str, tuple[int, float]] = {}
        for r in good:
            n, s = totals.get(r["sensor"], (0, 0.0))
            totals[r["sensor"]] = (n + 1, s + float(r.get("value") or 0.0))
        tx.executemany(
            "INSERT INTO sensor_totals (sensor, readings, value_sum) VALUES (?, ?, ?) "
            "ON CONFLICT (sensor) DO UPDATE SET readings = sensor_totals.readings + "
            "excluded.readings, value_sum = sensor_totals.value_sum + excluded.value_sum",
            [(k, n, s) for k, (n, s) in sorted(totals.items())],
        )
        # A crash here rolls the whole transaction back: redelivered, applied once.
        fault_point("task.before_commit")
        return len(records)

    applied = ctx.store.apply_once(task.message_id, task.name, effect)
    # A crash here leaves the effect committed but the message unacked: the redelivery must be
    # recognised as a duplicate.
    fault_point("task.after_commit")
    return Outcome(duplicate=not applied)


HANDLERS: dict[str, Handler] = {
    "noop": noop,
    "sleep": sleep,
    "fail": fail,
    "load_readings": load_readings,
}

# Tasks whose effect is durable; the worker opens the store only if one of these may arrive.
DURABLE = frozenset({"load_readings"})
