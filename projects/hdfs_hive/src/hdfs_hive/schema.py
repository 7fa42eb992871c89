"""A dataset's columns for Hive, read from one Parquet footer in HDFS (the data is not read)."""

from __future__ import annotations

import struct

import pyarrow as pa
import pyarrow.parquet as pq

from de_common.errors import UserError
from hdfs_hive.identifiers import identifier
from hdfs_hive.webhdfs import Hdfs

MAGIC = b"PAR1"

_SIMPLE: dict[pa.DataType, str] = {
    pa.bool_(): "BOOLEAN",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INT",
    pa.int64(): "BIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.binary(): "BINARY",
    pa.date32(): "DATE",
}


def hive_type(field: pa.Field) -> str:
    """The Hive type of a Parquet column, or UserError for one Hive cannot map."""
    kind = field.type
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP"
    if pa.types.is_decimal(kind):
        return f"DECIMAL({kind.precision},{kind.scale})"
    raise UserError(
        f"column {field.name!r} has type {kind}, which this loader does not map to Hive"
    )


def columns_ddl(schema: pa.Schema) -> str:
    """`name` TYPE, ... with every column name validated (the partition column excluded)."""
    parts = [
        f"{identifier(f.name, 'column name')} {hive_type(f)}" for f in schema if f.name != "dt"
    ]
    if not parts:
        raise UserError("the Parquet files have no columns besides dt")
    return ", ".join(parts)


def remote_schema(hdfs: Hdfs, path: str) -> pa.Schema:
    """The Arrow schema in the footer of a Parquet file in HDFS (two small range reads)."""
    status = hdfs.status(path) or {}
    length = int(str(status.get("length", 0)))
    if length < 12:
        raise UserError(f"{path} is too small to be a Parquet file")
    tail = hdfs.read(path, offset=length - 8, length=8)
    (footer_len,) = struct.unpack("<I", tail[:4])
    if tail[4:] != MAGIC or footer_len + 12 > length:
        raise UserError(f"{path} is not a Parquet file")
    footer = hdfs.read(path, offset=length - 8 - footer_len, length=footer_len)
    # The footer alone, framed as a file: the schema is read from it, the data pages never.
    return pq.read_schema(pa.BufferReader(MAGIC + footer + tail))
