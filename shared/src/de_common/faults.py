"""Fault injection for crash tests: one convention every project uses, no hidden flags.

A job marks the moments worth crashing at with `fault_point("name")`. A test sets
`DE_FAULT=name` (`name@N`: the N-th time the point is reached, 1 by default) and the process
SIGKILLs itself there, exactly as an OOM kill or a pulled plug would; the test then reruns the job
and checks the final state. `DE_FAULT=name:pause` holds the process there instead: it writes its pid
to `$DE_FAULT_READY` (when set) and waits until the file `$DE_FAULT_RELEASE` exists (forever when
unset), so a test can kill it from outside or run another process against it at a known moment.
Without DE_FAULT the call costs one environment lookup. Build the variables with
`de_services.testing.fault_env()`.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

ENV = "DE_FAULT"
READY_ENV = "DE_FAULT_READY"
RELEASE_ENV = "DE_FAULT_RELEASE"

_reached: Counter[str] = Counter()


def fault_point(name: str) -> None:
    """Kill or pause this process here when DE_FAULT names this point (and its count is reached)."""
    raw = os.environ.get(ENV)
    if not raw:
        return
    spec, _, action = raw.partition(":")
    point, _, nth = spec.partition("@")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] < (int(nth) if nth.isdigit() else 1):
        return
    if action == "pause":
        _pause()
    else:
        os.kill(os.getpid(), signal.SIGKILL)


def _pause() -> None:
    ready = os.environ.get(READY_ENV)
    if ready:
        Path(ready).write_text(f"{os.getpid()}\n", encoding="utf-8")
    release = os.environ.get(RELEASE_ENV)
    while not (release and Path(release).exists()):
        time.sleep(0.05)
