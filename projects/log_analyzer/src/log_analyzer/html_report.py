"""A self-contained HTML report: inline CSS and SVG charts, nothing fetched, works offline."""

from __future__ import annotations

from html import escape
from typing import Any

from de_common.run import Summary

COLORS = {"1xx": "#94a3b8", "2xx": "#16a34a", "3xx": "#2563eb", "4xx": "#f59e0b", "5xx": "#dc2626"}
LAT_COLORS = {"p50": "#2563eb", "p90": "#7c3aed", "p95": "#db2777", "p99": "#dc2626"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;
color:#1f2937}
header{background:#111827;color:#f9fafb;padding:18px 28px}
header h1{margin:0;font-size:20px;font-weight:600}
header p{margin:4px 0 0;color:#9ca3af;font-size:13px}
main{padding:20px 28px;max-width:1200px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:12px;margin-bottom:18px}
.card{background:#fff;border-radius:10px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.card .v{font-size:22px;font-weight:650}
.card .k{color:#6b7280;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
section{background:#fff;border-radius:10px;padding:14px 18px;margin-bottom:16px;
box-shadow:0 1px 2px rgba(0,0,0,.06)}
section h2{font-size:15px;margin:0 0 10px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table{border-collapse:collapse;width:100%;font-size:13px}
td,th{padding:4px 6px;border-bottom:1px solid #f0f1f3;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{word-break:break-all}
.legend span{display:inline-block;margin-right:14px;font-size:12px;color:#4b5563}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
svg text{font:11px system-ui,sans-serif;fill:#6b7280}
.bar{height:10px;background:#e5e7eb;border-radius:5px;overflow:hidden}
.bar div{height:100%;background:#2563eb}
"""


def _fmt(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}" if abs(n) >= 10 else f"{n:g}"


def _bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _downsample(rows: list[dict[str, Any]], limit: int = 480) -> list[dict[str, Any]]:
    if len(rows) <= limit:
        return rows
    step = -(-len(rows) // limit)
    out = []
    for i in range(0, len(rows), step):
        group = rows[i : i + step]
        out.append(
            {
                "t": group[0]["t"],
                "requests": sum(r["requests"] for r in group),
                "status_5xx": sum(r["status_5xx"] for r in group),
                "status_4xx": sum(r["status_4xx"] for r in group),
            }
        )
    return out


def _axis_labels(rows: list[dict[str, Any]], x: Any, height: int) -> str:
    if not rows:
        return ""
    picks = sorted({0, len(rows) // 4, len(rows) // 2, 3 * len(rows) // 4, len(rows) - 1})
    out = []
    for i in picks:
        label = rows[i]["t"].replace("T", " ").rstrip("Z")[:16]
        anchor = "start" if i == 0 else "end" if i == len(rows) - 1 else "middle"
        out.append(f'<text x="{x(i):.1f}" y="{height - 4}" text-anchor="{anchor}">{label}</text>')
    return "".join(out)


def traffic_svg(rows: list[dict[str, Any]], width: int = 1100, height: int = 240) -> str:
    """Requests per bucket as an area, 4xx and 5xx as lines over it."""
    rows = _downsample(rows)
    if not rows:
        return "<p>No requests.</p>"
    pad_l, pad_b, pad_t = 48, 22, 10
    top = max(r["requests"] for r in rows) or 1
    n = len(rows)

    def x(i: int) -> float:
        return pad_l + (width - pad_l - 8) * (i / max(1, n - 1))

    def y(v: float) -> float:
        return pad_t + (height - pad_t - pad_b) * (1 - v / top)

    area = " ".join(f"{x(i):.1f},{y(r['requests']):.1f}" for i, r in enumerate(rows))
    base = f"{x(n - 1):.1f},{y(0):.1f} {x(0):.1f},{y(0):.1f}"
    lines = []
    for key, color in (("status_4xx", COLORS["4xx"]), ("status_5xx", COLORS["5xx"])):
        pts = " ".join(f"{x(i):.1f},{y(r[key]):.1f}" for i, r in enumerate(rows))
        lines.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.4"/>')
    grid = "".join(
        f'<line x1="{pad_l}" x2="{width - 8}" y1="{y(top * f):.1f}" y2="{y(top * f):.1f}" '
        f'stroke="#eef0f3"/><text x="{pad_l - 6}" y="{y(top * f) + 4:.1f}" text-anchor="end">'
        f"{_fmt(top * f)}</text>"
        for f in (0, 0.25, 0.5, 0.75, 1)
    )
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="requests over time">{grid}'
        f'<polygon points="{area} {base}" fill="#bfdbfe" stroke="#2563eb" stroke-width="1.2"/>'
        f"{''.join(lines)}{_axis_labels(rows, x, height)}</svg>"
        '<div class="legend"><span><i style="background:#2563eb"></i>requests</span>'
        f'<span><i style="background:{COLORS["4xx"]}"></i>4xx</span>'
        f'<span><i style="background:{COLORS["5xx"]}"></i>5xx</span></div>'
    )


def status_svg(classes: dict[str, int], width: int = 520, height: int = 200) -> str:
    """A donut of status classes with a legend."""
    total = sum(classes.values())
    if not total:
        return "<p>No requests.</p>"
    import math

    cx, cy, r = 100, 100, 80
    parts = []
    angle = -math.pi / 2
    for cls, n in sorted(classes.items()):
        frac = n / total
        if frac >= 0.9999:
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{COLORS.get(cls, "#999")}"/>')
            break
        end = angle + frac * 2 * math.pi
        large = 1 if frac > 0.5 else 0
        x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
        x2, y2 = cx + r * math.cos(end), cy + r * math.sin(end)
        parts.append(
            f'<path d="M{cx},{cy} L{x1:.2f},{y1:.2f} A{r},{r} 0 {large} 1 {x2:.2f},{y2:.2f} Z" '
            f'fill="{COLORS.get(cls, "#999")}"/>'
        )
        angle = end
    parts.append(f'<circle cx="{cx}" cy="{cy}" r="46" fill="#fff"/>')
    parts.append(
        f'<text x="{cx}" y="{cy + 5}" text-anchor="middle" style="font-size:15px;fill:#111827">'
        f"{_fmt(total)}</text>"
    )
    legend = []
    for i, (cls, n) in enumerate(sorted(classes.items())):
        yy = 40 + i * 26
        legend.append(
            f'<rect x="220" y="{yy - 10}" width="12" height="12" rx="2" '
            f'fill="{COLORS.get(cls, "#999")}"/><text x="240" y="{yy}" style="font-size:13px;'
            f'fill:#1f2937">{cls}  {n:,}  ({n / total:.1%})</text>'
        )
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="status mix">'
        f"{''.join(parts)}{''.join(legend)}</svg>"
    )


def latency_svg(rows: list[dict[str, Any]], width: int = 1100, height: int = 220) -> str:
    """p50/p90/p95/p99 per hour as lines (log scale keeps p50 readable beside p99)."""
    import math

    rows = [r for r in rows if "p50" in r]
    if not rows:
        return "<p>No durations in this log.</p>"
    pad_l, pad_b, pad_t = 48, 22, 10
    hi = max(max(r[q] for q in LAT_COLORS) for r in rows) or 1.0
    lo = max(1.0, min(r["p50"] for r in rows))
    span = math.log10(max(hi, lo * 10)) - math.log10(lo)
    n = len(rows)

    def x(i: int) -> float:
        return pad_l + (width - pad_l - 8) * (i / max(1, n - 1))

    def y(v: float) -> float:
        v = max(v, lo)
        return pad_t + (height - pad_t - pad_b) * (1 - (math.log10(v) - math.log10(lo)) / span)

    out = []
    for q, color in LAT_COLORS.items():
        pts = " ".join(f"{x(i):.1f},{y(r[q]):.1f}" for i, r in enumerate(rows))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>')
    ticks = []
    decade = 10 ** math.floor(math.log10(lo))
    steps = [decade * m * 10**k for k in range(8) for m in (1, 2, 5)]
    for v in steps:
        if lo <= v <= hi * 1.01:
            ticks.append(
                f'<line x1="{pad_l}" x2="{width - 8}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                f'stroke="#eef0f3"/><text x="{pad_l - 6}" y="{y(v) + 4:.1f}" '
                f'text-anchor="end">{_fmt(v)} ms</text>'
            )
    legend = "".join(
        f'<span><i style="background:{c}"></i>{q}</span>' for q, c in LAT_COLORS.items()
    )
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="latency">'
        f"{''.join(ticks)}{''.join(out)}{_axis_labels(rows, x, height)}</svg>"
        f'<div class="legend">{legend}</div>'
    )


def _top_table(title: str, rows: list[list[Any]], total: int, label: str) -> str:
    body = []
    for key, n in rows:
        share = n / total if total else 0
        body.append(
            f'<tr><td class="t">{escape(str(key))}</td><td class="n">{n:,}</td>'
            f'<td style="width:90px"><div class="bar"><div style="width:{share * 100:.1f}%">'
            "</div></div></td></tr>"
        )
    return (
        f"<section><h2>{escape(title)}</h2><table><tr><th>{escape(label)}</th>"
        f'<th class="n">requests</th><th></th></tr>{"".join(body)}</table></section>'
    )


def render_html(report: dict[str, Any], summary: Summary, title: str) -> str:
    """The whole page as one string: the report, with the run's counts from its summary."""
    parsed = summary.records_out + summary.records_skipped.get("filtered", 0)
    tot = report["totals"]
    lat = report.get("latency_ms") or {}
    visitors = report["unique_visitors_per_day"]
    cards = [
        ("requests", f"{tot['requests']:,}"),
        ("lines parsed", f"{parsed:,}"),
        ("lines rejected", f"{summary.records_rejected:,}"),
        ("data served", _bytes(tot["bytes"])),
        ("5xx error rate", f"{tot['error_rate']:.2%}"),
        ("p95 latency", f"{lat['p95']:g} ms" if "p95" in lat else "n/a"),
        ("bots", f"{report['bots']['bot_requests']:,}"),
        ("visitors / day (max)", f"{max(visitors.values()):,}" if visitors else "0"),
    ]
    card_html = "".join(
        f'<div class="card"><div class="k">{k}</div><div class="v">{v}</div></div>'
        for k, v in cards
    )
    total = tot["requests"]
    tops = report["top"]
    visitor_rows = "".join(
        f'<tr><td>{escape(d)}</td><td class="n">{n:,}</td></tr>' for d, n in visitors.items()
    )
    lat_rows = "".join(
        f'<tr><td>{q}</td><td class="n">{lat[q]:g} ms</td></tr>' for q in LAT_COLORS if q in lat
    )
    reasons = summary.extra.get("reject_reasons", {})
    reason_rows = "".join(
        f'<tr><td>{escape(k)}</td><td class="n">{v:,}</td></tr>' for k, v in reasons.items()
    )
    bots = report["bots"]
    period = f"{tot['first'] or '-'} to {tot['last'] or '-'}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{escape(title)}</title><style>{CSS}</style></head><body>
<header><h1>{escape(title)}</h1><p>{escape(period)} (UTC) · format {escape(summary.extra["format"])}
 · {summary.extra["files"]} file(s)</p></header>
<main>
<div class="cards">{card_html}</div>
<section><h2>Traffic over time (per {report["timeline"]["granularity"]})</h2>
{traffic_svg(report["timeline"]["rows"])}</section>
<div class="grid2">
<section><h2>Status mix</h2>{status_svg(report["status_classes"])}</section>
<section><h2>Response time percentiles</h2>
<table>{lat_rows or "<tr><td>no durations in this log</td></tr>"}</table>
<h2 style="margin-top:14px">Bots vs humans</h2>
<table><tr><td>humans</td><td class="n">{bots["human_requests"]:,}</td></tr>
<tr><td>bots and scripts</td><td class="n">{bots["bot_requests"]:,}</td></tr></table>
</section></div>
<section><h2>Latency percentiles per hour</h2>{latency_svg(lat.get("by_hour", []))}</section>
<div class="grid2">
{_top_table("Top paths", tops["paths"], total, "path")}
{_top_table("Top client IPs", tops["ips"], total, "ip")}
</div>
<div class="grid2">
{_top_table("Top user agents", tops["user_agents"], total, "user agent")}
{_top_table("Top referrers", tops["referrers"], total, "referrer")}
</div>
<div class="grid2">
<section><h2>Unique visitors per day</h2><table>{visitor_rows}</table></section>
<section><h2>Rejected lines</h2><table>{reason_rows or "<tr><td>none</td></tr>"}</table></section>
</div>
</main></body></html>
"""
