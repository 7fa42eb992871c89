"""Start positions for `replay`: an offset, or the first offset at or after a point in time."""

from __future__ import annotations

from datetime import UTC, datetime

from confluent_kafka import Consumer, KafkaException, TopicPartition

from de_common.errors import JobError, UserError


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
    try:
        found = consumer.offsets_for_times(
            [TopicPartition(topic, p, epoch_ms) for p in partitions], timeout=10
        )
    except KafkaException as exc:
        raise JobError(f"offsets_for_times failed: {exc.args[0]}") from None
    starts: dict[int, int] = {}
    for tp in found:
        if tp.offset >= 0:
            starts[tp.partition] = tp.offset
        else:
            _, high = consumer.get_watermark_offsets(tp, timeout=10)
            starts[tp.partition] = high
    return starts
