"""Request/reply over RabbitMQ: a server on <prefix>.rpc, a client on direct reply-to.

The client sends `reply_to=amq.rabbitmq.reply-to` and a fresh correlation id, and accepts only the
reply carrying that id (a late reply to an earlier, timed-out call is ignored, not mistaken).
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pika

from de_common.errors import JobError
from de_common.run import Summary
from rabbitmq_worker import broker
from rabbitmq_worker.config import RabbitmqWorkerSettings

log = logging.getLogger(__name__)
REPLY_TO = "amq.rabbitmq.reply-to"


def rpc_queue(settings: RabbitmqWorkerSettings) -> str:
    return f"{settings.prefix}.rpc"


def answer(body: bytes) -> dict[str, Any]:
    """The server's function: statistics of {"numbers": [...]}, or an error object."""
    try:
        request = json.loads(body)
        numbers = request["numbers"]
        if not isinstance(numbers, list) or not all(
            isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n)
            for n in numbers
        ):
            raise TypeError("numbers must be a list of finite numbers")
    except (ValueError, KeyError, TypeError) as exc:
        return {"error": f"bad request: {exc}"}
    total = float(sum(numbers))
    count = len(numbers)
    return {"count": count, "sum": total, "mean": total / count if count else None}


@dataclass(frozen=True)
class ServeUntil:
    """When the server stops (besides SIGTERM): after N requests or an idle spell."""

    max_requests: int | None = None
    idle_timeout_s: float | None = None


def serve(settings: RabbitmqWorkerSettings, until: ServeUntil) -> Summary:
    """Answer requests until a stop condition; every request is answered (bad ones with an error)."""
    import signal

    conn = broker.connect(settings)
    channel = conn.channel()
    queue = rpc_queue(settings)
    channel.queue_declare(queue, durable=True)
    channel.basic_qos(prefetch_count=settings.prefetch)
    served = bad = 0
    last = time.monotonic()
    stop = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stop
        stop = True

    def on_request(ch: Any, method: Any, props: Any, body: bytes) -> None:
        nonlocal served, bad, last
        reply = answer(body)
        bad += "error" in reply
        served += 1
        last = time.monotonic()
        if props.reply_to:
            ch.basic_publish(
                "",
                props.reply_to,
                json.dumps(reply).encode(),
                pika.BasicProperties(
                    correlation_id=props.correlation_id, content_type="application/json"
                ),
            )
        ch.basic_ack(method.delivery_tag)

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        channel.basic_consume(queue, on_message_callback=on_request)
        log.info("serving RPC on %s", queue)
        while not stop:
            conn.process_data_events(time_limit=0.2)
            if until.max_requests is not None and served >= until.max_requests:
                break
            idle = until.idle_timeout_s
            if idle is not None and time.monotonic() - last >= idle:
                break
        conn.close()
    except broker.CONNECTION_ERRORS as exc:
        raise JobError(f"rpc server lost the broker: {broker.describe(exc)}") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    return Summary(
        records_in=served,
        records_out=served - bad,
        records_rejected=bad,
        extra={"queue": queue},
    )


def call(settings: RabbitmqWorkerSettings, request: dict[str, Any], timeout_s: float) -> Any:
    """Send one request and wait for the reply with our correlation id."""
    conn = broker.connect(settings)
    try:
        channel = conn.channel()
        correlation_id = uuid.uuid4().hex
        replies: list[Any] = []

        def on_reply(ch: Any, method: Any, props: Any, body: bytes) -> None:
            if props.correlation_id == correlation_id:
                replies.append(json.loads(body))

        # Direct reply-to: consume (auto-ack, required) before publishing the request.
        channel.basic_consume(REPLY_TO, on_message_callback=on_reply, auto_ack=True)
        channel.confirm_delivery()
        try:
            channel.basic_publish(
                "",
                rpc_queue(settings),
                json.dumps(request).encode(),
                pika.BasicProperties(
                    reply_to=REPLY_TO,
                    correlation_id=correlation_id,
                    content_type="application/json",
                    expiration=str(int(timeout_s * 1000)),
                ),
                mandatory=True,
            )
        except pika.exceptions.UnroutableError:
            raise JobError(
                f"no RPC server queue {rpc_queue(settings)!r}: start rpc-server"
            ) from None
        deadline = time.monotonic() + timeout_s
        while not replies and time.monotonic() < deadline:
            conn.process_data_events(time_limit=min(0.2, max(deadline - time.monotonic(), 0)))
        if not replies:
            raise JobError(f"no RPC reply within {timeout_s:g}s (correlation id {correlation_id})")
        return {"correlation_id": correlation_id, "reply": replies[0]}
    except broker.CONNECTION_ERRORS as exc:
        raise JobError(f"rpc call lost the broker: {broker.describe(exc)}") from None
    finally:
        if conn.is_open:
            conn.close()
