"""Clean and type one column of strings: a vectorised pyarrow fast path, pandas for the dirty rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from csv_to_postgres.columns import ColumnSpec
from csv_to_postgres.config import Cleaning

if TYPE_CHECKING:
    import pandas as pd

BoolMask = npt.NDArray[np.bool_]

INT_TYPES: dict[str, tuple[pa.DataType, int, int]] = {
    "int16": (pa.int16(), -(2**15), 2**15 - 1),
    "int32": (pa.int32(), -(2**31), 2**31 - 1),
    "int64": (pa.int64(), -(2**63), 2**63 - 1),
}


@dataclass
class ColumnResult:
    """A typed column and, if any value failed, which rows did and why."""

    values: pa.Array
    bad: BoolMask | None
    reason: str = ""
    fast: bool = False  # typed by the vectorised path, without a pandas fallback
    verbatim: bool = False  # PostgreSQL reads the raw text as exactly this value


# pyarrow scalars, not Python ones: converting a Python value makes pyarrow import pandas.
_TRUE, _FALSE, _EMPTY = pa.scalar(True), pa.scalar(False), pa.scalar("", pa.string())

# What PostgreSQL's boolean input accepts (case-insensitive).
PG_BOOLEANS = {"t", "true", "y", "yes", "on", "1", "f", "false", "n", "no", "off", "0"}


def clean(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> pa.Array:
    """Cleaning rules, then the null tokens become NULL."""
    if rules.strip:
        arr = pc.utf8_trim_whitespace(arr)
    for rule in rules.regex:
        if rule.column in ("*", col.name):
            arr = pc.replace_substring_regex(arr, pattern=rule.pattern, replacement=rule.replace)
    if col.name in rules.lowercase:
        arr = pc.utf8_lower(arr)
    if rules.null_values:
        nulls = pc.is_in(arr, value_set=pa.array(rules.null_values, pa.string()))
        arr = pc.if_else(nulls, pa.scalar(None, pa.string()), arr)
    return arr


def coerce(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> ColumnResult:
    """Typed values for one column of raw strings."""
    raw = arr
    arr = clean(arr, col, rules)
    if col.kind == "text":
        result = _texts(arr, col)
    elif col.kind in INT_TYPES:
        result = _integers(arr, col, rules)
    elif col.kind in ("float", "numeric"):
        result = _decimals(arr, col, rules)
    elif col.kind == "bool":
        result = _booleans(arr, rules)
    elif col.kind == "date":
        result = _dates(arr, col, rules)
    else:
        result = _timestamps(arr, col, rules)
    if not col.nullable or col.primary_key:
        missing = _mask(pc.is_null(result.values))
        if result.bad is not None:
            missing &= ~result.bad
        if missing.any():
            bad = missing if result.bad is None else (missing | result.bad)
            return ColumnResult(result.values, bad, result.reason or "required value missing")
    result.verbatim = result.fast and _verbatim(raw, arr, col, rules)
    return result


def _verbatim(raw: pa.Array, cleaned: pa.Array, col: ColumnSpec, rules: Cleaning) -> bool:
    """Would COPY (CSV, FORCE_NULL) read the untouched field text as the value we validated?
    Then the original bytes can be streamed as they are, which is what makes append COPY-fast."""
    if col.name in rules.lowercase or any(r.column in ("*", col.name) for r in rules.regex):
        return False
    if col.kind in ("date", "timestamp") and rules.date_formats.get(col.name):
        return False
    if col.kind == "bool":
        tokens = {v.lower() for v in (*rules.true_values, *rules.false_values)}
        if not tokens <= PG_BOOLEANS:
            return False
    # cleaning changed nothing except that empty fields became NULL (as COPY does)
    same = pc.all(pc.equal(pc.fill_null(cleaned, _EMPTY), raw)).as_py()
    return bool(same) if same is not None else True


def _mask(arr: pa.Array | pa.ChunkedArray) -> BoolMask:
    return bool_mask(arr)


def bool_mask(arr: pa.Array | pa.ChunkedArray) -> BoolMask:
    """A pyarrow boolean array as numpy (NULL = False), unpacking the bitmap directly: pyarrow's
    own to_numpy() would import pandas for it."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, _FALSE)
    if len(arr) == 0:
        return np.zeros(0, dtype=bool)
    bits = np.unpackbits(np.frombuffer(arr.buffers()[1], dtype=np.uint8), bitorder="little")
    return bits[arr.offset : arr.offset + len(arr)].astype(bool)


def _texts(arr: pa.Array, col: ColumnSpec) -> ColumnResult:
    nul = _mask(pc.match_substring(arr, "\x00"))  # PostgreSQL text cannot hold NUL
    if nul.any():
        return ColumnResult(arr, nul, "contains a NUL byte")
    if col.length:
        too_long = _mask(pc.greater(pc.utf8_length(arr), pa.scalar(col.length, pa.int32())))
        if too_long.any():
            return ColumnResult(arr, too_long, f"longer than {col.length} characters")
    return ColumnResult(arr, None, fast=True)


def _numbers_text(arr: pa.Array, rules: Cleaning) -> tuple[pa.Array, bool]:
    """Number text without thousands separators, with a '.' decimal point; and whether that
    rewrote anything (then the raw text is not what PostgreSQL should read)."""
    rewritten = False
    if rules.thousands and pc.any(pc.match_substring(arr, rules.thousands)).as_py():
        arr = pc.replace_substring(arr, pattern=rules.thousands, replacement="")
        rewritten = True
    if rules.decimal and rules.decimal != ".":
        arr = pc.replace_substring(arr, pattern=rules.decimal, replacement=".")
        rewritten = True
    return arr, rewritten


def _integers(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> ColumnResult:
    import pandas as pd  # only dirty columns pay for pandas

    typ, lo, hi = INT_TYPES[col.kind]
    text, rewritten = _numbers_text(arr, rules)
    try:
        return ColumnResult(pc.cast(text, typ), None, fast=not rewritten)
    except pa.ArrowInvalid:
        pass
    raw = pd.Series(text.to_pandas(), dtype=object)
    num = pd.to_numeric(raw, errors="coerce")
    ok = num.notna() & (num % 1 == 0) & (num >= lo) & (num <= hi)
    bad = (raw.notna() & ~ok).to_numpy(dtype=bool)
    values = pa.array(num.where(ok).astype("Int64"), type=pa.int64(), from_pandas=True).cast(typ)
    return ColumnResult(values, bad, f"not an integer in {col.kind} range")


def _decimals(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> ColumnResult:
    import pandas as pd  # only dirty columns pay for pandas

    text, rewritten = _numbers_text(arr, rules)
    try:
        floats = pc.cast(text, pa.float64())
        if col.kind == "numeric" and col.precision:
            limit = pa.scalar(10.0 ** (col.precision - (col.scale or 0)), pa.float64())
            too_big = _mask(pc.greater_equal(pc.abs(floats), limit))
            if too_big.any():
                reason = f"out of range for NUMERIC({col.precision}, {col.scale or 0})"
                return ColumnResult(text, too_big, reason)
        return ColumnResult(text if col.kind == "numeric" else floats, None, fast=not rewritten)
    except pa.ArrowInvalid:
        pass
    raw = pd.Series(text.to_pandas(), dtype=object)
    num = pd.to_numeric(raw, errors="coerce")
    if col.kind == "numeric" and col.precision:
        num = num.where(num.abs() < 10.0 ** (col.precision - (col.scale or 0)))
    bad = (raw.notna() & num.isna()).to_numpy(dtype=bool)
    if col.kind == "numeric":  # keep the exact digits; only the bad ones become NULL
        keep = raw.where(~bad)
        return ColumnResult(pa.array(keep, type=pa.string(), from_pandas=True), bad, "not a number")
    return ColumnResult(pa.array(num, type=pa.float64(), from_pandas=True), bad, "not a number")


def _booleans(arr: pa.Array, rules: Cleaning) -> ColumnResult:
    low = pc.utf8_lower(arr)
    is_true = pc.is_in(low, value_set=pa.array([v.lower() for v in rules.true_values]))
    is_false = pc.is_in(low, value_set=pa.array([v.lower() for v in rules.false_values]))
    values = pc.if_else(is_true, _TRUE, pc.if_else(is_false, _FALSE, pa.scalar(None, pa.bool_())))
    bad = _mask(pc.and_(pc.is_valid(arr), pc.is_null(values)))
    if not bad.any():
        return ColumnResult(values, None, fast=True)
    return ColumnResult(values, bad, "not a boolean")


def _parse_datetimes(arr: pa.Array, formats: list[str], utc: bool) -> tuple[pd.Series, BoolMask]:
    import pandas as pd  # only dirty columns pay for pandas

    raw = pd.Series(arr.to_pandas(), dtype=object)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    todo = raw.notna()
    # per-value parsing: pandas' ISO8601 mode applies one offset to a whole mixed column
    for fmt in formats or ["mixed"]:
        if not todo.any():
            break
        # utc=True always: mixed offsets parse; values without an offset are taken as UTC
        out[todo] = pd.to_datetime(raw[todo], format=fmt, errors="coerce", utc=True)
        todo &= out.isna()
    if not utc:
        out = out.dt.tz_localize(None)
    return out, todo.to_numpy(dtype=bool)


def _dates(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> ColumnResult:
    formats = rules.date_formats.get(col.name, [])
    try:
        if not formats:
            return ColumnResult(pc.cast(arr, pa.date32()), None, fast=True)
        parsed = pc.strptime(arr, format=formats[0], unit="s", error_is_null=False)
        return ColumnResult(pc.cast(parsed, pa.date32()), None)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    out, bad = _parse_datetimes(arr, formats, utc=False)
    has_time = (out.notna() & (out != out.dt.normalize())).to_numpy(dtype=bool)
    if has_time.any():  # a date column would silently drop the time of day
        bad = bad | has_time
        out = out.where(~has_time)
    values = pa.array(out.dt.date, type=pa.date32(), from_pandas=True)
    return ColumnResult(values, bad if bad.any() else None, "not a date")


def _timestamps(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> ColumnResult:
    formats = rules.date_formats.get(col.name, [])
    typ = pa.timestamp("us", tz="UTC") if col.tz else pa.timestamp("us")
    if not formats:
        try:
            return ColumnResult(pc.cast(arr, typ), None, fast=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    out, bad = _parse_datetimes(arr, formats, utc=col.tz)
    values = pa.array(out, type=typ, from_pandas=True)
    return ColumnResult(values, bad if bad.any() else None, "not a timestamp")
