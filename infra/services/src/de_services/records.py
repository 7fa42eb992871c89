"""The pid record of a running service (`<state>/<name>/service.json`): what `down()` may signal."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

from de_services.processes import listeners, start_time
from de_services.runtime import Runtime


def record_path(rt: Runtime) -> Path:
    return rt.state_dir / "service.json"


def read_record(rt: Runtime) -> dict[str, object]:
    try:
        data = json.loads(record_path(rt).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recorded_pids(record: Mapping[str, object]) -> list[int]:
    """The recorded pids that are still the processes we started (a pid reused after a reboot or
    a crash belongs to someone else and must never be signalled)."""
    pids = record.get("pids", [])
    starts = record.get("starts", {})
    if not isinstance(pids, list):
        return []
    known = starts if isinstance(starts, dict) else {}
    return [int(p) for p in pids if str(p) not in known or known[str(p)] == start_time(int(p))]


def write_record(rt: Runtime, started: float) -> None:
    """Record spawned pids plus whatever now listens on the service's ports (daemonised children)."""
    pids = set(rt.pids)
    for port in rt.ports.values():
        pids.update(listeners(port))
    rt.pids[:] = sorted(pids)
    record = {
        "pids": rt.pids,
        "starts": {str(p): start_time(p) for p in rt.pids},
        "ports": rt.ports,
        "url": rt.service.url(rt),
        "startup_s": round(time.monotonic() - started, 2),
        "started_at": time.time(),
    }
    record_path(rt).write_text(json.dumps(record, indent=2))
