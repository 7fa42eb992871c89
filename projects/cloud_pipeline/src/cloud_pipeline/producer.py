"""Kinesis PutRecords batching: at most 500 records or 5 MiB a call, and only the records a call
reports as failed (FailedRecordCount > 0) are sent again, with exponential backoff and full jitter.

Order across retries is not kept (a retried record lands after later ones), as with any Kinesis
producer that does not serialise per shard; the handler's keys come from sequence numbers.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cloud_pipeline.clients import AwsTarget, aws_errors

MAX_RECORD_BYTES = 1024 * 1024  # data + partition key, Kinesis' limit per record
BACKOFF_CAP_S = 5.0


@dataclass(frozen=True)
class Entry:
    """One record to put: its bytes and partition key (and the caller's index, for reports)."""

    index: int
    data: bytes
    key: str

    @property
    def size(self) -> int:
        return len(self.data) + len(self.key.encode("utf-8"))


@dataclass(frozen=True)
class Batching:
    """The limits of one call and the retry policy."""

    max_records: int = 500
    max_bytes: int = 5 * 1024 * 1024
    max_attempts: int = 8
    backoff_s: float = 0.1


@dataclass
class PutReport:
    """What happened: sent, failed for good (with the last error code), calls and retries."""

    sent: int = 0
    calls: int = 0
    retried: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    failed: list[tuple[Entry, str]] = field(default_factory=list)


def batches(entries: Iterable[Entry], limits: Batching) -> Iterator[list[Entry]]:
    """Consecutive groups within both limits (a record alone over the byte limit is the caller's)."""
    batch: list[Entry] = []
    size = 0
    for entry in entries:
        if batch and (len(batch) == limits.max_records or size + entry.size > limits.max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += entry.size
    if batch:
        yield batch


def backoff(attempt: int, base_s: float, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempt)]."""
    return rng.uniform(0, min(BACKOFF_CAP_S, base_s * 2**attempt))


class Producer:
    """Puts entries into one stream; `sleep` is injectable so unit tests run without waiting."""

    def __init__(
        self,
        kinesis: Any,
        stream: str,
        target: AwsTarget,
        limits: Batching,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.kinesis = kinesis
        self.stream = stream
        self.target = target
        self.limits = limits
        self.sleep = sleep
        self.rng = random.Random()  # noqa: S311 - jitter, not secrets

    def put(self, entries: Iterable[Entry]) -> PutReport:
        report = PutReport()
        for batch in batches(entries, self.limits):
            self._put_batch(batch, report)
        return report

    def _put_batch(self, batch: list[Entry], report: PutReport) -> None:
        pending = batch
        last_errors: list[tuple[Entry, str]] = []
        for attempt in range(self.limits.max_attempts):
            if attempt:
                report.retried += len(pending)
                self.sleep(backoff(attempt, self.limits.backoff_s, self.rng))
            records = [{"Data": e.data, "PartitionKey": e.key} for e in pending]
            with aws_errors("kinesis", self.target):
                resp = self.kinesis.put_records(StreamName=self.stream, Records=records)
            report.calls += 1
            failed: list[tuple[Entry, str]] = []
            # The response lists one result per request record, in order.
            for entry, result in zip(pending, resp["Records"], strict=True):
                if "ErrorCode" in result:
                    failed.append((entry, str(result["ErrorCode"])))
                    report.errors[str(result["ErrorCode"])] += 1
            report.sent += len(pending) - len(failed)
            if not resp.get("FailedRecordCount"):
                return
            pending = [entry for entry, _ in failed]
            last_errors = failed
        report.failed.extend(last_errors)


def put_one_by_one(kinesis: Any, stream: str, entries: Iterable[Entry]) -> int:
    """The naive producer the benchmark compares with: one PutRecord call per record."""
    count = 0
    for entry in entries:
        kinesis.put_record(StreamName=stream, Data=entry.data, PartitionKey=entry.key)
        count += 1
    return count
