"""The unit that flows from the parsing thread to the database: one chunk, split and encoded."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pcsv

from csv_to_postgres.chunks import RawChunk, quotes_open_fields_only
from csv_to_postgres.columns import TableSpec
from csv_to_postgres.config import Cleaning
from csv_to_postgres.dedupe import KeyTracker
from csv_to_postgres.dialect import Dialect
from csv_to_postgres.parsing import parse
from csv_to_postgres.rejects import Reject
from csv_to_postgres.tables import LINE
from csv_to_postgres.transform import transform


@dataclass
class Batch:
    """Rows of one chunk: first sightings of a key (main), repeats (suspects), rejects."""

    main: pa.Table
    suspects: pa.Table  # carries the _line column
    rejects: list[Reject]
    rows_read: int
    blank: int
    main_csv: bytes = b""
    suspects_csv: bytes = b""
    main_rows: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def to_csv(table: pa.Table, delimiter: str = ",") -> bytes:
    """COPY-ready CSV: unquoted empty = NULL, quoted empty = empty string."""
    if table.num_rows == 0:
        return b""
    sink = io.BytesIO()
    options = pcsv.WriteOptions(include_header=False, quoting_style="needed", delimiter=delimiter)
    pcsv.write_csv(table, sink, options)
    return sink.getvalue()


@dataclass
class Plan:
    """What the parsing thread needs to know."""

    names: list[str]
    columns: list[str]
    spec: TableSpec
    rules: Cleaning
    dialect: Dialect
    file: str
    encode_csv: bool
    verbatim_copy: bool = False  # stream clean chunks' original bytes (PostgreSQL, see loaders)


def make_batch(chunk: RawChunk, plan: Plan, tracker: KeyTracker) -> Batch:
    """Parse, coerce, and split one chunk."""
    parsed = parse(chunk, plan.names, plan.dialect)
    done = transform(parsed, plan.columns, plan.spec, plan.rules, plan.file)
    repeat = tracker.suspects(done.table)
    if repeat.any():
        main = done.table.filter(pa.array(~repeat))
        suspects = done.table.filter(pa.array(repeat)).append_column(
            LINE, pa.array(done.lines[repeat], pa.int64())
        )
    else:
        main = done.table
        suspects = done.table.slice(0, 0).append_column(LINE, pa.nulls(0, pa.int64()))
    batch = Batch(main, suspects, done.rejects, done.rows_read, done.blank, main_rows=main.num_rows)
    if plan.encode_csv:
        raw = (
            plan.verbatim_copy
            and done.verbatim
            and not repeat.any()
            and not chunk.bad_lines
            and b"\r" not in chunk.data  # COPY insists on one newline style
            and b"\\." not in chunk.data  # a line "\." would end COPY early
            and quotes_open_fields_only(chunk.data, plan.dialect.delimiter, plan.dialect.quote)
        )
        batch.main_csv = chunk.data if raw else to_csv(main, plan.dialect.delimiter)
        batch.suspects_csv = to_csv(suspects)
        batch.extra["verbatim"] = int(raw)
        # only the encoded bytes travel on: queued batches stay small
        batch.main = _empty(batch.main.schema)
        batch.suspects = _empty(batch.suspects.schema)
    return batch


def _empty(schema: pa.Schema) -> pa.Table:
    """No rows, no buffers (schema.empty_table() would import pandas)."""
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)


_DONE = object()


def produce(
    chunks: Iterable[RawChunk], plan: Plan, tracker: KeyTracker, depth: int = 2
) -> Iterator[Batch]:
    """Batches made on a background thread (pyarrow releases the GIL), at most `depth` ahead."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for chunk in chunks:
                item: object = make_batch(chunk, plan, tracker)
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            q.put(exc)

    thread = threading.Thread(target=work, name="csv-parse", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Batch)
            yield item
    finally:
        stop.set()


Callback = Callable[[Batch], None]
