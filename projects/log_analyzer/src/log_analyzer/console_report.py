"""The report as rich tables for a person at a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from de_common.run import Summary


def _pairs(title: str, rows: list[tuple[str, Any]], left: str, right: str = "requests") -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column(left, overflow="fold", max_width=80)
    t.add_column(right, justify="right")
    for k, v in rows:
        t.add_row(str(k), f"{v:,}" if isinstance(v, int) else str(v))
    return t


def render(report: dict[str, Any], summary: Summary, console: Console | None = None) -> None:
    """Totals, status mix, tops, latency, bots and visitors, then the last timeline rows."""
    filtered = summary.records_skipped.get("filtered", 0)
    c = console or Console()
    tot = report["totals"]
    c.print(
        _pairs(
            "Totals",
            [
                ("lines read", summary.records_in),
                ("parsed", summary.records_out + filtered),
                ("rejected", summary.records_rejected),
                ("filtered out", filtered),
                ("requests counted", tot["requests"]),
                ("bytes served", tot["bytes"]),
                ("first", tot["first"] or "-"),
                ("last", tot["last"] or "-"),
                ("5xx error rate", f"{tot['error_rate']:.2%}"),
            ],
            "what",
            "value",
        )
    )
    c.print(_pairs("Status classes", list(report["status_classes"].items()), "class"))
    c.print(_pairs("Status codes", list(report["status_codes"].items()), "code"))
    names = {
        "paths": "path",
        "ips": "client ip",
        "user_agents": "user agent",
        "referrers": "referrer",
    }
    for key, label in names.items():
        c.print(_pairs(f"Top {label}s", report["top"][key], label))
    lat = report.get("latency_ms")
    if lat:
        c.print(
            _pairs(
                "Response time (ms)",
                [(p, lat[p]) for p in ("p50", "p90", "p95", "p99") if p in lat],
                "percentile",
                "ms",
            )
        )
    bots = report["bots"]
    c.print(
        _pairs(
            "Bots vs humans",
            [("bots", bots["bot_requests"]), ("humans", bots["human_requests"])],
            "who",
        )
    )
    c.print(
        _pairs(
            "Unique visitors per day",
            list(report["unique_visitors_per_day"].items()),
            "day",
            "visitors",
        )
    )
    rows = report["timeline"]["rows"][-12:]
    t = Table(title=f"Last {len(rows)} {report['timeline']['granularity']}s", title_justify="left")
    for col in ("t", "requests", "status_4xx", "status_5xx", "error_rate", "bytes"):
        t.add_column(col, justify="left" if col == "t" else "right")
    for r in rows:
        t.add_row(
            r["t"],
            f"{r['requests']:,}",
            str(r["status_4xx"]),
            str(r["status_5xx"]),
            f"{r['error_rate']:.2%}",
            f"{r['bytes']:,}",
        )
    c.print(t)
