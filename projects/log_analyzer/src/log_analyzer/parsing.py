"""Turning a block of lines into a typed Arrow table of requests, vectorised, plus its rejects."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from log_analyzer.blocks import PREVIEW, Block, Reject
from log_analyzer.formats import LogFormat, column_mapping

SCHEMA = pa.schema(
    [
        ("ts", pa.int64()),  # epoch seconds, UTC
        ("ip", pa.large_string()),
        ("method", pa.large_string()),
        ("path", pa.large_string()),
        ("protocol", pa.large_string()),
        ("status", pa.int16()),
        ("bytes", pa.int64()),
        ("referer", pa.large_string()),
        ("ua", pa.large_string()),
        ("vhost", pa.large_string()),
        ("duration_ms", pa.float64()),
    ]
)
_STRINGS = ("ip", "method", "path", "protocol", "referer", "ua", "vhost")
_REQUEST = r"^(?P<method>[A-Za-z]+) (?P<path>\S+)(?: (?P<protocol>[^ ]+))?$"
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_CLF_TIME = "%d/%b/%Y:%H:%M:%S %z"


@dataclass
class ParseOptions:
    """What the parser needs besides the lines."""

    fmt: LogFormat
    csv_header: list[str] | None = None
    column_overrides: dict[str, str] = field(default_factory=dict)
    strip_query: bool = True
    max_line: int = 1 << 20


@dataclass
class Parsed:
    """The typed rows of one block, its rejects and how many lines needed latin-1."""

    table: pa.Table
    rejects: list[Reject]
    latin1_lines: int = 0
    fallback_lines: int = 0  # lines the fast split set aside for the format's regex


@dataclass
class Lines:
    """A block's lines (each with its newline): the bytes, where each line starts (plus the end),
    and the lines that are not valid UTF-8, decoded as latin-1 and re-encoded."""

    data: bytes
    offsets: np.ndarray
    latin1: dict[int, bytes]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def texts(self, idx: np.ndarray) -> list[bytes]:
        """The given lines, as UTF-8."""
        fixed, data = self.latin1, self.data
        starts, ends = self.offsets[idx].tolist(), self.offsets[idx + 1].tolist()
        bounds = zip(idx.tolist(), starts, ends, strict=True)
        return [fixed[i] if i in fixed else data[a:b] for i, a, b in bounds]

    def strings(self, idx: np.ndarray) -> pa.LargeStringArray:
        """The given lines as a string array (copied)."""
        return pa.array(self.texts(idx), pa.large_string())

    def array(self) -> pa.LargeStringArray:
        """Every line as one string array, without copying unless a line needed latin-1."""
        data, offsets = self.data, self.offsets
        if self.latin1:
            data = _splice(data, offsets, self.latin1)
            offsets = np.concatenate(([0], np.cumsum(self.lengths())))
        return pa.LargeStringArray.from_buffers(
            len(self), pa.py_buffer(offsets), pa.py_buffer(data), null_count=0
        )

    def lengths(self) -> np.ndarray:
        """Bytes per line, as UTF-8."""
        out = np.diff(self.offsets)
        for i, fixed in self.latin1.items():
            out[i] = len(fixed)
        return out


def decode_block(data: bytes) -> Lines:
    """The block's lines; those that are not valid UTF-8 decoded as latin-1.

    Only lines with a byte above 0x7F are checked one by one, and only the invalid ones are
    re-encoded (on their own: the block itself is not copied).
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    bad = [] if data.isascii() else _invalid_utf8_lines(data, buf, ends)
    latin1 = {i: data[offsets[i] : offsets[i + 1]].decode("latin-1").encode() for i in bad}
    return Lines(data, offsets, latin1)


def _invalid_utf8_lines(data: bytes, buf: np.ndarray, ends: np.ndarray) -> list[int]:
    """Indices of the (newline-ended) lines that are not valid UTF-8: the lines with a byte above
    0x7F, each then decoded. Those bytes are found vectorised in two steps, as they are rare: which
    4 KiB chunks hold one (their 64-bit words OR-ed together), then where in those chunks."""
    whole = len(buf) // _CHUNK * _CHUNK
    words = buf[:whole].view(np.uint64).reshape(-1, _CHUNK // 8)
    hot = np.flatnonzero(np.bitwise_or.reduce(words, axis=1) & np.uint64(0x8080808080808080))
    rows, cols = np.nonzero(buf[:whole].reshape(-1, _CHUNK)[hot] >= 0x80)
    high = np.concatenate((hot[rows] * _CHUNK + cols, np.flatnonzero(buf[whole:] >= 0x80) + whole))
    candidates = np.unique(np.searchsorted(ends, high))
    bad = []
    for i in candidates[candidates < len(ends)].tolist():  # bytes after the last newline: no line
        try:
            data[int(ends[i - 1]) + 1 if i else 0 : int(ends[i])].decode("utf-8")
        except UnicodeDecodeError:
            bad.append(i)
    return bad


_CHUNK = 4096


def _why(line: bytes, fmt: LogFormat) -> str:
    text = line.rstrip(b"\r\n")
    if not text.strip():
        return "empty line"
    if _CONTROL.search(text):
        return "binary data"
    return f"does not match the {fmt.name} format"


def parse_block(block: Block, opts: ParseOptions) -> Parsed:
    """Parse the block's lines into SCHEMA rows; every line ends up a row or a reject."""
    rejects = list(block.rejects)
    if not block.data:
        return Parsed(SCHEMA.empty_table(), rejects)
    lines = decode_block(block.data)
    n = len(lines)
    aside = np.empty(0, dtype=np.int64)  # lines parsed after the others (by the regex)
    if opts.fmt.name in FAST_COLUMNS:
        fields, matched, aside = _fields_mixed(lines, opts.fmt)
    elif opts.fmt.kind == "regex":
        fields, matched = _fields_regex(lines.array(), opts.fmt)
    elif opts.fmt.kind == "csv":
        fields, matched = _fields_csv(lines.array(), opts)
    else:
        fields, matched = _fields_jsonl(lines.array(), opts)
    # row -> line: the lines in order, but those set aside come after the others
    row_line = np.arange(n, dtype=np.int64)
    reordered = 0 < len(aside) < n
    if reordered:
        row_line = np.concatenate((np.delete(row_line, aside), aside))
    matched_np = np.asarray(matched.to_numpy(zero_copy_only=False), dtype=bool)
    # line -> why it was rejected; "" for a line that did not match (why: from its text, below)
    reasons: dict[int, str] = dict.fromkeys(row_line[~matched_np].tolist(), "")
    for idx in np.flatnonzero(lines.lengths() > opts.max_line).tolist():
        reasons[idx] = f"line longer than {opts.max_line} bytes"
    kept = np.ones(n, dtype=bool)  # lines still in the running, by line
    kept[list(reasons)] = False
    if reordered or reasons:  # one gather: the matched rows, back in line order
        row_of = np.empty(n, dtype=np.int64)
        row_of[row_line] = np.arange(n)
        rows = pa.array(row_of[kept])
        fields = {name: pc.take(col, rows) for name, col in fields.items()}
    kept_lines = np.flatnonzero(kept)
    table, bad = _typed(fields, opts, len(kept_lines))
    if bad:
        for row, why in bad:
            reasons.setdefault(int(kept_lines[row]), why)
        good = np.ones(len(kept_lines), dtype=bool)
        good[[row for row, _ in bad]] = False
        table = table.filter(pa.array(good))
    order = np.array(sorted(reasons), dtype=np.int64)
    for idx, text in zip(order.tolist(), lines.texts(order), strict=True):
        why = reasons[idx]
        if not why:
            why = _why(text, opts.fmt) if opts.fmt.kind == "regex" else _why_other(text)
        rejects.append(Reject(block.first_line + idx, why, text[:PREVIEW]))
    return Parsed(table, rejects, len(lines.latin1), len(aside))


_CLF = ("ip", "ident", "user", "t1", "t2", "request", "status", "bytes")
FAST_COLUMNS: dict[str, tuple[str, ...]] = {
    "common": _CLF,
    "common_rt": (*_CLF, "duration"),
    "combined": (*_CLF, "referer", "ua"),
    "combined_rt": (*_CLF, "referer", "ua", "duration"),
    "vhost_combined": ("vhost", *_CLF, "referer", "ua"),
    "vhost_combined_rt": ("vhost", *_CLF, "referer", "ua", "duration"),
}


MIN_FAST_LINES = 256  # below this many lines the regex is as quick as the split


def _fields_mixed(lines: Lines, fmt: LogFormat) -> tuple[dict[str, pa.Array], pa.Array, np.ndarray]:
    """The fast split for the lines it can take, the format's regex for exactly the others.

    Lines the split cannot take as they are (a CR inside the line, escaped quotes, invalid UTF-8)
    are found first and set aside; the split then reports the rows it refuses (unbalanced quotes,
    wrong width, binary) with their row numbers, and those lines are set aside too. Only the
    set-aside lines go through the regex, which also names why each bad one is bad. Returns the
    fields, which rows matched, and the set-aside lines: the rows are the other lines in order,
    then those (in that order).
    """
    n, data, offsets = len(lines), lines.data, lines.offsets
    odd = _odd_lines(data, offsets)
    if lines.latin1:
        odd = np.union1d(odd, np.fromiter(lines.latin1, dtype=np.int64))
    split = None
    if n - len(odd) >= MIN_FAST_LINES:
        starts = offsets  # where each line the split reads starts
        if len(odd):
            starts = np.concatenate(([0], np.cumsum(np.delete(np.diff(offsets), odd))))
        split = _fields_fast(_drop_lines(data, offsets, odd), starts, fmt)
    if split is None:  # too few lines to be worth it, or rows the split did not account for
        return (*_fields_regex(lines.array(), fmt), np.arange(n, dtype=np.int64))
    fields, ok, refused = split
    if not len(odd) and not len(refused):
        return fields, ok, odd
    fast_lines = np.delete(np.arange(n, dtype=np.int64), odd)
    aside = np.union1d(odd, fast_lines[refused])
    # every built-in web format has a [time]: a line without ']' cannot match, no need to ask RE2
    can_match = np.fromiter((b"]" in t for t in lines.texts(aside)), dtype=bool, count=len(aside))
    aside = np.concatenate((aside[can_match], aside[~can_match]))
    slow, slow_ok = _fields_regex(lines.strings(aside[: can_match.sum()]), fmt)
    junk = len(aside) - len(slow_ok)
    merged = {
        name: pa.concat_arrays([col, pc.cast(slow[name], col.type), pa.nulls(junk, col.type)])
        for name, col in fields.items()
    }
    return merged, pa.concat_arrays([ok, slow_ok, pa.array(np.zeros(junk, dtype=bool))]), aside


def _odd_lines(data: bytes, offsets: np.ndarray) -> np.ndarray:
    """Indices of the lines the split would misread: a CR inside a line (a row break to Arrow's
    reader; a CRLF ending is fine) or an escaped quote (the reader does not unescape)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    last = len(buf) - 1
    cr = _find_all(data, b"\r")
    slash = _find_all(data, b"\\")
    hits = np.concatenate(
        (cr[buf[np.minimum(cr + 1, last)] != 10], slash[buf[np.minimum(slash + 1, last)] == 34])
    )
    if not len(hits):
        return hits
    return np.unique(np.searchsorted(offsets, hits, side="right") - 1)


def _find_all(data: bytes, byte: bytes, few: int = 256) -> np.ndarray:
    """Offsets of `byte`: memchr-speed searches while there are few, one vectorised pass if not."""
    out: list[int] = []
    pos = data.find(byte)
    while pos >= 0:
        if len(out) == few:
            return np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord(byte))
        out.append(pos)
        pos = data.find(byte, pos + 1)
    return np.asarray(out, dtype=np.int64)


def _drop_lines(data: bytes, offsets: np.ndarray, drop: np.ndarray) -> bytes:
    """The block without the given lines."""
    return _splice(data, offsets, dict.fromkeys(drop.tolist(), b"")) if len(drop) else data


def _splice(data: bytes, offsets: np.ndarray, lines: dict[int, bytes]) -> bytes:
    """`data` with the given lines (index -> new text, newline included) replaced."""
    pieces: list[bytes | memoryview] = []
    view, prev = memoryview(data), 0
    for i in sorted(lines):
        pieces += [view[prev : int(offsets[i])], lines[i]]
        prev = int(offsets[i + 1])
    pieces.append(view[prev:])
    return b"".join(pieces)


def _fields_fast(
    data: bytes, starts: np.ndarray, fmt: LogFormat
) -> tuple[dict[str, pa.Array], pa.Array, np.ndarray] | None:
    """The built-in formats split as space-delimited, quoted CSV by Arrow's C++ reader.

    Several times faster than the regex. Rows the reader refuses (wrong width, a quote left open,
    which swallows the lines up to the next quote) are skipped; their lines, and those of any
    accepted row that spans lines, are returned for the regex (`_place_rows`). The fields and the
    checks cover the other lines, in order. None = the rows could not be placed (the caller uses
    the regex for the whole block).
    """
    names = FAST_COLUMNS[fmt.name]
    refused: list[tuple[int | None, str]] = []

    def set_aside(row: pacsv.InvalidRow) -> str:
        refused.append((row.number, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(
                column_names=list(names), use_threads=False, block_size=max(1 << 20, len(data) + 1)
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=" ",
                quote_char='"',
                escape_char=False,
                double_quote=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
                invalid_row_handler=set_aside,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    placed = _place_rows(table, refused, data, starts)
    if placed is None:
        return None
    aside, keep = placed
    if keep is not None:
        table = table.filter(keep)
    cols = {name: table[name].combine_chunks() for name in names}
    t1, t2 = cols.pop("t1"), cols.pop("t2")
    del cols["ident"], cols["user"]  # never used
    # plain string kernels, several times cheaper than a regex per column
    ok = pc.and_(pc.starts_with(t1, "["), pc.invert(pc.match_substring(t1, "]")))
    ok = pc.and_(ok, pc.and_(pc.ends_with(t2, "]"), pc.equal(pc.count_substring(t2, "]"), 1)))
    ok = pc.and_(ok, pc.and_(pc.equal(pc.utf8_length(cols["status"]), 3), _digits(cols["status"])))
    ok = pc.and_(ok, pc.or_(_digits(cols["bytes"]), pc.equal(cols["bytes"], "-")))
    ok = pc.and_(ok, pc.not_equal(cols["ip"], ""))
    if "duration" in cols:
        ok = pc.and_(ok, pc.match_substring_regex(cols["duration"], r"^(\d+(\.\d+)?|-)$"))
    cols["time"] = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(t1, 1),
        pc.utf8_slice_codeunits(t2, 0, -1),
        pa.scalar(" ", pa.large_string()),
    )
    return cols, ok, aside


def _place_rows(
    table: pa.Table, refused: list[tuple[int | None, str]], data: bytes, starts: np.ndarray
) -> tuple[np.ndarray, pa.Array | None] | None:
    """Which lines the reader's rows came from (`starts`: where each line starts, plus the end).

    A row is one line unless a quote left open swallowed the lines up to the next quote. Refused
    rows come with their row number and text, which says how many lines they took (checked
    against the bytes of those lines). If the rows still do not add up to the lines, an accepted
    row swallowed some too (an open quote that happened to leave the right width): found by the
    newlines in its fields. Returns the lines to set aside (sorted) and which accepted rows to
    keep (None: all); None when the rows cannot be placed.
    """
    n_lines, n_rows = len(starts) - 1, table.num_rows + len(refused)
    if not refused and n_rows == n_lines and not _open_at_end(table):
        return np.empty(0, dtype=np.int64), None
    numbers = [number for number, _ in refused]
    if any(number is None or not 0 < number <= n_rows for number in numbers):
        return None
    refused_rows = np.asarray(numbers, dtype=np.int64) - 1
    spans = np.ones(n_rows, dtype=np.int64)
    spans[refused_rows] = [text.count("\n") + 1 for _, text in refused]
    accepted = np.delete(np.arange(n_rows), refused_rows)
    # the block's last line may end inside a quote left open: the reader then accepts it, its last
    # field taking the final newline
    open_at_end = len(accepted) > 0 and accepted[-1] == n_rows - 1 and _open_at_end(table)
    swallowing = accepted[-1:] if open_at_end else np.empty(0, dtype=np.int64)
    if spans.sum() != n_lines:
        newlines = np.zeros(len(accepted), dtype=np.int64)
        for column in table.columns:
            newlines += pc.count_substring(column, "\n").to_numpy()
        if open_at_end:
            newlines[-1] -= 1  # the final newline ends the block, it starts no line
        spans[accepted] += newlines
        if spans.sum() != n_lines:
            return None
        swallowing = np.union1d(swallowing, accepted[newlines > 0])
    keep = pa.array(~np.isin(accepted, swallowing)) if len(swallowing) else None
    first = np.cumsum(spans) - spans  # each row's first line
    begin = starts[first[refused_rows]].tolist()
    end = (starts[first[refused_rows] + spans[refused_rows]] - 1).tolist()
    for a, b, (_, text) in zip(begin, end, refused, strict=True):
        if data[a:b].removesuffix(b"\r") != text.encode():  # a CRLF ending is not in the text
            return None
    rows = np.union1d(refused_rows, swallowing)
    # every line of those rows: each row's first line, then the next ones while its span lasts
    lines = np.repeat(first[rows], spans[rows])
    lines += np.arange(len(lines)) - np.repeat(np.cumsum(spans[rows]) - spans[rows], spans[rows])
    return lines, keep


def _open_at_end(table: pa.Table) -> bool:
    """The last row's last field ran into the block's final newline: a quote left open."""
    return table.num_rows > 0 and str(table.column(table.num_columns - 1)[-1]).endswith("\n")


def _digits(arr: pa.Array) -> pa.Array:
    """ASCII digits only, and at least one (utf8_is_digit would also accept other scripts)."""
    return pc.fill_null(
        pc.and_(pc.ascii_is_decimal(arr), pc.greater(pc.utf8_length(arr), 0)), False
    )


def _why_other(line: bytes) -> str:
    text = line.rstrip(b"\r\n")
    if not text.strip():
        return "empty line"
    if _CONTROL.search(text):
        return "binary data"
    return "malformed record"


def _fields_regex(
    lines: pa.LargeStringArray, fmt: LogFormat
) -> tuple[dict[str, pa.Array], pa.Array]:
    extracted = pc.extract_regex(lines, fmt.line_regex)
    matched = extracted.is_valid()
    fields = {name: pc.struct_field(extracted, name) for name in _names(extracted.type)}
    return fields, matched


def _names(struct_type: pa.DataType) -> list[str]:
    return [struct_type.field(i).name for i in range(struct_type.num_fields)]


def _fields_csv(
    lines: pa.LargeStringArray, opts: ParseOptions
) -> tuple[dict[str, pa.Array], pa.Array]:
    header = opts.csv_header or []
    mapping = column_mapping(header, opts.column_overrides)
    index = {name: i for i, name in enumerate(header)}
    cols: dict[str, list[str]] = {canon: [] for canon in mapping}
    ok: list[bool] = []
    for text in lines.to_pylist():
        row = next(csv.reader([text.rstrip("\r\n")]), [])
        good = len(row) == len(header) and row != header
        ok.append(good)
        for canon, source in mapping.items():
            cols[canon].append(row[index[source]] if good and source in index else "")
    fields = {k: pa.array(v, pa.large_string()) for k, v in cols.items()}
    return fields, pa.array(ok)


def _fields_jsonl(
    lines: pa.LargeStringArray, opts: ParseOptions
) -> tuple[dict[str, pa.Array], pa.Array]:
    cols: dict[str, list[str]] = {}
    ok: list[bool] = []
    rows: list[dict[str, object] | None] = []
    keys: dict[str, None] = {}
    for text in lines.to_pylist():
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            obj = None
        rows.append(obj)
        ok.append(obj is not None)
        if obj is not None and len(keys) < 1000:
            keys.update(dict.fromkeys(obj))
    mapping = column_mapping(list(keys), opts.column_overrides)
    for canon, source in mapping.items():
        cols[canon] = [_text(r.get(source)) if r is not None else "" for r in rows]
    fields = {k: pa.array(v, pa.large_string()) for k, v in cols.items()}
    return fields, pa.array(ok)


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def parse_times(values: pa.Array) -> pa.Array:
    """Epoch seconds (int64, null when unparsable) from CLF, ISO 8601 or epoch strings."""
    encoded = pc.dictionary_encode(values)
    uniq = encoded.dictionary
    out = pc.cast(
        pc.strptime(uniq, format=_CLF_TIME, unit="s", error_is_null=True), pa.int64()
    ).to_numpy(zero_copy_only=False)
    out = np.asarray(out, dtype="float64")
    missing = np.flatnonzero(np.isnan(out))
    if len(missing):
        import pandas as pd  # only CSV/JSON logs with ISO or epoch times need it; it is slow to import

        rest = pd.Series(pc.take(uniq, pa.array(missing)).to_pylist(), dtype=object)
        rest = rest.str.strip().str.strip("[]")
        clf = pd.to_datetime(rest, format=_CLF_TIME, utc=True, errors="coerce")
        iso = pd.to_datetime(rest, format="ISO8601", utc=True, errors="coerce")
        when = clf.fillna(iso)
        secs = (when - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
        numeric = pd.to_numeric(rest, errors="coerce")
        numeric = numeric.where(numeric < 1e11, numeric / 1000.0)  # epoch ms -> s
        secs = secs.astype("float64").fillna(np.floor(numeric))
        out[missing] = secs.to_numpy(dtype="float64")
    bad = np.isnan(out)
    resolved = pa.array(np.where(bad, 0, out).astype(np.int64), pa.int64(), mask=bad)
    return pc.take(resolved, encoded.indices)


def _durations_ms(values: pa.Array, unit: str) -> pa.Array:
    present = pc.and_(pc.not_equal(values, ""), pc.not_equal(values, "-"))
    nums = pc.cast(pc.if_else(present, values, pa.scalar(None, values.type)), pa.float64())
    if unit == "s":
        return pc.multiply(nums, 1000.0)
    if unit == "ms":
        return nums
    if unit == "us":
        return pc.divide(nums, 1000.0)
    has_dot = pc.match_substring(values, ".")
    return pc.if_else(has_dot, pc.multiply(nums, 1000.0), pc.divide(nums, 1000.0))


def _typed(
    fields: dict[str, pa.Array], opts: ParseOptions, n: int
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """The n rows of lines that matched the format, typed; and the rows with a bad value, why."""
    bad: list[tuple[int, str]] = []

    def flag(mask: pa.Array, why: str) -> None:
        arr = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
        bad.extend((int(i), why) for i in np.flatnonzero(arr))

    empty = pa.nulls(n, pa.large_string())
    cols: dict[str, pa.Array] = {}
    ts = parse_times(fields["time"]) if "time" in fields else pa.nulls(n, pa.int64())
    flag(pc.is_null(ts), "bad or missing timestamp")
    cols["ts"] = ts
    if "request" in fields and "path" not in fields:
        req = pc.extract_regex(fields["request"], _REQUEST)
        req_ok = pc.is_valid(req)
        for name in ("method", "path", "protocol"):
            part = pc.struct_field(req, name)
            cols[name] = pc.if_else(req_ok, part, pa.scalar(None, part.type))
    for name in ("method", "path", "protocol", "ip", "referer", "ua", "vhost"):
        if name not in cols:
            cols[name] = fields.get(name, empty)
    if opts.strip_query:
        cols["path"] = pc.replace_substring_regex(cols["path"], r"\?.*$", "")
    status_txt = fields.get("status", empty)
    first = pc.utf8_slice_codeunits(status_txt, 0, 1)
    status_ok = pc.fill_null(
        pc.and_(
            pc.and_(pc.equal(pc.utf8_length(status_txt), 3), _digits(status_txt)),
            pc.and_(pc.greater_equal(first, "1"), pc.less_equal(first, "5")),
        ),
        False,
    )
    flag(pc.invert(status_ok), "bad or missing status")
    cols["status"] = pc.cast(
        pc.if_else(status_ok, status_txt, pa.scalar(None, status_txt.type)), pa.int16()
    )
    bytes_txt = fields.get("bytes", pa.array([""] * n, pa.large_string()))
    bytes_txt = pc.fill_null(bytes_txt, "")
    number = pc.and_(_digits(bytes_txt), pc.less_equal(pc.utf8_length(bytes_txt), 18))
    bytes_ok = pc.or_(number, pc.or_(pc.equal(bytes_txt, "-"), pc.equal(bytes_txt, "")))
    flag(pc.invert(bytes_ok), "bad byte count")
    zeroed = pc.if_else(number, bytes_txt, "0")
    cols["bytes"] = pc.cast(zeroed, pa.int64())
    if "duration" in fields:
        dur = fields["duration"]
        dur_ok = pc.match_substring_regex(pc.fill_null(dur, ""), r"^(\d+(\.\d+)?|-|)$")
        flag(pc.invert(dur_ok), "bad duration")
        clean = pc.if_else(dur_ok, dur, "")
        cols["duration_ms"] = _durations_ms(clean, opts.fmt.duration_unit)
    else:
        cols["duration_ms"] = pa.nulls(n, pa.float64())
    arrays = [pc.cast(cols[f.name], f.type) for f in SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SCHEMA), bad
