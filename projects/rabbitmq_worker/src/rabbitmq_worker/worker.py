"""The consumer: deliveries are run on a thread pool, acked from the connection's I/O thread.

pika's BlockingConnection is not thread-safe, so a worker thread never touches it: it puts its
result on a queue and wakes the I/O thread with `add_callback_threadsafe`; the I/O thread then
republishes (retry tier or parking lot, with a publisher confirm) and acks. Because the I/O thread
only ever waits in `process_data_events`, heartbeats keep flowing however long a task runs. A
message is acked only after its effect committed; a redelivery finds its id in the ledger.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import pika
import pika.exceptions

from de_common.errors import ServiceUnavailable
from de_common.run import JobFailed, Summary
from rabbitmq_worker import broker, retries, topology
from rabbitmq_worker.config import RabbitmqWorkerSettings
from rabbitmq_worker.messages import InvalidTask, task_from_delivery
from rabbitmq_worker.store import Store
from rabbitmq_worker.tasks import HANDLERS, Context, PermanentError
from rabbitmq_worker.telemetry import QueueMetrics

log = logging.getLogger(__name__)

RECONNECT_ERRORS: tuple[type[BaseException], ...] = (ServiceUnavailable, *broker.CONNECTION_ERRORS)


@dataclass(frozen=True)
class StopWhen:
    """When a worker stops on its own (besides SIGTERM/SIGINT)."""

    idle_timeout_s: float | None = None
    max_messages: int | None = None


@dataclass(frozen=True)
class Result:
    """A finished delivery, handed from a worker thread to the I/O thread."""

    generation: int
    delivery_tag: int
    kind: str  # ok | duplicate | requeue | retry | park
    message_id: str | None = None
    route: retries.Route | None = None
    body: bytes = b""
    properties: Any = None


@dataclass
class Counts:
    """Every delivery ends in exactly one of these (touched by the I/O thread only)."""

    received: int = 0
    ok: int = 0
    parked: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    redelivered: int = 0
    repeat_ids: int = 0
    reconnects: int = 0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


class Worker:
    """One consuming process; `run()` returns its Summary when it stops."""

    def __init__(
        self,
        settings: RabbitmqWorkerSettings,
        store: Store | None,
        metrics: QueueMetrics,
        stop: StopWhen,
    ) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.stop_when = stop
        self.topology = broker.topology(settings)
        self.counts = Counts()
        self.results: queue.SimpleQueue[Result] = queue.SimpleQueue()
        self.pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="task")
        self.generation = 0
        self.in_flight = 0
        self.stop_requested = False  # set by SIGTERM/SIGINT or a StopWhen condition
        self.stopping = threading.Event()  # tasks not yet started are requeued, not run
        self.last_activity = time.monotonic()
        self.conn: Any = None
        self._wake_pending = False
        # Delivery tags in order and the finished ones (True: to ack), for one multiple-ack per
        # contiguous run of finished deliveries instead of one ack frame per message.
        self._order: deque[int] = deque()
        self._finished: dict[int, bool] = {}
        self.cancelled = False  # the consumer is cancelled: late deliveries go back
        self._seen: set[str] = set()

    # --- worker threads ------------------------------------------------------------------------

    def _work(self, generation: int, tag: int, props: Any, body: bytes) -> None:
        try:
            result = self._handle(generation, tag, props, body)
        except BaseException as exc:
            log.exception("task crashed")
            route = retries.route_failure(
                self.topology, props.headers, f"{type(exc).__name__}: {exc}", permanent=False
            )
            kind = "park" if route.parked else "retry"
            result = Result(generation, tag, kind, props.message_id, route, body, props)
        self.results.put(result)
        # One wake-up per batch of results, not per message (it costs a pipe write); a closed
        # connection is fine: the I/O loop drains the results queue on its own as well.
        if not self._wake_pending:
            self._wake_pending = True
            with contextlib.suppress(Exception):
                self.conn.add_callback_threadsafe(self._drain)

    def _handle(self, generation: int, tag: int, props: Any, body: bytes) -> Result:
        def done(kind: str, mid: str | None, route: retries.Route | None = None) -> Result:
            return Result(generation, tag, kind, mid, route, body, props)

        if self.stopping.is_set():
            return done("requeue", props.message_id)
        headers = props.headers or {}
        try:
            task = task_from_delivery(body, props.message_id)
        except InvalidTask as exc:
            route = retries.route_failure(self.topology, headers, str(exc), permanent=True)
            return done("park", props.message_id, route)
        started = time.perf_counter()
        try:
            ctx = Context(self.store, retries.attempt(headers))
            outcome = HANDLERS[task.name](task, ctx)
        except PermanentError as exc:
            route = retries.route_failure(self.topology, headers, str(exc), permanent=True)
            return done("park", task.message_id, route)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            route = retries.route_failure(self.topology, headers, reason, permanent=False)
            return done("park" if route.parked else "retry", task.message_id, route)
        finally:
            self.metrics.task_seconds.labels(task=task.name).observe(time.perf_counter() - started)
        return done("duplicate" if outcome.duplicate else "ok", task.message_id)

    # --- the I/O thread ------------------------------------------------------------------------

    def _on_message(self, channel: Any, method: Any, props: Any, body: bytes) -> None:
        limit = self.stop_when.max_messages
        if self.cancelled or (limit is not None and self.counts.received >= limit):
            channel.basic_nack(method.delivery_tag, requeue=True)
            return
        self.counts.received += 1
        self.counts.redelivered += int(bool(method.redelivered))
        self.in_flight += 1
        self._order.append(method.delivery_tag)
        self.metrics.in_flight.inc()
        self.last_activity = time.monotonic()
        self.pool.submit(self._work, self.generation, method.delivery_tag, props, body)

    def _drain(self) -> None:
        self._wake_pending = False
        while True:
            try:
                result = self.results.get_nowait()
            except queue.Empty:
                break
            self.in_flight -= 1
            self.metrics.in_flight.dec()
            self.last_activity = time.monotonic()
            if result.generation != self.generation:
                # Its channel is gone: the broker redelivers it, the ledger makes that harmless.
                self._count("unacked_connection_lost")
                continue
            try:
                self._finish(result)
            except broker.CONNECTION_ERRORS:
                self._count("unacked_connection_lost")
                raise
        self._ack_finished()

    def _ack_finished(self) -> None:
        """Ack (multiple) up to the last delivery before which every one has finished."""
        last = None
        while self._order and self._order[0] in self._finished:
            tag = self._order.popleft()
            if self._finished.pop(tag):
                last = tag
        if last is not None:
            self.consume_channel.basic_ack(last, multiple=True)

    def _finish(self, result: Result) -> None:
        if result.kind in ("retry", "park"):
            assert result.route is not None
            self._republish(result)
        if result.kind == "requeue":
            self.consume_channel.basic_nack(result.delivery_tag, requeue=True)
        self._finished[result.delivery_tag] = result.kind != "requeue"
        if result.kind == "ok":
            self.counts.ok += 1
            if result.message_id is not None:
                self.counts.repeat_ids += int(result.message_id in self._seen)
                self._seen.add(result.message_id)
            self.metrics.count("acked")
        elif result.kind == "park":
            self.counts.parked += 1
            self.metrics.count("parked")
        else:
            self._count({"duplicate": "duplicate", "retry": "retried"}.get(result.kind, "requeued"))

    def _republish(self, result: Result) -> None:
        """Publish the failed message to its tier (confirmed) before acking the original."""
        assert result.route is not None
        old = result.properties
        props = pika.BasicProperties(
            content_type=old.content_type or "application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=old.message_id or result.message_id,
            correlation_id=old.correlation_id,
            headers=result.route.headers,
        )
        # confirm_delivery() on this channel: basic_publish returns once the broker confirmed
        # (raises on a nack or, with mandatory, when no queue took it). Failures only, so rare.
        self.publish_channel.basic_publish(
            self.topology.exchange, result.route.routing_key, result.body, props, mandatory=True
        )
        if result.route.parked:
            log.warning(
                "parked message %s: %s",
                props.message_id or "(no message id)",
                result.route.headers.get(retries.LAST_ERROR),
            )

    def _count(self, reason: str) -> None:
        self.counts.skip(reason)
        self.metrics.count(reason)

    # --- lifecycle -----------------------------------------------------------------------------

    def _open(self) -> None:
        self.conn = broker.connect(self.settings)
        self.consume_channel = self.conn.channel()
        topology.declare(self.consume_channel, self.topology)
        self.consume_channel.basic_qos(prefetch_count=self.settings.prefetch)
        self.publish_channel = self.conn.channel()
        self.publish_channel.confirm_delivery()
        self.cancelled = False
        self._order.clear()
        self._finished.clear()
        self.consumer_tag = self.consume_channel.basic_consume(
            self.topology.work_queue, on_message_callback=self._on_message
        )
        log.info(
            "consuming %s (prefetch %d, concurrency %d)",
            self.topology.work_queue,
            self.settings.prefetch,
            self.settings.concurrency,
        )

    def _should_stop(self) -> bool:
        if self.stop_requested:
            return True
        limit = self.stop_when.max_messages
        if limit is not None and self.counts.received >= limit:
            return True
        idle = self.stop_when.idle_timeout_s
        return (
            idle is not None
            and self.in_flight == 0
            and time.monotonic() - self.last_activity >= idle
        )

    def _session(self) -> None:
        """Consume on the open connection until told to stop; then finish in-flight work."""
        while not self._should_stop():
            self.conn.process_data_events(time_limit=0.2)
            self._drain()
        # Stop taking deliveries (pika nacks, with requeue, what it buffered but never dispatched);
        # on a signal also requeue what still waits for a thread; finish what runs, ack, close.
        if self.stop_requested:
            self.stopping.set()
        self.cancelled = True
        self.consume_channel.basic_cancel(self.consumer_tag)
        while self.in_flight > 0:
            self.conn.process_data_events(time_limit=0.2)
            self._drain()
        self.conn.close()

    def _reconnect(self, error: BaseException) -> bool:
        """Back off and reconnect until `reconnect_timeout_s`, else fail with the counts so far."""
        self.generation += 1
        self.counts.reconnects += 1
        deadline = time.monotonic() + self.settings.reconnect_timeout_s
        delay = 0.5
        log.warning("lost the broker (%s); reconnecting", broker.describe(error))
        while not self.stop_requested:
            time.sleep(delay)
            try:
                self._open()
                log.info("reconnected to %s", broker.where(self.settings))
                self.last_activity = time.monotonic()
                self.cancelled = False
                return True
            except RECONNECT_ERRORS as exc:
                if time.monotonic() >= deadline:
                    raise JobFailed(
                        f"rabbitmq unreachable at {broker.where(self.settings)} for "
                        f"{self.settings.reconnect_timeout_s:g}s: {exc}",
                        self._finalise(),
                    ) from None
                delay = min(delay * 2, 10.0)
        return False

    def run(self) -> Summary:
        """Consume until a stop condition or SIGTERM; reconnect with backoff after a broker loss."""
        with _stop_signals(self):
            self._open()
            while True:
                try:
                    self._session()
                    break
                except broker.CONNECTION_ERRORS as exc:
                    if self.stop_requested:
                        log.warning("broker lost while stopping: %s", broker.describe(exc))
                        self.generation += 1
                        break
                    if not self._reconnect(exc):
                        break
        return self._finalise()

    def _finalise(self) -> Summary:
        self.stopping.set()
        self.pool.shutdown(wait=True)
        self.generation += 1  # nothing can be acked any more: count the rest as unacked
        self._drain()
        c = self.counts
        return Summary(
            records_in=c.received,
            records_out=c.ok,
            records_rejected=c.parked,
            records_skipped=dict(c.skipped),
            extra={
                "queue": self.topology.work_queue,
                "parked_queue": self.topology.parked_queue,
                "redelivered": c.redelivered,
                "repeat_ids": c.repeat_ids,
                "reconnects": c.reconnects,
                "concurrency": self.settings.concurrency,
                "prefetch": self.settings.prefetch,
            },
        )


@contextmanager
def _stop_signals(worker: Worker) -> Iterator[None]:
    """SIGTERM and SIGINT stop consuming; in-flight work is finished and acked, then we exit."""

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: finishing in-flight work, then stopping", signum)
        worker.stop_requested = True

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
