"""The parking lot's way back: move parked messages to the work queue after a fix."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pika

from de_common.run import Summary
from rabbitmq_worker import broker, retries, topology
from rabbitmq_worker.config import RabbitmqWorkerSettings
from rabbitmq_worker.topology import WORK_KEY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Requeue:
    """Which parked messages to move: at most `limit`, only these ids when given."""

    limit: int | None = None
    message_ids: frozenset[str] = frozenset()


def requeue_parked(settings: RabbitmqWorkerSettings, choice: Requeue) -> Summary:
    """Move parked messages (confirmed publish, then ack) back to work; the rest stay parked.

    Operator tool, so a blocking confirm per message is fine here; it reads only the messages
    present when it starts, so it never loops on what it sends.
    """
    topo = broker.topology(settings)
    conn = broker.connect(settings)
    moved = kept = 0
    try:
        channel = conn.channel()
        topology.declare(channel, topo)
        channel.confirm_delivery()
        present = channel.queue_declare(topo.parked_queue, passive=True).method.message_count
        budget = present if choice.limit is None else min(present, choice.limit)
        seen = 0
        # Held unacked until the end, so basic_get never hands the same one out twice.
        held: list[int] = []
        while seen < present and moved < budget:
            method, props, body = channel.basic_get(topo.parked_queue, auto_ack=False)
            if method is None:
                break
            seen += 1
            if choice.message_ids and props.message_id not in choice.message_ids:
                held.append(method.delivery_tag)
                kept += 1
                continue
            new_props = pika.BasicProperties(
                content_type=props.content_type,
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=props.message_id,
                correlation_id=props.correlation_id,
                type=props.type,
                headers=retries.requeue_headers(props.headers),
            )
            channel.basic_publish(topo.exchange, WORK_KEY, body, new_props, mandatory=True)
            channel.basic_ack(method.delivery_tag)
            moved += 1
        for tag in held:
            channel.basic_nack(tag, requeue=True)
        conn.close()
    except broker.CONNECTION_ERRORS as exc:
        raise broker_lost(settings, exc) from None
    log.info("requeued %d parked messages to %s", moved, topo.work_queue)
    return Summary(
        records_in=moved + kept,
        records_out=moved,
        records_skipped={"not_selected": kept} if kept else {},
        extra={"parked_queue": topo.parked_queue, "work_queue": topo.work_queue},
    )


def broker_lost(settings: RabbitmqWorkerSettings, exc: BaseException) -> Exception:
    from de_common.errors import ServiceUnavailable

    return ServiceUnavailable("rabbitmq", broker.where(settings), broker.describe(exc))
