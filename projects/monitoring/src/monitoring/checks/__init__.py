"""The check family: each kind of target measured from outside, one Protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from monitoring.series import Series


@dataclass(frozen=True)
class Sample:
    """One value of one series; labels in the series' order, `check` first."""

    series: Series
    labels: tuple[str, ...]
    value: float


class CheckFailed(Exception):
    """The target did not answer as expected; the message is the reason logged and reported."""


class Check(Protocol):
    """Something measured each round: run() returns samples or raises CheckFailed."""

    name: str
    kind: str
    timeout_s: float

    def run(self) -> list[Sample]: ...

    def close(self) -> None: ...
