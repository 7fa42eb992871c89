"""How a batch becomes a file: JSON lines, or Parquet with types from the endpoint's JSON Schema."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from api_fetcher.spec import Endpoint
from de_common.durable import fsync_path

EXTRA = "_extra"
_SCALARS = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "string": pa.string(),
}


class FileFormat(Protocol):
    suffix: str

    def write(self, path: Path, rows: Sequence[dict[str, Any]]) -> None:
        """Write the rows to `path` and fsync it."""
        ...


class JsonLines:
    suffix = ".jsonl"

    def write(self, path: Path, rows: Sequence[dict[str, Any]]) -> None:
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            out.flush()
            os.fsync(out.fileno())


def arrow_schema(record_schema: dict[str, Any] | None) -> pa.Schema | None:
    """Columns from the schema's properties: scalars typed, objects, arrays and unions as JSON
    text, anything else in `_extra` (JSON text); None without declared properties."""
    props = (record_schema or {}).get("properties")
    if not isinstance(props, dict) or not props:
        return None
    fields = []
    for name, prop in props.items():
        kind = prop.get("type") if isinstance(prop, dict) else None
        if isinstance(kind, list):  # ["string", "null"] is a nullable string
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if len(kinds) == 1 else None
        fields.append(
            pa.field(
                name, _SCALARS.get(kind, pa.string()) if isinstance(kind, str) else pa.string()
            )
        )
    fields.append(pa.field(EXTRA, pa.string()))
    return pa.schema(fields)


class Parquet:
    suffix = ".parquet"

    def __init__(self, endpoint: Endpoint) -> None:
        self.schema = arrow_schema(endpoint.record_schema)

    def _typed(self, rows: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
        names = set(schema.names) - {EXTRA}
        text = {f.name for f in schema if pa.types.is_string(f.type)}
        columns: dict[str, list[Any]] = {name: [] for name in schema.names}
        for row in rows:
            for name in names:
                value = row.get(name)
                if name in text and value is not None and not isinstance(value, str):
                    value = json.dumps(value, separators=(",", ":"))
                columns[name].append(value)
            extra = {k: v for k, v in row.items() if k not in names}
            columns[EXTRA].append(json.dumps(extra, separators=(",", ":")) if extra else None)
        return pa.table(columns, schema=schema)

    def table(self, rows: Sequence[dict[str, Any]]) -> pa.Table:
        if self.schema is not None:
            return self._typed(rows, self.schema)
        try:
            return pa.Table.from_pylist(list(rows))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # Mixed types in a column: keep every value, as JSON text.
            names = sorted({k for row in rows for k in row})
            return self._typed(
                rows,
                pa.schema(
                    [pa.field(n, pa.string()) for n in names] + [pa.field(EXTRA, pa.string())]
                ),
            )

    def write(self, path: Path, rows: Sequence[dict[str, Any]]) -> None:
        pq.write_table(self.table(rows), path, compression="zstd")
        fsync_path(path)
