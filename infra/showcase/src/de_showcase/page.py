"""The HTML showcase page: the summary table and each project's key figure, one static file.

No script, no external asset: it renders anywhere the file is opened, and every link points at a file
written beside it (a copied report, a project's log).
"""

from __future__ import annotations

import html
import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from de_showcase.demo import Outcome
from de_showcase.figures import Figure

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#1d232b;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} .sub{color:#5b6570;margin-top:0}
table{border-collapse:collapse;width:100%;margin:1rem 0 2rem}
th,td{padding:.35rem .6rem;border-bottom:1px solid #e2e6ea;text-align:left;vertical-align:top;white-space:nowrap}
td.where{white-space:normal;overflow-wrap:anywhere}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#137333;font-weight:600} .failed,.unavailable{color:#b3261e;font-weight:600}
section.card{border:1px solid #e2e6ea;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0}
section.card h2{font-size:1.15rem;margin:0 0 .3rem} .what{color:#5b6570;margin:0 0 .6rem}
svg text{font:12px system-ui,sans-serif;fill:#1d232b} .bar{fill:#3b6ea8}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def bar_chart(figure: Figure, width: int = 640) -> str:
    """An inline SVG horizontal bar chart, labelled with the values."""
    row, label_w, value_w = 22, 200, 90
    height = row * len(figure.bars) + 28
    top = max((v for _, v in figure.bars), default=0) or 1
    span = width - label_w - value_w
    parts = [
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{_e(figure.title)}</title>",
        f'<text x="0" y="14" font-weight="600">{_e(figure.title)}'
        + (f" ({_e(figure.unit)})" if figure.unit else "")
        + "</text>",
    ]
    for i, (label, value) in enumerate(figure.bars):
        y = 24 + i * row
        length = max(1.0, span * value / top) if value > 0 else 0.0
        shown = f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
        parts.append(f'<text x="0" y="{y + 14}">{_e(label[:30])}</text>')
        parts.append(
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{row - 8}"/>'
        )
        parts.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 14}">{_e(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _link(target: str | None, page_dir: Path, text: str) -> str:
    """A link when the target is a file beside the page (or a URL), else the plain text."""
    if not target:
        return ""
    if target.startswith(("http://", "https://")):
        return f'<a href="{_e(target)}">{_e(text)}</a>'
    path = Path(target)
    local = path if path.is_absolute() else page_dir / path
    if local.is_file() and page_dir in local.resolve().parents:
        return f'<a href="{_e(os.path.relpath(local, page_dir))}">{_e(text)}</a>'
    return f"<code>{_e(target)}</code>"


def render(
    outcomes: Sequence[Outcome], page_dir: Path, title: str = "Data-engineering showcase"
) -> str:
    """The whole page as a string (written as index.html in `page_dir`)."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    ok = sum(o.ok for o in outcomes)
    rows = []
    for o in outcomes:
        where = o.output if o.ok else o.error
        rows.append(
            "<tr>"
            f'<td><a href="#{_e(o.project)}">{_e(o.project)}</a></td>'
            f'<td class="{_e(o.status)}">{_e(o.status)}</td>'
            f'<td class="n">{_count(o.records_in)}</td>'
            f'<td class="n">{_count(o.records_out)}</td>'
            f'<td class="n">{_count(o.records_rejected)}</td>'
            f'<td class="n">{o.duration_s:.1f}s</td>'
            f'<td class="where">{_link(where, page_dir, where or "") if o.ok else _e(where or "")}</td>'
            f"<td>{_link(o.log, page_dir, 'log')}</td>"
            "</tr>"
        )
    cards = []
    for o in outcomes:
        chart = bar_chart(o.figure) if o.figure else "<p>No figure: the run did not finish.</p>"
        cards.append(
            f'<section class="card" id="{_e(o.project)}">'
            f'<h2>{_e(o.project)} <span class="{_e(o.status)}">{_e(o.status)}</span></h2>'
            f'<p class="what">{_e(o.what)}</p>{chart}</section>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="sub">{ok} of {len(outcomes)} demos ok · {_e(when)} · {_e(machine)}</p>'
        '<table id="summary"><thead><tr><th>project</th><th>status</th><th>in</th><th>out</th>'
        "<th>rejected</th><th>time</th><th>output / error</th><th>log</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + "".join(cards)
        + "</body></html>\n"
    )


def write(outcomes: Sequence[Outcome], page_dir: Path) -> Path:
    page_dir.mkdir(parents=True, exist_ok=True)
    page = page_dir / "index.html"
    page.write_text(render(outcomes, page_dir.resolve()), encoding="utf-8")
    return page
