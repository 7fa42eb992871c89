"""One shape for every benchmark's verdict: ours vs the anchor tool, the ratio, the target, met or not.

Each project's `bench/run.py` ends with `write_results(...)`, which saves `bench/results.json` beside it
(checked in: the figures of the last full-size run, with the input, the command and the machine);
`nox -s bench` gathers every project's file into one table and the root README's status column.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from de_common.durable import write_atomically

SCHEMA = 1


@dataclass(frozen=True)
class Comparison:
    """One measured figure: ours and the anchor's, in the same unit, on the same data, in one run.

    `ratio` is ours / anchor. `better` says which way wins: "higher" for a rate (rows/s), "lower" for
    a time or a memory figure; `target` is the ratio the issue asks for, read the same way.
    """

    figure: str
    unit: str
    ours: float
    anchor: str
    anchor_value: float
    target: float
    better: Literal["higher", "lower"] = "higher"
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.anchor_value if self.anchor_value else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio >= self.target if self.better == "higher" else self.ratio <= self.target


def machine() -> dict[str, object]:
    """What the figures were measured on (a loaded 2-core machine reads differently from a quiet one)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpus": cpus,
        "load_1m": round(os.getloadavg()[0], 2),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
    }


def write_results(
    path: Path,
    project: str,
    comparisons: list[Comparison],
    *,
    data: str,
    command: str,
) -> dict[str, object]:
    """Save the verdicts (atomically) and return what was written."""
    results: dict[str, object] = {
        "schema": SCHEMA,
        "project": project,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "data": data,
        "command": command,
        "comparisons": [
            {**asdict(c), "ratio": round(c.ratio, 3), "met": c.met} for c in comparisons
        ],
    }
    write_atomically(path, json.dumps(results, indent=2) + "\n")
    return results
