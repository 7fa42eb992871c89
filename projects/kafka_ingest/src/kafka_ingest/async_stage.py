"""The asyncio variant: the consumer feeds an async enrichment stage through a bounded queue.

The reader polls Kafka in a worker thread and puts one enrichment task per message into a bounded
asyncio.Queue in offset order; the writer awaits them in that same order, so the batch it writes and
the offsets it commits are always a contiguous prefix of each partition. A full queue stops the
reader (backpressure), and librdkafka stops fetching once its own prefetch queue is full.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import orjson
from confluent_kafka import Message

from kafka_ingest.consumer import CONSUME_TIMEOUT_S, BatchConsumer, ConsumeResult
from kafka_ingest.events import Record
from kafka_ingest.sinks import TopicPartitionKey

log = logging.getLogger(__name__)

Enricher = Callable[[Record], Awaitable[Record]]
DRAIN_TIMEOUT_S = 120.0


def latency_enricher(latency_s: float) -> Enricher:
    """A stand-in for an I/O-bound lookup (an HTTP or database call) of latency_s per event."""

    async def enrich(record: Record) -> Record:
        if latency_s:
            await asyncio.sleep(latency_s)
        event = orjson.loads(record.value)
        event["payload"]["segment"] = zlib.crc32(record.key.encode()) % 16
        return record._replace(value=orjson.dumps(event))

    return enrich


@dataclass
class _Item:
    topic: str
    partition: int
    offset: int
    task: asyncio.Task[Record] | None


class AsyncPipeline:
    """Runs a BatchConsumer's decode/flush/commit logic with a concurrent enrichment stage."""

    def __init__(
        self, batch: BatchConsumer, enrich: Enricher, *, concurrency: int, queue_size: int
    ) -> None:
        self.batch = batch
        self.enrich = enrich
        self.concurrency = concurrency
        self.queue_size = queue_size
        self.max_queue_depth = 0
        self.in_flight = 0
        # The rebalance callbacks run in the polling thread; they drain the loop through this.
        batch.before_revoke = self._drain_from_thread  # type: ignore[method-assign]

    async def _bounded(self, record: Record) -> Record:
        async with self.semaphore:
            self.in_flight += 1
            self.batch.result.peak_enrichments = max(
                self.batch.result.peak_enrichments, self.in_flight
            )
            try:
                return await self.enrich(record)
            finally:
                self.in_flight -= 1

    def _drain_from_thread(self, partitions: Collection[TopicPartitionKey]) -> None:
        future = asyncio.run_coroutine_threadsafe(self._drain(partitions), self.loop)
        future.result(DRAIN_TIMEOUT_S)

    async def _drain(self, partitions: Collection[TopicPartitionKey]) -> None:
        await self.queue.join()
        self.batch.flush(release=partitions)

    async def _reader(self) -> None:
        batch = self.batch
        idle_since = time.monotonic()
        while not batch.should_stop(idle_since):
            msgs: list[Message] = await self.loop.run_in_executor(
                self.executor, batch.consumer.consume, batch.fetch_size(), CONSUME_TIMEOUT_S
            )
            if msgs or not batch.ever_assigned:
                idle_since = time.monotonic()
            for msg in msgs:
                if not batch.check_error(msg):
                    continue
                record = batch.decode(msg)
                task = asyncio.create_task(self._bounded(record)) if record is not None else None
                # Blocks while the queue is full: the backpressure that keeps memory bounded.
                await self.queue.put(_Item(msg.topic(), msg.partition(), msg.offset(), task))  # type: ignore[arg-type, unused-ignore]
                self.max_queue_depth = max(self.max_queue_depth, self.queue.qsize())
            # max_messages counts what the writer has tracked; wait so the reader does not overshoot.
            if batch.stop.max_messages is not None:
                while (
                    batch.result.records_in + self.queue.qsize() >= batch.stop.max_messages
                    and not self.queue.empty()
                ):
                    await asyncio.sleep(0.01)
        await self.queue.put(None)

    async def _writer(self) -> None:
        batch = self.batch
        while True:
            timeout = max(batch.batch_timeout_s - (time.monotonic() - batch.batch_started), 0.01)
            try:
                item = await asyncio.wait_for(self.queue.get(), timeout)
            except TimeoutError:
                if batch.due():
                    batch.flush()
                continue
            if item is None:
                self.queue.task_done()
                return
            record = await item.task if item.task is not None else None
            batch.track(item.topic, item.partition, item.offset, record)
            self.queue.task_done()
            if batch.due():
                batch.flush()

    async def run(self) -> ConsumeResult:
        """Run reader and writer until the stop condition, then flush, commit and close."""
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[_Item | None] = asyncio.Queue(maxsize=self.queue_size)
        self.semaphore = asyncio.Semaphore(self.concurrency)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-poll")
        try:
            await asyncio.gather(self._reader(), self._writer())
            self.batch.flush(release=None)
        finally:
            # close() leaves the group; its revocation callback must not wait on this loop.
            vars(self.batch).pop("before_revoke", None)  # back to the plain flush
            await self.loop.run_in_executor(self.executor, self.batch.close)
            self.executor.shutdown(wait=True)
        return self.batch.result
