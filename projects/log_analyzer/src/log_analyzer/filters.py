"""Row filters: time window, status codes or classes, path pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from de_common.errors import UserError


@dataclass(frozen=True)
class Filters:
    """Which parsed requests the report counts; the rest are counted as filtered."""

    since: int | None = None
    until: int | None = None
    statuses: tuple[str, ...] = ()  # "404", "5xx"
    path_regex: str | None = None

    @classmethod
    def parse(
        cls, since: str | None, until: str | None, statuses: str | None, path: str | None
    ) -> Filters:
        """From the --since/--until/--status/--path texts; a bad one is a usage error."""
        return cls(
            since=parse_time(since, "--since"),
            until=parse_time(until, "--until"),
            statuses=parse_statuses(statuses),
            path_regex=check_regex(path),
        )

    @property
    def active(self) -> bool:
        return bool(
            self.since is not None or self.until is not None or self.statuses or self.path_regex
        )

    def apply(self, t: pa.Table) -> pa.Table:
        """The rows that pass every filter."""
        if not self.active or t.num_rows == 0:
            return t
        mask = pa.array([True] * t.num_rows)
        if self.since is not None:
            mask = pc.and_(mask, pc.greater_equal(t["ts"], self.since))
        if self.until is not None:
            mask = pc.and_(mask, pc.less(t["ts"], self.until))
        if self.statuses:
            mask = pc.and_(mask, _status_mask(t["status"], self.statuses))
        if self.path_regex:
            hit = pc.fill_null(pc.match_substring_regex(t["path"], self.path_regex), False)
            mask = pc.and_(mask, hit)
        return t.filter(mask)


def _status_mask(status: pa.ChunkedArray | pa.Array, specs: tuple[str, ...]) -> pa.Array:
    out = pc.equal(status, -1)
    for spec in specs:
        if spec.endswith("xx"):
            lo = int(spec[0]) * 100
            hit = pc.and_(pc.greater_equal(status, lo), pc.less(status, lo + 100))
        else:
            hit = pc.equal(status, int(spec))
        out = pc.or_(out, hit)
    return out


def parse_statuses(text: str | None) -> tuple[str, ...]:
    """'404,5xx' -> ('404', '5xx'); anything else is a usage error."""
    if not text:
        return ()
    specs = tuple(s.strip().lower() for s in text.split(",") if s.strip())
    for s in specs:
        if not re.fullmatch(r"[1-5](xx|\d\d)", s):
            raise UserError(f"bad status filter {s!r}: use codes like 404 or classes like 5xx")
    return specs


def check_regex(pattern: str | None) -> str | None:
    """A path pattern that compiles, or a usage error."""
    if pattern is None:
        return None
    try:
        re.compile(pattern)
        pc.match_substring_regex(pa.array([""]), pattern)
    except (re.error, pa.ArrowInvalid) as exc:
        raise UserError(f"bad path pattern {pattern!r}: {exc}") from None
    return pattern


def parse_time(text: str | None, flag: str) -> int | None:
    """An ISO 8601 date or time (UTC when it has no offset) as epoch seconds."""
    if text is None:
        return None
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{flag}: cannot read {text!r} as an ISO 8601 date or time") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp())
