"""Clean and type one column of strings: a vectorised pyarrow fast path, pandas for the dirty rest."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from csv_to_postgres.columns import ColumnSpec
from csv_to_postgres.config import Cleaning
from csv_to_postgres.number_format import describe, normalize

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


# pyarrow scalars, not Python ones, and made from arrays: converting a Python value (even
# pa.scalar(True)) makes pyarrow import pandas, ~0.2 s that a clean load never needs.
_NO_TEXT, _NO_BOOL = pa.nulls(1, pa.string())[0], pa.nulls(1, pa.bool_())[0]
_TRUE, _FALSE = pc.is_null(pa.nulls(1))[0], pc.is_valid(pa.nulls(1))[0]
# A time of day, then a zone offset: ...03:04Z, ...03:04:05+05:30, ...03:04:05.123+0530, ...-08
_ZONED = r":\d\d(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)$"

# What PostgreSQL's boolean input accepts (case-insensitive).
PG_BOOLEANS = {"t", "true", "y", "yes", "on", "1", "f", "false", "n", "no", "off", "0"}
# What a number column reads as a value (case-insensitive): never a null token there.
NUMBER_WORDS = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


def texts(values: list[str]) -> pa.Array:
    """A string array built from its buffers: pa.array(values) would import pandas."""
    data = [v.encode() for v in values]
    offsets = np.cumsum([0, *map(len, data)], dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(data))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def null_tokens(col: ColumnSpec, rules: Cleaning) -> list[str]:
    """The values that become NULL in a column: its own list when one is configured; else none
    in text, and in a typed column `null_values` except what the type reads as a value (NaN in
    a float or numeric column stays NaN, as PostgreSQL reads it)."""
    if col.name in rules.column_null_values:
        return rules.column_null_values[col.name]
    if col.kind == "text":
        return []
    if col.kind in ("float", "numeric"):
        return [t for t in rules.null_values if t.strip().lower() not in NUMBER_WORDS]
    return rules.null_values


def clean(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> pa.Array:
    """Cleaning rules, then the column's null tokens become NULL. Text is left as written unless
    a rule says otherwise (then this returns `arr` itself); a typed column is trimmed (as
    PostgreSQL's input functions do)."""
    if rules.strip or col.kind != "text":
        arr = pc.utf8_trim_whitespace(arr)
    for rule in rules.regex:
        if rule.column in ("*", col.name):
            arr = pc.replace_substring_regex(arr, pattern=rule.pattern, replacement=rule.replace)
    if col.name in rules.lowercase:
        arr = pc.utf8_lower(arr)
    tokens = null_tokens(col, rules)
    if tokens:
        nulls = pc.is_in(arr, value_set=texts(tokens))
        if pc.any(nulls).as_py():
            arr = pc.if_else(nulls, _NO_TEXT, arr)
    return arr


def coerce(
    arr: pa.Array, col: ColumnSpec, rules: Cleaning, *, nul_free: bool = False
) -> ColumnResult:
    """Typed values for one column of raw strings (`nul_free`: the caller saw no NUL byte in
    any of them)."""
    result = None if col.kind == "text" else _as_written(arr, col, rules)
    if result is None:
        result = _cleaned(arr, col, rules, nul_free)
    if not col.nullable or col.primary_key:
        missing = _mask(pc.is_null(result.values))
        if result.bad is not None:
            missing &= ~result.bad
        if missing.any():
            bad = missing if result.bad is None else (missing | result.bad)
            return ColumnResult(result.values, bad, result.reason or "required value missing")
    return result


def _cleaned(arr: pa.Array, col: ColumnSpec, rules: Cleaning, nul_free: bool) -> ColumnResult:
    """The general path: clean, then type by kind (pandas finds the bad values and why)."""
    raw = arr
    arr = clean(arr, col, rules)
    if col.kind == "text":
        result = _texts(arr, col, nul_free)
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
    result.verbatim = result.fast and _verbatim(raw, arr, col, rules)
    return result


def _rewrites(col: ColumnSpec, rules: Cleaning) -> bool:
    """A rule changes this column's text, or reads it in its own format."""
    if col.name in rules.lowercase or any(r.column in ("*", col.name) for r in rules.regex):
        return True
    return col.kind in ("date", "timestamp") and bool(rules.date_formats.get(col.name))


def _arrow_type(col: ColumnSpec) -> pa.DataType:
    if col.kind in INT_TYPES:
        return INT_TYPES[col.kind][0]
    if col.kind == "timestamp":
        return pa.timestamp("us", tz="UTC") if col.tz else pa.timestamp("us")
    types = {"float": pa.float64(), "numeric": pa.float64(), "bool": pa.bool_()}
    return types.get(col.kind, pa.date32())


@functools.lru_cache(maxsize=256)
def _a_token_is_a_value(tokens: tuple[str, ...], typ: pa.DataType) -> bool:
    for token in tokens:
        try:
            pc.cast(texts([token]), typ)
            return True
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return False


def _as_written(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> ColumnResult | None:
    """The typed column in one cast when every raw value already is its value: no whitespace,
    no token, no separator to read around. PostgreSQL reads the same text as the same value,
    so the raw bytes can go to COPY. None when anything needs the general path."""
    if _rewrites(col, rules):
        return None
    if col.kind in ("float", "numeric") and rules.number_format(col.name)[1] != ".":
        return None  # with a decimal comma, 1.5 must be refused, not read
    if col.kind == "bool" and not _cast_booleans_agree(rules):
        return None
    typ = _arrow_type(col)
    if _a_token_is_a_value(tuple(null_tokens(col, rules)), typ):
        return None  # a null token would cast as a value
    try:
        values = pc.cast(arr, typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if col.kind != "timestamp" or not col.tz:
            return None
        try:  # some values with a zone offset, some without (which mean UTC)
            values = _zoned_or_utc(arr, typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    if col.kind == "numeric":
        if col.precision and _too_big(values, col).any():
            return None
        values = arr  # the exact digits
    return ColumnResult(values, None, fast=True, verbatim=True)


def _cast_booleans_agree(rules: Cleaning) -> bool:
    """The cast reads true/false/1/0 (any case): our tokens must mean the same."""
    trues = {v.lower() for v in rules.true_values}
    falses = {v.lower() for v in rules.false_values}
    return {"true", "1"} <= trues and {"false", "0"} <= falses


def _too_big(floats: pa.Array, col: ColumnSpec) -> BoolMask:
    limit = 10.0 ** ((col.precision or 0) - (col.scale or 0))
    with np.errstate(invalid="ignore"):  # NaN is never too big
        too_big: BoolMask = _present(floats) & (np.abs(values_view(floats, np.float64)) >= limit)
    return too_big


def values_view(arr: pa.Array, dtype: type[np.number[Any]]) -> npt.NDArray[Any]:
    """The values buffer of a fixed-width array as numpy, without a copy (what a NULL slot holds
    is arbitrary: combine with its validity). to_numpy() would import pandas."""
    return np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset : arr.offset + len(arr)]


def _present(arr: pa.Array) -> BoolMask:
    return bool_mask(pc.is_valid(arr))


def _verbatim(raw: pa.Array, cleaned: pa.Array, col: ColumnSpec, rules: Cleaning) -> bool:
    """Would COPY (CSV) read the untouched field text as the value we validated? Then the
    original bytes can be streamed as they are, which is what makes append COPY-fast."""
    if _rewrites(col, rules):
        return False
    if col.kind == "bool":
        tokens = {v.lower() for v in (*rules.true_values, *rules.false_values)}
        if not tokens <= PG_BOOLEANS:
            return False
    if cleaned is raw:
        return True
    # Cleaning changed nothing: the same NULLs (unquoted empty fields, which COPY reads as NULL
    # too; cleaning only ever adds NULLs) and the same text everywhere else.
    if cleaned.null_count != raw.null_count:
        return False
    same = pc.all(pc.equal(cleaned, raw)).as_py()
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


def _texts(arr: pa.Array, col: ColumnSpec, nul_free: bool) -> ColumnResult:
    if not nul_free:
        nul = _mask(pc.match_substring(arr, "\x00"))  # PostgreSQL text cannot hold NUL
        if nul.any():
            return ColumnResult(arr, nul, "contains a NUL byte")
    if col.length:
        lengths = pc.utf8_length(arr)
        too_long = _present(lengths) & (values_view(lengths, np.int32) > col.length)
        if too_long.any():
            return ColumnResult(arr, too_long, f"longer than {col.length} characters")
    return ColumnResult(arr, None, fast=True)


@dataclass
class _NumberText:
    """A number column's text as a plain parser reads it."""

    text: pa.Array
    misused: BoolMask | None  # a separator where the column's format does not allow one
    rewritten: bool  # separators were removed or replaced: the raw text is not what COPY reads

    def reason(self, base: str, rules: Cleaning, column: str) -> str:
        return f"{base} ({describe(rules, column)})" if self.rewritten else base

    def bad(self, unparsed: BoolMask) -> BoolMask:
        return unparsed if self.misused is None else (unparsed | self.misused)


def _number_text(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> _NumberText:
    text, misused = normalize(arr, rules, col.name)
    if text is None:
        return _NumberText(arr, None, False)
    mask = _mask(misused) if misused is not None else None
    if mask is None or not mask.any():
        return _NumberText(text, None, True)
    # the misused values must not parse as anything: they are rejected with the format's reason
    return _NumberText(pc.if_else(pa.array(mask), _NO_TEXT, text), mask, True)


def _integers(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> ColumnResult:
    import pandas as pd  # only dirty columns pay for pandas

    typ, lo, hi = INT_TYPES[col.kind]
    num_text = _number_text(arr, col, rules)
    if num_text.misused is None:
        try:
            return ColumnResult(pc.cast(num_text.text, typ), None, fast=not num_text.rewritten)
        except pa.ArrowInvalid:
            pass
    raw = pd.Series(num_text.text.to_pandas(), dtype=object)
    num = pd.to_numeric(raw, errors="coerce")
    ok = num.notna() & (num % 1 == 0) & (num >= lo) & (num <= hi)
    bad = num_text.bad((raw.notna() & ~ok).to_numpy(dtype=bool))
    values = pa.array(num.where(ok).astype("Int64"), type=pa.int64(), from_pandas=True).cast(typ)
    reason = num_text.reason(f"not an integer in {col.kind} range", rules, col.name)
    return ColumnResult(values, bad, reason)


def _decimals(arr: pa.Array, col: ColumnSpec, rules: Cleaning) -> ColumnResult:
    import pandas as pd  # only dirty columns pay for pandas

    num_text = _number_text(arr, col, rules)
    text = num_text.text
    reason = num_text.reason("not a number", rules, col.name)
    if num_text.misused is None:
        try:
            floats = pc.cast(text, pa.float64())
        except pa.ArrowInvalid:
            floats = None
        if floats is not None:
            if col.kind == "numeric" and col.precision:
                too_big = _too_big(floats, col)
                if too_big.any():
                    reason = f"out of range for NUMERIC({col.precision}, {col.scale or 0})"
                    return ColumnResult(text, too_big, reason)
            fast = not num_text.rewritten
            return ColumnResult(text if col.kind == "numeric" else floats, None, fast=fast)
    raw = pd.Series(text.to_pandas(), dtype=object)
    num = pd.to_numeric(raw, errors="coerce")
    if col.kind == "numeric" and col.precision:
        num = num.where(num.abs() < 10.0 ** (col.precision - (col.scale or 0)))
    bad = num_text.bad((raw.notna() & num.isna()).to_numpy(dtype=bool))
    if col.kind == "numeric":  # keep the exact digits; only the bad ones become NULL
        keep = raw.where(~bad)
        return ColumnResult(pa.array(keep, type=pa.string(), from_pandas=True), bad, reason)
    values = pa.array(num.where(~bad), type=pa.float64(), from_pandas=True)
    return ColumnResult(values, bad, reason)


def _booleans(arr: pa.Array, rules: Cleaning) -> ColumnResult:
    low = pc.utf8_lower(arr)
    is_true = pc.is_in(low, value_set=texts([v.lower() for v in rules.true_values]))
    is_false = pc.is_in(low, value_set=texts([v.lower() for v in rules.false_values]))
    values = pc.if_else(is_true, _TRUE, pc.if_else(is_false, _FALSE, _NO_BOOL))
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
        if col.tz:
            try:  # some values with a zone offset, some without (which mean UTC)
                return ColumnResult(_zoned_or_utc(arr, typ), None, fast=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
    out, bad = _parse_datetimes(arr, formats, utc=col.tz)
    values = pa.array(out, type=typ, from_pandas=True)
    return ColumnResult(values, bad if bad.any() else None, "not a timestamp")


def _zoned_or_utc(arr: pa.Array, typ: pa.DataType) -> pa.Array:
    """Values with an offset cast as they say, the others as UTC (what COPY does in the load's
    UTC session); raises when either part does not parse."""
    zoned = pc.fill_null(pc.match_substring_regex(arr, _ZONED), _FALSE)
    with_zone = pc.cast(pc.if_else(zoned, arr, _NO_TEXT), typ)
    naive = pc.cast(pc.if_else(zoned, _NO_TEXT, arr), pa.timestamp("us")).cast(typ)
    return pc.if_else(zoned, with_zone, naive)
