"""A per-source client-side rate limit: a token bucket every thread of the source draws from.

A 429's Retry-After pauses the whole bucket, so the other threads of the source wait too instead
of running into the same limit.
"""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """`rate` requests per second on average, at most `burst` at once."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def acquire(self) -> None:
        """Block until one request may go."""
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                wait = self._paused_until - now
                if wait <= 0:
                    if self._tokens >= 1:
                        self._tokens -= 1
                        return
                    wait = (1 - self._tokens) / self.rate
                self.waited_s += wait
            time.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold every request of the source for `seconds` (a Retry-After)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


class Unlimited(TokenBucket):
    """No client-side limit, but a Retry-After still pauses the source."""

    def __init__(self) -> None:
        super().__init__(rate=1.0)

    def acquire(self) -> None:
        with self._lock:
            wait = self._paused_until - time.monotonic()
        if wait > 0:
            time.sleep(wait)
