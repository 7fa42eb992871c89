"""Thresholds on the state the projects report."""

from __future__ import annotations

from typing import Any


class Unhealthy(RuntimeError):
    """A stream is over its limit; the message is the alert."""


def check_lag(state: dict[str, Any], max_lag: int) -> dict[str, Any]:
    """Pass kafka_ingest's `lag` state through, or raise when the total lag is over `max_lag`."""
    total = int(state["total_lag"])
    if total > max_lag:
        raise Unhealthy(
            f"kafka lag {total} > {max_lag} for group {state.get('group_id')} "
            f"on topic {state.get('topic')}"
        )
    return {"total_lag": total, "max_lag": max_lag, "partitions": len(state["partitions"])}
