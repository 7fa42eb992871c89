"""The report's tables as CSV files in one folder."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def write_csv(report: dict[str, Any], folder: Path) -> list[str]:
    """timeline.csv, status.csv, top_*.csv, visitors.csv, latency.csv; returns the names."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[str] = []

    def table(name: str, header: list[str], rows: list[list[Any]]) -> None:
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        written.append(name)

    cols = ["t", "requests", "status_4xx", "status_5xx", "error_rate", "bytes"]
    table("timeline.csv", cols, [[r[c] for c in cols] for r in report["timeline"]["rows"]])
    table("status.csv", ["status", "requests"], [[k, v] for k, v in report["status_codes"].items()])
    for key, rows in report["top"].items():
        table(f"top_{key}.csv", [key, "requests"], [list(r) for r in rows])
    visitors = report["unique_visitors_per_day"].items()
    table("visitors.csv", ["day", "unique_visitors"], [[k, v] for k, v in visitors])
    lat = report.get("latency_ms")
    if lat:
        qs = ["p50", "p90", "p95", "p99"]
        table(
            "latency.csv", ["t", *qs], [[r["t"], *[r.get(q) for q in qs]] for r in lat["by_hour"]]
        )
    return written
