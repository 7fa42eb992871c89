"""Which dates a run owns and which landing folders it must read to see their late records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DateWindow:
    """The event dates [first, last] a run rewrites; records may land `lateness` days late."""

    first: date
    last: date
    lateness: int

    def dates(self) -> list[date]:
        """Every date the run owns, in order (each one's partition is replaced, even by nothing)."""
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def landing_dates(self) -> list[date]:
        """The landing folders to read: the owned dates and the `lateness` days after them."""
        span = (self.last - self.first).days + 1 + self.lateness
        return [self.first + timedelta(days=i) for i in range(span)]
