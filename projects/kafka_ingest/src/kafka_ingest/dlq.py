"""The dead-letter topic: poison messages with the reason and their origin in the headers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from de_common.errors import JobError
from kafka_ingest.backpressure import produce_with_backpressure

log = logging.getLogger(__name__)

H_ERROR = "dlq.error"
H_TOPIC = "dlq.source.topic"
H_PARTITION = "dlq.source.partition"
H_OFFSET = "dlq.source.offset"
H_ORIGIN = "dlq.source.origin"
H_TIME = "dlq.time"


class DeadLetters:
    """Sends poison messages to the DLQ and proves they arrived before anyone commits past them."""

    def __init__(self, producer: Producer, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.sent = 0
        self.delivered = 0
        self.failed: list[str] = []

    def _on_delivery(self, err: KafkaError | None, _msg: Message) -> None:
        if err is None:
            self.delivered += 1
        else:
            self.failed.append(err.str())

    def send(
        self,
        value: bytes | None,
        key: bytes | None,
        error: str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        origin: str | None = None,
    ) -> None:
        """Queue one poison message with headers naming the error and the source."""
        headers: list[tuple[str, Any]] = [
            (H_ERROR, error[:1000]),
            (H_TIME, datetime.now(UTC).isoformat()),
        ]
        if topic is not None:
            headers += [(H_TOPIC, topic), (H_PARTITION, str(partition)), (H_OFFSET, str(offset))]
        if origin is not None:
            headers.append((H_ORIGIN, origin))
        produce_with_backpressure(
            self.producer,
            self.topic,
            value=value,
            key=key,
            headers=headers,
            on_delivery=self._on_delivery,
        )
        self.sent += 1

    def confirm(self, timeout_s: float = 60.0) -> None:
        """Wait until every DLQ message is acknowledged; a refused one fails the run."""
        remaining = self.producer.flush(timeout_s)
        if self.failed or remaining:
            raise JobError(
                f"DLQ {self.topic!r} refused {len(self.failed) + remaining} message(s): "
                f"{self.failed[0] if self.failed else 'flush timed out'}"
            )
