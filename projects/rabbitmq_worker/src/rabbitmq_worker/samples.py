"""Seeded, production-shaped task streams for `publish --generate`, the demo and the benchmark."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rabbitmq_worker.messages import Task

# Skewed keys: the first sensors get most readings.
SENSORS = [f"sensor-{i:03d}" for i in range(40)]
HOSTILE_VALUES: list[Any] = [None, "NaN", "", "null", "N/A", True, "12.5"]


@dataclass(frozen=True)
class Generated:
    """`count` tasks of kind `task`, seeded; `pad_bytes` pads noop bodies (the benchmark's 1 KiB)."""

    count: int
    task: str = "noop"
    seed: int = 42
    pad_bytes: int = 0
    batch: int = 20


def readings(rng: random.Random, n: int) -> list[Any]:
    """A batch of readings: skewed sensors, late and repeated timestamps, hostile values spread in."""
    base = datetime(2026, 11, 1, tzinfo=UTC)
    out: list[Any] = []
    for _ in range(n):
        roll = rng.random()
        sensor = SENSORS[min(int(rng.paretovariate(1.2)) - 1, len(SENSORS) - 1)]
        # Late and out-of-order: timestamps jump back up to a day.
        ts = base + timedelta(minutes=rng.randint(0, 7 * 24 * 60) - rng.choice([0, 0, 0, 1440]))
        record: Any = {"sensor": sensor, "ts": ts.isoformat(), "value": round(rng.gauss(20, 5), 3)}
        if roll < 0.03:
            record["value"] = rng.choice(HOSTILE_VALUES)
        elif roll < 0.04:
            record = {"ts": ts.isoformat(), "value": 1.0}
        elif roll < 0.045:
            record = rng.choice(["not a record", 42, None])
        out.append(record)
    return out


def generate(spec: Generated) -> Iterator[Task]:
    """The tasks, each with a stable id (`gen-<seed>-<n>`) so a rerun republishes the same ids."""
    rng = random.Random(spec.seed)  # noqa: S311 - sample data
    pad = "x" * max(spec.pad_bytes - 40, 0)
    for n in range(spec.count):
        mid = f"gen-{spec.seed}-{n}"
        if spec.task == "noop":
            yield Task(mid, "noop", {"n": n, "pad": pad} if pad else {"n": n})
        elif spec.task == "load_readings":
            yield Task(mid, "load_readings", {"records": readings(rng, spec.batch)})
        else:
            raise ValueError(f"cannot generate {spec.task!r} tasks")
