"""The records of one batch on their way to the sinks: Arrow tables, plus single Records.

The consumer's fast path decodes a whole fetch into one Arrow table (columnar.check_many); events
that only the per-message path accepts, and every record of the asyncio variant, arrive one by one
as Records. A sink takes whichever form suits it: Parquet the table, PostgreSQL the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from kafka_ingest.columnar import UTC_MICROS, Checked, check_many, utf8
from kafka_ingest.events import InvalidEvent, Record, parse_record

SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("key", pa.string()),
        ("ts", UTC_MICROS),
        ("kind", pa.string()),
        ("value", pa.string()),
        ("topic", pa.string()),
        ("partition", pa.int32()),
        ("offset", pa.int64()),
    ]
)


@dataclass
class Decoded:
    """A fetch decoded: the rows in a table and in Records, and the poison with its reason."""

    table: pa.Table
    records: list[Record]
    poison: list[tuple[int, str]]


def decode(
    values: list[bytes | None], topics: list[str], partitions: list[int], offsets: list[int]
) -> Decoded:
    """Decode many messages at once; what check_many is not sure of goes through parse_record."""
    checked = check_many(values)
    records: list[Record] = []
    poison: list[tuple[int, str]] = []
    if checked.accepted < len(values):
        for i in checked.rejected_rows():
            try:
                records.append(parse_record(values[i], topics[i], partitions[i], offsets[i]))
            except InvalidEvent as exc:
                poison.append((i, str(exc)))
    return Decoded(table_of(checked, topics, partitions, offsets), records, poison)


def table_of(
    checked: Checked, topics: list[str], partitions: list[int], offsets: list[int]
) -> pa.Table:
    """The rows check_many accepted, as a table in SCHEMA."""
    table = pa.Table.from_arrays(
        [
            pa.array(checked.event_id, pa.string()),
            pa.array(checked.key, pa.string()),
            checked.ts,
            pa.array(checked.kind, pa.string()),
            # check_many validated the UTF-8: the binary -> string view is free.
            utf8(checked.value),
            pa.array(topics, pa.string()),
            pa.array(partitions, pa.int32()),
            pa.array(offsets, pa.int64()),
        ],
        schema=SCHEMA,
    )
    if checked.accepted == len(checked.ok):
        return table
    return table.filter(checked.ok)


def records_table(records: Sequence[Record]) -> pa.Table:
    """Records as a table in SCHEMA."""
    columns = list(zip(*records, strict=True)) if records else [()] * len(SCHEMA)
    arrays = [
        utf8(pa.array(col, type=pa.binary()))
        if field.name == "value"
        else pa.array(col, type=field.type)
        for col, field in zip(columns, SCHEMA, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def partition_mask(table: pa.Table, topic: str, partition: int) -> pa.BooleanArray:
    """The rows of one topic partition."""
    return pc.and_(pc.equal(table["topic"], topic), pc.equal(table["partition"], partition))


class Batch:
    """What has been read since the last commit and not yet written."""

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self._tables: list[pa.Table] = []
        self._records: list[Record] = list(records)

    def __len__(self) -> int:
        return sum(int(t.num_rows) for t in self._tables) + len(self._records)

    def add_table(self, table: pa.Table) -> None:
        """Rows decoded together (a fetch)."""
        if table.num_rows:
            self._tables.append(table)

    def append(self, record: Record) -> None:
        """One row decoded on its own."""
        self._records.append(record)

    def table(self) -> pa.Table:
        """Everything as one table, each partition's rows in offset order."""
        if not self._records:
            if not self._tables:
                return SCHEMA.empty_table()
            # Fetches arrive in offset order per partition: concatenating them keeps it.
            return self._tables[0] if len(self._tables) == 1 else pa.concat_tables(self._tables)
        # Rows that took the per-message path were set aside: put them back in their place.
        table = pa.concat_tables([*self._tables, records_table(self._records)])
        return table.sort_by(
            [("topic", "ascending"), ("partition", "ascending"), ("offset", "ascending")]
        )

    def rows(self) -> list[Record]:
        """Everything as Records (for sinks that write row by row)."""
        rows: list[Record] = []
        for table in self._tables:
            columns = [table[name].to_pylist() for name in SCHEMA.names]
            value_index = SCHEMA.names.index("value")
            columns[value_index] = [v.encode() for v in columns[value_index]]
            rows.extend(Record(*row) for row in zip(*columns, strict=True))
        rows.extend(self._records)
        return rows

    def drop_partitions(self, lost: set[tuple[str, int]]) -> int:
        """Forget the rows of partitions this member no longer owns; return how many."""
        before = len(self)
        kept_tables = []
        for table in self._tables:
            gone = pa.array([False] * table.num_rows, pa.bool_())
            for topic, partition in lost:
                gone = pc.or_(gone, partition_mask(table, topic, partition))
            kept_tables.append(table.filter(pc.invert(gone)))
        self._tables = [t for t in kept_tables if t.num_rows]
        self._records = [r for r in self._records if (r.topic, r.partition) not in lost]
        return before - len(self)
