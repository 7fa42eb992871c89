"""Number text: which decimal mark a column uses, and rewriting it for parsing without ever
rescaling a value (a thousands separator counts only between groups of three digits)."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from csv_to_postgres.config import Cleaning

_OTHER = {".": ",", ",": "."}


def _evidence(values: pa.Array, mark: str) -> int:
    """How many values can only be read with `mark` as the decimal mark."""
    d, t = re.escape(mark), re.escape(_OTHER[mark])
    patterns = (
        rf"^[+-]?\d{{1,3}}({t}\d{{3}})+{d}\d*$",  # 1.234,56: both, the decimal mark last
        rf"^[+-]?\d*{d}(\d{{1,2}}|\d{{4,}})$",  # 2202,72 / ,5 / 0,1234: not a group of three
        rf"^[+-]?(0|\d{{4,}}){d}\d+$",  # 0,125 / 2202,720: no thousands group starts so
        rf"^[+-]?\d{{1,3}}({t}\d{{3}}){{2,}}$",  # 1.234.567: the other mark groups thousands
    )
    hits = pc.match_substring_regex(values, "|".join(f"({p})" for p in patterns))
    return int(pc.sum(pc.cast(hits, pa.int64())).as_py() or 0)


def detect_decimal(values: pa.Array) -> str | None:
    """',' or '.' when the sample says which (the majority of the values that decide), else None."""
    values = pc.utf8_trim_whitespace(values)
    # only numbers with a separator decide (one pass; most columns have none)
    numeric = pc.match_substring_regex(values, r"^[+-]?(\d+[.,][\d.,]*|[.,]\d+)$")
    values = values.filter(numeric)
    if len(values) == 0:
        return None
    comma, point = _evidence(values, ","), _evidence(values, ".")
    if comma == point:
        return None
    return "," if comma > point else "."


def resolve(rules: Cleaning, sample: pa.Table, delimiter: str) -> Cleaning:
    """The rules with a decimal mark for every column of the sample: configured (column, then
    file), else detected from the column's values, else ',' for a ';'-delimited file, else '.'."""
    fallback = "," if delimiter == ";" else "."
    marks: dict[str, str] = {}
    for name in sample.column_names:
        if name in rules.column_decimal:
            continue
        if rules.decimal:
            marks[name] = rules.decimal
            continue
        marks[name] = detect_decimal(sample.column(name).combine_chunks()) or fallback
    if not marks:
        return rules
    return rules.model_copy(update={"column_decimal": {**marks, **rules.column_decimal}})


def describe(rules: Cleaning, column: str) -> str:
    """How a column's numbers must be written, for a reject's reason."""
    thousands, mark = rules.number_format(column)
    grouping = f", thousands {thousands!r} only between groups of three digits" if thousands else ""
    return f"decimal mark {mark!r}{grouping}"


def normalize(arr: pa.Array, rules: Cleaning, column: str) -> tuple[pa.Array, pa.Array | None]:
    """(text a plain parser reads, or None when nothing needed rewriting; which values misuse a
    separator). A separator where the format does not allow it is never guessed around: the
    caller rejects the value with the reason."""
    thousands, mark = rules.number_format(column)
    has_t = bool(thousands) and bool(pc.any(pc.match_substring(arr, thousands)).as_py())
    # with a decimal comma a '.' must be looked at too: it is never a decimal point there
    has_d = mark != "." and bool(pc.any(pc.match_substring_regex(arr, r"[.,]")).as_py())
    if not has_t and not has_d:
        return None, None
    bad: pa.Array | None = None
    if has_t:
        t, d = re.escape(thousands), re.escape(mark)
        grouped = pc.match_substring_regex(arr, rf"^[+-]?\d{{1,3}}({t}\d{{3}})+({d}\d*)?$")
        stripped = pc.replace_substring(arr, pattern=thousands, replacement="")
        arr = pc.if_else(grouped, stripped, arr)
        bad = pc.match_substring(arr, thousands)  # what is left is not a grouping
    if mark != ".":
        # a '.' left over is not a grouping (those went above): not a number in this format
        stray = pc.match_substring(arr, ".")
        bad = stray if bad is None else pc.or_(bad, stray)
        arr = pc.replace_substring(arr, pattern=mark, replacement=".", max_replacements=1)
        extra = pc.match_substring(arr, mark)  # a second decimal mark
        bad = pc.or_(bad, extra)
    return arr, bad
