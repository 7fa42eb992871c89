"""The publisher: persistent, mandatory messages with asynchronous publisher confirms.

A pika SelectConnection keeps up to `confirm_window` messages unconfirmed; acks (often `multiple`)
free the window. A returned message (mandatory, no queue bound) is reported, never counted as
delivered. If the broker goes away, every unconfirmed message is sent again after reconnecting:
it may then arrive twice, with the same message_id, which the worker's ledger makes harmless.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pika
from pika.adapters.select_connection import SelectConnection

from de_common.errors import ServiceUnavailable
from de_common.faults import fault_point
from rabbitmq_worker import broker
from rabbitmq_worker.config import RabbitmqWorkerSettings
from rabbitmq_worker.messages import Task
from rabbitmq_worker.telemetry import QueueMetrics
from rabbitmq_worker.topology import WORK_KEY

log = logging.getLogger(__name__)


@dataclass
class Published:
    """The fate of every task handed to the publisher."""

    confirmed: int = 0
    returned: list[tuple[Task, str]] = field(default_factory=list)
    nacked: list[tuple[Task, str]] = field(default_factory=list)
    resent: int = 0
    reconnects: int = 0


class _Session:
    """One connection's worth of publishing, driven by the SelectConnection's ioloop."""

    def __init__(self, owner: AsyncPublisher) -> None:
        self.owner = owner
        self.channel: Any = None
        self.next_tag = 1
        self.unconfirmed: OrderedDict[int, Task] = OrderedDict()
        self.returned: dict[str, str] = {}
        self.error: BaseException | None = None
        self.opened = False
        self.finished = False
        self.connection = SelectConnection(
            broker.parameters(owner.settings),
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error,
            on_close_callback=self._on_closed,
        )

    def _on_open(self, connection: Any) -> None:
        self.opened = True
        connection.channel(on_open_callback=self._on_channel)

    def _on_open_error(self, connection: Any, error: BaseException) -> None:
        self.error = error
        connection.ioloop.stop()

    def _on_closed(self, connection: Any, reason: BaseException) -> None:
        if not self.finished:
            self.error = reason
        connection.ioloop.stop()

    def _on_channel(self, channel: Any) -> None:
        self.channel = channel
        channel.add_on_return_callback(self._on_return)
        channel.add_on_close_callback(self._on_channel_closed)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_ok)

    def _on_channel_closed(self, channel: Any, reason: BaseException) -> None:
        if not self.finished:
            self.error = reason
            if self.connection.is_open:
                self.connection.close()

    def _on_confirm_ok(self, frame: Any) -> None:
        self._fill()

    def _on_return(self, channel: Any, method: Any, props: Any, body: bytes) -> None:
        # Arrives before the ack of the same message: remember it, settle it on the ack.
        self.returned[props.message_id] = f"returned by the broker: {method.reply_text}"

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        nack = isinstance(method, pika.spec.Basic.Nack)
        tags = [method.delivery_tag]
        if method.multiple:
            tags = [t for t in self.unconfirmed if t <= method.delivery_tag]
        done = self.owner.done
        for tag in tags:
            task = self.unconfirmed.pop(tag, None)
            if task is None:
                continue
            reason = self.returned.pop(task.message_id, None)
            if nack:
                done.nacked.append((task, "nacked by the broker"))
                self.owner.metrics.count("nacked")
            elif reason is not None:
                done.returned.append((task, reason))
                self.owner.metrics.count("returned")
            else:
                done.confirmed += 1
                self.owner.metrics.count("published")
        fault_point("publish.after_confirm")
        self._fill()

    def _fill(self) -> None:
        """Publish until the window is full or the input ends; close once all are confirmed."""
        owner = self.owner
        window = owner.settings.confirm_window
        exchange = owner.exchange
        while len(self.unconfirmed) < window:
            if self.channel is None or not self.channel.is_open or self.error is not None:
                return  # the session is ending; what is unconfirmed is sent again
            task = owner.next_task()
            if task is None:
                break
            props = pika.BasicProperties(
                content_type="application/json",
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=task.message_id,
                correlation_id=owner.correlation_id,
                type=task.name,
                app_id="rabbitmq_worker",
                timestamp=int(time.time()),
            )
            self.unconfirmed[self.next_tag] = task
            self.next_tag += 1
            self.channel.basic_publish(exchange, WORK_KEY, task.body(), props, mandatory=True)
        if not self.unconfirmed and owner.exhausted:
            self.finished = True
            self.connection.close()

    def run(self) -> None:
        self.connection.ioloop.start()


class AsyncPublisher:
    """Publishes an iterator of tasks with confirms, surviving broker restarts."""

    def __init__(
        self, settings: RabbitmqWorkerSettings, metrics: QueueMetrics, correlation_id: str
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.correlation_id = correlation_id
        self.exchange = broker.topology(settings).exchange
        self.done = Published()
        self.exhausted = False
        self._source: Iterator[Task] = iter(())
        self._resend: deque[Task] = deque()

    def next_task(self) -> Task | None:
        """Unconfirmed tasks of a lost connection first, then the input."""
        if self._resend:
            return self._resend.popleft()
        if self.exhausted:
            return None
        task = next(self._source, None)
        if task is None:
            self.exhausted = True
        return task

    def publish(self, tasks: Iterator[Task]) -> Published:
        """Publish every task; returns once each is confirmed, returned or nacked."""
        self._source = tasks
        deadline: float | None = None
        delay = 0.5
        while True:
            session = _Session(self)
            session.run()
            if session.error is None:
                return self.done
            if not session.opened and self.done.reconnects == 0 and deadline is None:
                where = broker.where(self.settings)
                raise ServiceUnavailable("rabbitmq", where, broker.describe(session.error))
            # Whatever the broker did not confirm may or may not have been stored: send it again.
            lost = list(session.unconfirmed.values())
            self.done.resent += len(lost)
            self._resend.extendleft(reversed(lost))
            if session.opened:
                deadline = None
                delay = 0.5
                log.warning(
                    "lost the broker (%s); %d unconfirmed messages will be sent again",
                    broker.describe(session.error),
                    len(lost),
                )
            deadline = deadline or time.monotonic() + self.settings.reconnect_timeout_s
            if time.monotonic() >= deadline:
                raise ReconnectTimeout(
                    f"rabbitmq unreachable at {broker.where(self.settings)} for "
                    f"{self.settings.reconnect_timeout_s:g}s: {broker.describe(session.error)}"
                )
            self.done.reconnects += int(session.opened)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


class ReconnectTimeout(Exception):
    """The broker stayed away longer than reconnect_timeout_s."""
