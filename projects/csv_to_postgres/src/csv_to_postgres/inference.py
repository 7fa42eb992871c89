"""Infer a table definition from a sample of rows: the narrowest kind every value fits."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from csv_to_postgres.coercion import clean, coerce
from csv_to_postgres.columns import ColumnSpec, Kind, TableSpec
from csv_to_postgres.config import Cleaning
from csv_to_postgres.number_format import normalize

_CANDIDATES: tuple[Kind, ...] = ("bool", "int64", "float", "date", "timestamp")


def infer_kind(arr: pa.Array, name: str, rules: Cleaning) -> tuple[Kind, bool]:
    """(kind, tz) for one column of raw strings. The candidates are typed, so their cleaning
    applies (trimmed, null tokens); a column that fits none stays text, tokens and all."""
    cleaned = clean(arr, ColumnSpec(name, "int64"), rules)
    values = cleaned.drop_null()
    if len(values) == 0:
        return "text", True
    # Leading zeros (zip codes, ids like 007) are text: a number would lose them.
    if pc.any(pc.match_substring_regex(values, r"^[-+]?0\d")).as_py():
        return "text", True
    digits_only = pc.all(pc.match_substring_regex(values, r"^[-+]?\d+$")).as_py()
    for kind in _CANDIDATES:
        if kind == "bool" and digits_only:
            continue  # 0/1 columns are integers
        if kind == "int64" and not _integer_text(values, name, rules):
            continue  # 1.0 fits an integer column but says the column holds decimals
        if kind == "date" and pc.any(pc.match_substring(values, ":")).as_py():
            continue  # a time of day: timestamp
        tz = True
        if kind == "timestamp":
            has_zone = pc.any(pc.match_substring_regex(values, r"(Z|[+-]\d\d:?\d\d)$")).as_py()
            tz = bool(has_zone)
        result = coerce(values, ColumnSpec(name, kind, tz=tz), rules)
        if result.bad is None or not result.bad.any():
            return kind, tz
    return "text", True


def _integer_text(values: pa.Array, name: str, rules: Cleaning) -> bool:
    text, misused = normalize(values, rules, name)
    if misused is not None and pc.any(misused).as_py():
        return False  # e.g. 2202,72 where ',' is not a thousands separator: not an integer
    text = values if text is None else text
    return bool(pc.all(pc.match_substring_regex(text, r"^[-+]?\d+$")).as_py())


def infer(
    name: str,
    sample: pa.Table,
    rules: Cleaning,
    primary_key: list[str] | None = None,
    schema: str | None = None,
) -> TableSpec:
    """A TableSpec whose columns are typed from the sample; the key columns become NOT NULL."""
    pk = primary_key or []
    cols = []
    for col_name in sample.column_names:
        kind, tz = infer_kind(sample.column(col_name).combine_chunks(), col_name, rules)
        cols.append(ColumnSpec(col_name, kind, col_name not in pk, col_name in pk, tz))
    return TableSpec(name, cols, schema)
