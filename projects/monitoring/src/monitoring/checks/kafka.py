"""Kafka consumer-group lag per partition and dead-letter topic sizes, through the AdminClient."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined, unused-ignore]
    AdminClient,
    OffsetSpec,
)

from monitoring.checks import CheckFailed, Sample
from monitoring.series import KAFKA_LAG, KAFKA_TOPIC_MESSAGES


@dataclass
class KafkaLag:
    """Lag of each group on each partition it committed to (and on `topics` it has not yet)."""

    name: str
    bootstrap: str
    groups: list[str]
    topics: list[str]
    dead_letter_topics: list[str]
    timeout_s: float
    config: dict[str, str] = field(default_factory=dict)
    kind: str = "kafka"
    _admin: AdminClient | None = None

    def admin(self) -> AdminClient:
        if self._admin is None:
            timeout_ms = str(int(self.timeout_s * 1000))
            config: dict[str, Any] = {
                "bootstrap.servers": self.bootstrap,
                "socket.timeout.ms": timeout_ms,
                "socket.connection.setup.timeout.ms": timeout_ms,
                "logger": logging.getLogger("confluent_kafka"),
                **self.config,
            }
            self._admin = AdminClient(config)
        return self._admin

    def run(self) -> list[Sample]:
        try:
            return self._measure()
        except KafkaException as exc:
            raise CheckFailed(f"kafka {self.bootstrap}: {exc.args[0]}") from None
        except TimeoutError:
            raise CheckFailed(f"kafka {self.bootstrap}: no answer in {self.timeout_s}s") from None

    def _measure(self) -> list[Sample]:
        admin = self.admin()
        wait = self.timeout_s
        partitions = self._partitions(admin, [*self.topics, *self.dead_letter_topics], wait)
        committed: dict[str, dict[tuple[str, int], int]] = {}
        for group in self.groups:
            request = [ConsumerGroupTopicPartitions(group)]
            futures = admin.list_consumer_group_offsets(request, request_timeout=wait)
            result = futures[group].result(timeout=wait)
            offsets = committed.setdefault(group, {})
            for tp in result.topic_partitions or []:
                if tp.error is None:
                    offsets[(tp.topic, tp.partition)] = tp.offset
                    partitions.setdefault((tp.topic, tp.partition), None)
        earliest = OffsetSpec.earliest()  # type: ignore[no-untyped-call, unused-ignore]
        latest = OffsetSpec.latest()  # type: ignore[no-untyped-call, unused-ignore]
        low = self._offsets(admin, list(partitions), earliest, wait)
        high = self._offsets(admin, list(partitions), latest, wait)
        samples: list[Sample] = []
        for group, offsets in committed.items():
            watched = set(offsets) | {tp for tp in partitions if tp[0] in self.topics}
            for topic, part in sorted(watched):
                position = offsets.get((topic, part), -1)
                start = position if position >= 0 else low[(topic, part)]
                lag = max(high[(topic, part)] - start, 0)
                samples.append(Sample(KAFKA_LAG, (self.name, group, topic, str(part)), lag))
        sizes: dict[str, int] = {}
        for (topic, part), end in high.items():
            if topic in self.dead_letter_topics or topic in self.topics:
                sizes[topic] = sizes.get(topic, 0) + end - low[(topic, part)]
        for topic, size in sorted(sizes.items()):
            role = "dead_letter" if topic in self.dead_letter_topics else "work"
            samples.append(Sample(KAFKA_TOPIC_MESSAGES, (self.name, topic, role), size))
        return samples

    def _partitions(
        self, admin: AdminClient, topics: list[str], wait: float
    ) -> dict[tuple[str, int], None]:
        if not topics:
            return {}
        meta = admin.list_topics(timeout=wait)
        found: dict[tuple[str, int], None] = {}
        for topic in topics:
            info = meta.topics.get(topic)
            if info is None or info.error is not None:
                raise CheckFailed(f"kafka {self.bootstrap}: topic {topic} does not exist")
            for part in info.partitions:
                found[(topic, part)] = None
        return found

    @staticmethod
    def _offsets(
        admin: AdminClient, tps: list[tuple[str, int]], spec: Any, wait: float
    ) -> dict[tuple[str, int], int]:
        if not tps:
            return {}
        request = {TopicPartition(t, p): spec for t, p in tps}
        futures = admin.list_offsets(request, request_timeout=wait)
        return {
            (tp.topic, tp.partition): f.result(timeout=wait).offset for tp, f in futures.items()
        }

    def close(self) -> None:
        self._admin = None
