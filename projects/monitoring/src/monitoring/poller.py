"""Runs every check concurrently, each bounded by its own timeout; keeps the latest outcome."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field

from monitoring.checks import Check, CheckFailed, Sample

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """A check's latest round: its samples when up, the reason when not."""

    check: str
    kind: str
    up: bool
    samples: list[Sample]
    reason: str
    duration_s: float
    finished_at: float


@dataclass
class Poller:
    """Rounds of concurrent checks; a slow target only ever costs its own timeout.

    A check still running from an earlier round (a client that ignored its timeout) is not started
    again: it reports down, so a hung target never piles up threads.
    """

    checks: list[Check]
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    _running: dict[str, Future[list[Sample]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None

    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            workers = max(1, 2 * len(self.checks))
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="check")
        return self._pool

    def run_round(self) -> dict[str, Outcome]:
        """Start every check that is not still busy, wait for each up to its timeout, record all."""
        started = time.monotonic()
        pending: dict[Future[list[Sample]], Check] = {}
        for check in self.checks:
            busy = self._running.get(check.name)
            if busy is not None and not busy.done():
                self._record(check, False, [], "still running from an earlier round", 0.0)
                continue
            future = self.pool().submit(check.run)
            self._running[check.name] = future
            future.add_done_callback(self._finisher(check, time.monotonic()))
            pending[future] = check
        deadline = started + max((c.timeout_s for c in pending.values()), default=0.0)
        while pending:
            now = time.monotonic()
            expired = [f for f, c in pending.items() if now >= started + c.timeout_s]
            for future in expired:
                check = pending.pop(future)
                if not future.done():
                    reason = f"no answer within its {check.timeout_s:g}s timeout"
                    self._record(check, False, [], reason, check.timeout_s)
            if not pending:
                break
            nearest = min(started + c.timeout_s for c in pending.values())
            done, _ = wait_for(list(pending), timeout=max(0.0, min(nearest, deadline) - now))
            for future in done:
                pending.pop(future, None)
        with self._lock:
            return dict(self.outcomes)

    def _finisher(self, check: Check, began: float) -> Callable[[Future[list[Sample]]], None]:
        def finish(future: Future[list[Sample]]) -> None:
            elapsed = time.monotonic() - began
            if elapsed > check.timeout_s:
                # Too late to count, even if run_round saw it done before marking it: down.
                reason = f"no answer within its {check.timeout_s:g}s timeout"
                self._record(check, False, [], reason, elapsed)
                return
            exc = future.exception()
            if exc is None:
                self._record(check, True, future.result(), "", elapsed)
            elif isinstance(exc, CheckFailed):
                self._record(check, False, [], str(exc), elapsed)
            else:
                self._record(check, False, [], f"{type(exc).__name__}: {exc}", elapsed)

        return finish

    def _record(
        self, check: Check, up: bool, samples: list[Sample], reason: str, took: float
    ) -> None:
        outcome = Outcome(check.name, check.kind, up, samples, reason, took, time.time())
        with self._lock:
            before = self.outcomes.get(check.name)
            self.outcomes[check.name] = outcome
        # Transitions only: a target down for hours logs once, not once per round.
        if not up and (before is None or before.up):
            log.warning("check %s (%s) down: %s", check.name, check.kind, reason)
        elif up and before is not None and not before.up:
            log.info("check %s (%s) up again", check.name, check.kind)

    def snapshot(self) -> dict[str, Outcome]:
        with self._lock:
            return dict(self.outcomes)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        for check in self.checks:
            check.close()
