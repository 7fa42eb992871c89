"""produce() that turns a full local queue into waiting instead of a crash."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Producer

POLL_WAIT_S = 0.05


def produce_with_backpressure(producer: Producer, topic: str, **kwargs: Any) -> int:
    """Produce one message; on BufferError serve delivery reports until there is room.

    Returns how many times it had to wait, so callers can count backpressure.
    """
    waits = 0
    while True:
        try:
            producer.produce(topic, **kwargs)
            return waits
        except BufferError:
            # The queue is full of messages awaiting acknowledgement: let librdkafka drain it.
            waits += 1
            producer.poll(POLL_WAIT_S)
