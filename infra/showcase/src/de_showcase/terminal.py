"""What the person at the terminal sees: one progress line per project, then the summary table."""

from __future__ import annotations

from collections.abc import Sequence

from de_showcase.demo import Outcome

COLUMNS = ("project", "status", "in", "out", "rejected", "time", "output / error")


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def progress_line(index: int, total: int, outcome: Outcome) -> str:
    """`[3/10] kafka_ingest  ok  12.3s  in 1,000 out 990 rejected 10`."""
    head = (
        f"[{index}/{total}] {outcome.project:<16} {outcome.status:<11} {outcome.duration_s:>6.1f}s"
    )
    if outcome.ok:
        counts = (outcome.records_in, outcome.records_out, outcome.records_rejected)
        return head + "  in {} out {} rejected {}".format(*map(_count, counts))
    return f"{head}  {outcome.error or ''}"


def table(outcomes: Sequence[Outcome], width: int = 60) -> str:
    """A plain-text table: readable in a terminal and in a CI log alike."""
    rows = [
        (
            o.project,
            o.status,
            _count(o.records_in),
            _count(o.records_out),
            _count(o.records_rejected),
            f"{o.duration_s:.1f}s",
            _clip((o.output if o.ok else o.error) or "", width),
        )
        for o in outcomes
    ]
    widths = [max(len(r[i]) for r in (COLUMNS, *rows)) for i in range(len(COLUMNS))]
    right = {2, 3, 4, 5}

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(COLUMNS), rule, *(line(r) for r in rows)])


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
