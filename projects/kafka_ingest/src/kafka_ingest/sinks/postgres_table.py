"""PostgreSQL sink: COPY into a staging table, then INSERT ... ON CONFLICT (event_id) DO NOTHING.

psycopg2 is wrapped here and nowhere else: its errors become ServiceUnavailable (the server is out
of reach) or JobError (the server refused the batch), one line each, never the password.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql

from de_common.errors import JobError, ServiceUnavailable
from kafka_ingest.batch import Batch
from kafka_ingest.events import Record
from kafka_ingest.sinks import TopicPartitionKey, WriteResult

log = logging.getLogger(__name__)

COLUMNS = ("event_id", "key", "ts", "kind", "payload", "topic", "partition", "offset")
STAGE = """CREATE TEMP TABLE ki_stage (
    event_id text, key text, ts timestamptz, kind text, value text,
    topic text, partition integer, "offset" bigint
) ON COMMIT DROP"""
# COPY's text format: a backslash escapes, a tab ends a field, a newline ends a row.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def safe_address(url: str) -> str:
    """host:port/db of a URL, never its password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def copy_text(records: Sequence[Record]) -> io.StringIO:
    """The records as COPY text rows in ki_stage's column order."""
    out = io.StringIO()
    for r in records:
        fields = (r.event_id, r.key, r.ts.isoformat(), r.kind, r.value.decode(), r.topic)
        out.write("\t".join(f.translate(_COPY_ESCAPES) for f in fields))
        out.write(f"\t{r.partition}\t{r.offset}\n")
    out.seek(0)
    return out


class PostgresSink:
    """One row per event id: replays and rebalances count every event once."""

    name = "postgres"

    def __init__(self, url: str, table: str = "events") -> None:
        self.address = safe_address(url)
        self.table = sql.Identifier(table)
        try:
            self.conn: Any = psycopg2.connect(url, connect_timeout=10)
        except psycopg2.OperationalError as exc:
            raise ServiceUnavailable("postgres", self.address, _first_line(exc)) from None
        with self._errors("creating the table"), self.conn, self.conn.cursor() as cur:
            cur.execute(
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

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """A lost connection is ServiceUnavailable; anything else the server said is a JobError."""
        try:
            yield
        except psycopg2.Error as exc:
            if self.conn.closed:
                raise ServiceUnavailable("postgres", self.address, _first_line(exc)) from None
            raise JobError(f"postgres sink refused {action}: {_first_line(exc)}") from None

    def assigned(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        """Kafka's committed offset is the resume point; the upsert absorbs any overlap."""
        return {}

    def write(self, batch: Batch) -> WriteResult:
        """One transaction per batch; the event id decides what is new."""
        records = batch.rows()
        if not records:
            return WriteResult()
        # `with conn` commits the transaction, or rolls it back on an error.
        with self._errors("the batch"), self.conn, self.conn.cursor() as cur:
            cur.execute(STAGE)
            cur.copy_expert("COPY ki_stage FROM STDIN", copy_text(records))
            # The payload is cut out of the event server-side, in C, not per row in Python.
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} ({}) SELECT event_id, key, ts, kind, "
                    "(value::jsonb)->'payload', topic, partition, \"offset\" FROM ki_stage "
                    'ORDER BY "offset" ON CONFLICT (event_id) DO NOTHING'
                ).format(self.table, sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS))
            )
            inserted: int = cur.rowcount
        return WriteResult(written=inserted, duplicates=len(records) - inserted)

    def held(self) -> dict[TopicPartitionKey, int]:
        """Nothing: every write is committed before it returns."""
        return {}

    def release(self, partitions: Collection[TopicPartitionKey] | None) -> WriteResult:
        """Nothing to make durable."""
        return WriteResult()

    def drop(self, partitions: Collection[TopicPartitionKey]) -> int:
        """Nothing held to forget."""
        return 0

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
