"""SIGTERM (and Ctrl-C) ask a run to stop: the pages in flight are finished and written, the state
saved, and the run exits 0 with `stopped` in its summary."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger(__name__)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGTERM or SIGINT while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.getsignal(sig) for sig in wanted}

    def handler(signum: int, _frame: FrameType | None) -> None:
        if not stop.is_set():
            log.warning(
                "%s: finishing the pages in flight, then saving state", signal.Signals(signum).name
            )
        stop.set()

    for sig in wanted:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
