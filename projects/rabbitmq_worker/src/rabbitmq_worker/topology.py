"""The queue topology, declared by code and idempotently (same arguments every time).

publish --> exchange <prefix> (direct, durable)
              | rk "work"    -> <prefix>.work     quorum, x-delivery-limit, DLX -> "parked"
              | rk "retry.N" -> <prefix>.retry.N  TTL = delay N, DLX -> "work" (back to work)
              | rk "parked"  -> <prefix>.parked   durable, kept until `requeue-parked`
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WORK_KEY = "work"
PARKED_KEY = "parked"


@dataclass(frozen=True)
class Topology:
    """Every name and argument the publisher, worker and operators agree on."""

    prefix: str
    retry_delays_ms: tuple[int, ...]
    delivery_limit: int

    @property
    def exchange(self) -> str:
        return self.prefix

    @property
    def work_queue(self) -> str:
        return f"{self.prefix}.work"

    @property
    def parked_queue(self) -> str:
        return f"{self.prefix}.parked"

    def retry_key(self, tier: int) -> str:
        return f"retry.{tier}"

    def retry_queue(self, tier: int) -> str:
        return f"{self.prefix}.retry.{tier}"

    @property
    def queues(self) -> list[str]:
        """Every queue, work first."""
        retries = [self.retry_queue(i) for i in range(len(self.retry_delays_ms))]
        return [self.work_queue, *retries, self.parked_queue]

    def work_arguments(self) -> dict[str, Any]:
        # A message redelivered more than the limit (a task that kills its worker every time) is
        # dead-lettered to the parking lot instead of looping forever. RabbitMQ 3.10 quorum queues
        # support x-delivery-limit and dead-lettering (at-most-once DLX: the 3.10 default).
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.exchange,
            "x-dead-letter-routing-key": PARKED_KEY,
        }

    def retry_arguments(self, tier: int) -> dict[str, Any]:
        # No consumer ever reads a retry queue: messages wait out the TTL, then the broker
        # dead-letters them back to the work queue, adding an x-death entry (the history).
        return {
            "x-message-ttl": self.retry_delays_ms[tier],
            "x-dead-letter-exchange": self.exchange,
            "x-dead-letter-routing-key": WORK_KEY,
        }


def declare(channel: Any, topology: Topology) -> None:
    """Declare the exchange, queues and bindings on a pika channel (BlockingChannel)."""
    channel.exchange_declare(topology.exchange, exchange_type="direct", durable=True)
    channel.queue_declare(topology.work_queue, durable=True, arguments=topology.work_arguments())
    channel.queue_bind(topology.work_queue, topology.exchange, routing_key=WORK_KEY)
    for tier in range(len(topology.retry_delays_ms)):
        queue = topology.retry_queue(tier)
        channel.queue_declare(queue, durable=True, arguments=topology.retry_arguments(tier))
        channel.queue_bind(queue, topology.exchange, routing_key=topology.retry_key(tier))
    channel.queue_declare(topology.parked_queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(topology.parked_queue, topology.exchange, routing_key=PARKED_KEY)
