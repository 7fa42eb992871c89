"""PostgreSQL sink: COPY into a staging table, then INSERT ... ON CONFLICT (event_id) DO NOTHING."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from de_common.errors import JobError, ServiceUnavailable
from kafka_ingest.batch import Batch
from kafka_ingest.events import Record
from kafka_ingest.sinks import WriteResult

log = logging.getLogger(__name__)

COLUMNS = ("event_id", "key", "ts", "kind", "payload", "topic", "partition", "offset")
STAGE = """CREATE TEMP TABLE ki_stage (
    event_id text, key text, ts timestamptz, kind text, value text,
    topic text, partition integer, "offset" bigint
) ON COMMIT DROP"""


def safe_address(url: str) -> str:
    """host:port/db of a URL, never its password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


class PostgresSink:
    """One row per event id: replays and rebalances count every event once."""

    name = "postgres"

    def __init__(self, url: str, table: str = "events") -> None:
        self.table = sql.Identifier(table)
        try:
            self.conn = psycopg.connect(url, connect_timeout=10, autocommit=False)
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "connect failed"
            raise ServiceUnavailable("postgres", safe_address(url), reason) from None
        self._create()

    def _create(self) -> None:
        with self.conn.transaction():
            self.conn.execute(
                sql.SQL(
                    """CREATE TABLE IF NOT EXISTS {} (
                        event_id text PRIMARY KEY,
                        key text NOT NULL,
                        ts timestamptz NOT NULL,
                        kind text NOT NULL,
                        payload jsonb NOT NULL,
                        topic text NOT NULL,
                        partition integer NOT NULL,
                        "offset" bigint NOT NULL,
                        ingested_at timestamptz NOT NULL DEFAULT now()
                    )"""
                ).format(self.table)
            )

    def assigned(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        """Kafka's committed offset is the resume point; the upsert absorbs any overlap."""
        return {}

    def write(self, batch: Batch) -> WriteResult:
        """One transaction per batch; the event id decides what is new."""
        records = batch.rows()
        if not records:
            return WriteResult()
        try:
            return self._write(records)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise JobError(f"postgres sink refused the batch: {reason}") from None

    def _write(self, records: Sequence[Record]) -> WriteResult:
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(STAGE)
            with cur.copy("COPY ki_stage FROM STDIN") as copy:
                for r in records:
                    copy.write_row(
                        (
                            r.event_id,
                            r.key,
                            r.ts,
                            r.kind,
                            r.value.decode(),
                            r.topic,
                            r.partition,
                            r.offset,
                        )
                    )
            # The payload is cut out of the event server-side, in C, not per row in Python.
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} ({cols}) SELECT event_id, key, ts, kind, "
                    "(value::jsonb)->'payload', topic, partition, \"offset\" FROM ki_stage "
                    'ORDER BY "offset" ON CONFLICT (event_id) DO NOTHING'
                ).format(self.table, cols=columns)
            )
            inserted = cur.rowcount
        return WriteResult(written=inserted, duplicates=len(records) - inserted)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
