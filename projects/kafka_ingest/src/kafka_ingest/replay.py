"""Start positions for `replay`: an offset, or the first offset at or after a point in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka import Consumer, TopicPartition

from de_common.errors import UserError


def parse_time(text: str) -> int:
    """Epoch milliseconds from an ISO-8601 time (UTC if no offset) or a number of milliseconds."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--from-timestamp: not an ISO-8601 time or epoch ms: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class ReplayStart:
    """Where a replay starts on every partition: an offset, or a time in epoch milliseconds."""

    offset: int | None = None
    epoch_ms: int | None = None

    @classmethod
    def parse(cls, from_offset: int | None, from_timestamp: str | None) -> ReplayStart:
        """From the command's options: exactly one of them."""
        if (from_offset is None) == (from_timestamp is None):
            raise UserError("give exactly one of --from-offset N or --from-timestamp TIME")
        if from_offset is not None:
            return cls(offset=from_offset)
        return cls(epoch_ms=parse_time(from_timestamp or ""))

    def starts(self, consumer: Consumer, topic: str, partitions: list[int]) -> dict[int, int]:
        """The first offset to read per partition."""
        if self.epoch_ms is not None:
            return offsets_from_time(consumer, topic, partitions, self.epoch_ms)
        return offsets_from_offset(consumer, topic, partitions, self.offset or 0)


def offsets_from_offset(
    consumer: Consumer, topic: str, partitions: list[int], offset: int
) -> dict[int, int]:
    """The same offset on every partition, clamped into what the log still holds."""
    starts: dict[int, int] = {}
    for p in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        starts[p] = min(max(offset, low), high)
    return starts


def offsets_from_time(
    consumer: Consumer, topic: str, partitions: list[int], epoch_ms: int
) -> dict[int, int]:
    """offsets_for_times per partition; a partition with nothing that recent starts at its end."""
    found = consumer.offsets_for_times(
        [TopicPartition(topic, p, epoch_ms) for p in partitions], timeout=10
    )
    starts: dict[int, int] = {}
    for tp in found:
        if tp.offset >= 0:
            starts[tp.partition] = tp.offset
        else:
            _, high = consumer.get_watermark_offsets(tp, timeout=10)
            starts[tp.partition] = high
    return starts
