"""Compare a file's columns with the target table: fail clearly, or evolve the table by flag."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from csv_to_postgres.coercion import clean, coerce
from csv_to_postgres.columns import WIDER, ColumnSpec, Kind, TableSpec
from csv_to_postgres.config import Cleaning, SchemaChange
from csv_to_postgres.inference import infer_kind
from de_common.errors import UserError

CHANGED_SHARE = 0.5  # more bad than good values in the sample: the column changed, not dirty rows


@dataclass
class Drift:
    """How the file differs from the table."""

    new: list[ColumnSpec] = field(default_factory=list)
    missing: list[ColumnSpec] = field(default_factory=list)
    changed: list[tuple[ColumnSpec, Kind]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new or self.missing or self.changed)

    def describe(self) -> str:
        parts = []
        if self.new:
            parts.append("new column(s) " + ", ".join(c.name for c in self.new))
        if self.missing:
            parts.append("missing column(s) " + ", ".join(c.name for c in self.missing))
        if self.changed:
            parts.append(
                "changed column(s) "
                + ", ".join(f"{c.name} ({c.kind} -> {k})" for c, k in self.changed)
            )
        return "; ".join(parts)


def compare(table: TableSpec, sample: pa.Table, rules: Cleaning) -> Drift:
    """New, missing and changed columns of a sample against a table."""
    drift = Drift()
    names = sample.column_names
    for name in names:
        arr = sample.column(name).combine_chunks()
        col = table.column(name)
        if col is None:
            kind, tz = infer_kind(arr, name, rules)
            drift.new.append(ColumnSpec(name, kind, True, False, tz))
            continue
        loose = ColumnSpec(col.name, col.kind, True, False, col.tz)
        result = coerce(arr, loose, rules)
        if result.bad is not None:
            present = len(clean(arr, loose, rules).drop_null())
            if present and result.bad.sum() / present > CHANGED_SHARE:
                drift.changed.append((col, infer_kind(arr, name, rules)[0]))
    drift.missing = [c for c in table.columns if c.name not in names]
    return drift


def resolve(table: TableSpec, drift: Drift, policy: SchemaChange) -> Drift:
    """What to change in the table (policy evolve), or a UserError naming every difference."""
    if not drift:
        return drift
    required = [c for c in drift.missing if not c.nullable or c.primary_key]
    if policy == "fail" or required:
        hint = "" if required else "; rerun with --on-schema-change evolve to adapt the table"
        if required:
            hint = "; required column(s) cannot be missing: " + ", ".join(c.name for c in required)
        raise UserError(f"file does not match table {table.name}: {drift.describe()}{hint}")
    widened: list[tuple[ColumnSpec, Kind]] = []
    for col, seen in drift.changed:
        target: Kind = seen if seen in WIDER[col.kind] else "text"
        if col.primary_key:
            raise UserError(
                f"table {table.name}: key column {col.name} changed type ({col.kind} -> {seen})"
            )
        widened.append((col, target))
    return Drift(drift.new, drift.missing, widened)
