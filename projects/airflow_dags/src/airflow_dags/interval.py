"""A data interval and the partition names every task derives from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Interval:
    """[start, end) in UTC: the only data a task run reads or writes."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: datetime, end: datetime) -> Interval:
        """From Airflow's data_interval_start/end (pendulum or datetime, any zone)."""
        return cls(start.astimezone(UTC), end.astimezone(UTC))

    @property
    def date(self) -> str:
        """The date partition: date=YYYY-MM-DD of the interval's start."""
        return f"{self.start:%Y-%m-%d}"

    @property
    def hour(self) -> str:
        """The hour partition of an hourly interval: YYYYMMDDHH."""
        return f"{self.start:%Y%m%d%H}"

    @property
    def hive_partition(self) -> str:
        """The Hive partition of an hourly interval: dt=YYYY-MM-DD/hour=HH."""
        return f"dt={self.start:%Y-%m-%d}/hour={self.start:%H}"

    @property
    def start_iso(self) -> str:
        return f"{self.start:%Y-%m-%dT%H:%M:%SZ}"

    @property
    def end_iso(self) -> str:
        return f"{self.end:%Y-%m-%dT%H:%M:%SZ}"
