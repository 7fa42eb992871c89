"""Hive columns from a Parquet footer; which partitions retention expires."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hdfs_hive.retention import expired
from hdfs_hive.schema import MAGIC, columns_ddl

from de_common.errors import UserError


def test_columns_map_to_hive_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array([1], pa.int64()),
            "n": pa.array([1], pa.int32()),
            "amount": pa.array([1.5]),
            "price": pa.array([Decimal("1.25")], pa.decimal128(10, 2)),
            "name": pa.array(["x"]),
            "at": pa.array([0], pa.timestamp("us", tz="UTC")),
            "day": pa.array([date(2026, 1, 1)]),
            "ok": pa.array([True]),
        }
    )
    pq.write_table(table, tmp_path / "f.parquet")
    raw = (tmp_path / "f.parquet").read_bytes()
    footer_len = int.from_bytes(raw[-8:-4], "little")
    # What schema.remote_schema does with two range reads: the footer alone, framed as a file.
    framed = MAGIC + raw[-8 - footer_len :]
    schema = pq.read_schema(pa.BufferReader(framed))
    assert columns_ddl(schema) == (
        "`id` BIGINT, `n` INT, `amount` DOUBLE, `price` DECIMAL(10,2), `name` STRING, "
        "`at` TIMESTAMP, `day` DATE, `ok` BOOLEAN"
    )


def test_a_hostile_column_name_is_refused() -> None:
    schema = pa.schema([("id", pa.int64()), ("x` STRING) LOCATION '/etc' --", pa.string())])
    with pytest.raises(UserError, match="column name"):
        columns_ddl(schema)


def test_unmappable_types_are_refused() -> None:
    with pytest.raises(UserError, match="tags"):
        columns_ddl(pa.schema([("tags", pa.list_(pa.string()))]))


def test_expired_is_strictly_older_than_the_cutoff() -> None:
    dts = {"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"}
    assert expired(dts, date(2026, 11, 5), 3) == ["2026-11-01"]
    assert expired(dts, date(2026, 11, 5), 0) == sorted(dts)
    assert expired(dts, date(2026, 11, 1), 0) == []
