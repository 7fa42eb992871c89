"""The report: the merged aggregate turned into plain, JSON-able tables."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from log_analyzer.aggregate import Aggregate, is_bot, percentiles

QUANTILES = (0.5, 0.9, 0.95, 0.99)


def iso(epoch: int) -> str:
    """UTC ISO 8601 with a Z."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bucket_rows(agg: Aggregate, granularity: str) -> list[dict[str, Any]]:
    size = 60 if granularity == "minute" else 3600
    buckets: dict[int, list[int]] = {}
    for minute, row in agg.minutes.items():
        key = minute * 60 // size * size
        acc = buckets.setdefault(key, [0, 0, 0, 0])
        for i, v in enumerate(row):
            acc[i] += v
    return [
        {
            "t": iso(k),
            "requests": r[0],
            "status_4xx": r[1],
            "status_5xx": r[2],
            "error_rate": round(r[2] / r[0], 6) if r[0] else 0.0,
            "bytes": r[3],
        }
        for k, r in sorted(buckets.items())
    ]


def pick_granularity(agg: Aggregate, requested: str) -> str:
    """minute for short spans (two days or less), hour beyond, unless asked for one."""
    if requested != "auto":
        return requested
    if agg.first_ts is None or agg.last_ts is None:
        return "minute"
    return "minute" if agg.last_ts - agg.first_ts <= 2 * 86400 else "hour"


def build_report(agg: Aggregate, top_n: int = 10, granularity: str = "auto") -> dict[str, Any]:
    """Totals, status mix, tops, timeline, latency, bots and visitors as plain data."""
    classes: Counter[str] = Counter()
    for code, n in agg.status.items():
        classes[f"{int(code) // 100}xx"] += n
    s5 = classes.get("5xx", 0)
    s4 = classes.get("4xx", 0)
    gran = pick_granularity(agg, granularity)
    latency: dict[str, Any] | None = None
    if agg.timed_requests:
        overall: Counter[int] = Counter()
        for hist in agg.latency.values():
            overall.update(hist)
        latency = {
            "requests": agg.timed_requests,
            "unit": "ms",
            "method": "exact histogram of whole milliseconds, nearest-rank percentiles",
            **percentiles(overall, QUANTILES),
            "by_hour": [
                {"t": iso(h * 3600), **percentiles(hist, QUANTILES)}
                for h, hist in sorted(agg.latency.items())
            ],
        }
    top_error = {
        name: c.max_error
        for name, c in (
            ("paths", agg.paths),
            ("ips", agg.ips),
            ("user_agents", agg.uas),
            ("referrers", agg.referers),
        )
        if c.max_error
    }
    bots_top = [(ua, n) for ua, n in agg.uas.counts.most_common() if is_bot(ua)][:top_n]
    return {
        "totals": {
            "requests": agg.requests,
            "bytes": agg.bytes,
            "first": iso(agg.first_ts) if agg.first_ts is not None else None,
            "last": iso(agg.last_ts) if agg.last_ts is not None else None,
            "status_4xx": s4,
            "status_5xx": s5,
            "error_rate": round(s5 / agg.requests, 6) if agg.requests else 0.0,
            "unique_ips": len(agg.ips.counts) if not agg.ips.max_error else None,
        },
        "status_classes": dict(sorted(classes.items())),
        "status_codes": {str(k): v for k, v in sorted(agg.status.items())},
        "methods": dict(agg.methods.most_common()),
        "top": {
            "paths": agg.paths.top(top_n),
            "ips": agg.ips.top(top_n),
            "user_agents": agg.uas.top(top_n),
            "referrers": agg.referers.top(top_n),
        },
        "top_counts_max_error": top_error,
        "timeline": {"granularity": gran, "rows": _bucket_rows(agg, gran)},
        "latency_ms": latency,
        "bots": {
            "bot_requests": agg.bot_requests,
            "human_requests": agg.requests - agg.bot_requests,
            "top_bots": bots_top,
        },
        "unique_visitors_per_day": {
            iso(d * 86400)[:10]: n for d, n in sorted(agg.visitor_counts().items())
        },
        "unique_visitors_method": "exact: distinct 64-bit hashes of ip + user agent per UTC day",
    }
