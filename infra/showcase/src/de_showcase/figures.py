"""The key figure each demo offers the page: `"figure": {"title", "unit", "bars": {label: value}}`.

A demo summary may carry one (the project knows its story: status classes, lag per partition, rows
per day); without it the page shows the run's own balance of records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    title: str
    unit: str
    bars: list[tuple[str, float]]


MAX_BARS = 24


def figure_of(summary: dict[str, Any]) -> Figure | None:
    """The demo's own figure if it gave a well-formed one, else the records balance."""
    given = summary.get("figure")
    if isinstance(given, dict) and isinstance(given.get("bars"), dict):
        bars = [
            (str(label), float(value))
            for label, value in given["bars"].items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        ]
        if bars:
            return Figure(str(given.get("title", "")), str(given.get("unit", "")), bars[:MAX_BARS])
    balance = [
        ("out", summary.get("records_out")),
        ("rejected", summary.get("records_rejected")),
    ]
    skipped = summary.get("records_skipped")
    if isinstance(skipped, dict):
        balance += [(f"skipped: {k}", v) for k, v in skipped.items()]
    bars = [(label, float(v)) for label, v in balance if isinstance(v, int) and v > 0]
    return Figure("where the records went", "records", bars) if bars else None
