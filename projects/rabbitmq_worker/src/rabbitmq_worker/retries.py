"""What happens to a failed task: the next retry tier, or the parking lot with its reasons."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rabbitmq_worker.topology import PARKED_KEY, Topology

RETRIES = "x-retries"
LAST_ERROR = "x-last-error"
ERRORS = "x-errors"
MAX_ERRORS_KEPT = 20
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Route:
    """Where a failed message is republished: routing key and its new headers."""

    routing_key: str
    headers: dict[str, Any]
    parked: bool


def attempt(headers: dict[str, Any] | None) -> int:
    """How many times this task failed before (our own counter; x-death counts per queue)."""
    value = (headers or {}).get(RETRIES, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def route_failure(
    topology: Topology, headers: dict[str, Any] | None, error: str, permanent: bool
) -> Route:
    """The next tier for a retryable failure, else the parking lot; x-death and earlier reasons kept."""
    kept = dict(headers or {})
    tries = attempt(kept)
    error = error.replace("\n", " ")[:MAX_ERROR_CHARS]
    errors = _errors(kept.get(ERRORS))
    errors.append(f"attempt {tries + 1}: {error}")
    kept[ERRORS] = json.dumps(errors[-MAX_ERRORS_KEPT:])
    kept[LAST_ERROR] = error
    if not permanent and tries < len(topology.retry_delays_ms):
        kept[RETRIES] = tries + 1
        return Route(topology.retry_key(tries), kept, parked=False)
    return Route(PARKED_KEY, kept, parked=True)


def _errors(raw: Any) -> list[str]:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str):
        return []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return [raw]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def requeue_headers(headers: dict[str, Any] | None) -> dict[str, Any]:
    """Headers of a parked message sent back to work: the retry counter restarts, history stays."""
    kept = dict(headers or {})
    kept[RETRIES] = 0
    kept["x-requeued"] = int(kept.get("x-requeued", 0) or 0) + 1
    return kept
