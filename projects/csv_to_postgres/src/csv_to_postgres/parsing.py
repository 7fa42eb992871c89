"""Parse a chunk of CSV records into a table of strings with the line number of every row."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from csv_to_postgres.chunks import RawChunk, check_utf8, record_lines, record_starts
from csv_to_postgres.coercion import bool_mask
from csv_to_postgres.dialect import Dialect

Lines = npt.NDArray[np.int64]


@dataclass
class Parsed:
    """Rows as strings, their source lines, and the records that could not be split into fields.

    The line numbers are worked out only when something asks for them (a reject, a repeated
    key, a blank line): a clean chunk never needs them."""

    table: pa.Table
    _lines: Lines | None = None
    invalid: list[tuple[int, str, str]] = field(default_factory=list)  # line, raw, reason
    blank: int = 0
    nul_free: bool = True  # no NUL byte anywhere in the chunk
    _raw: dict[int, str] | None = None
    _chunk: RawChunk | None = None
    _quote: bytes = b'"'

    @property
    def lines(self) -> Lines:
        """The physical line each row starts on."""
        if self._lines is None:
            self._lines = _starts(self._chunk, self._quote, self.table.num_rows)
        return self._lines

    @lines.setter
    def lines(self, value: Lines) -> None:
        self._lines = value

    def raw(self, line: int) -> str | None:
        """The raw text of the record starting at `line` (computed once per chunk, on demand)."""
        if self._raw is None and self._chunk is not None:
            self._raw = {
                ln: text.decode("utf-8", errors="replace")
                for ln, text in record_lines(self._chunk.data, self._quote, self._chunk.first_line)
            }
        return (self._raw or {}).get(line)


def _starts(chunk: RawChunk | None, quote: bytes, n_records: int) -> Lines:
    if chunk is None:
        return np.zeros(0, dtype=np.int64)
    if n_records == chunk.newlines:  # every record on one line: line = first + index
        return np.arange(chunk.first_line, chunk.first_line + n_records, dtype=np.int64)
    return record_starts(chunk.data, quote, chunk.first_line)[:n_records]


def _read(chunk: RawChunk, names: list[str], dialect: Dialect) -> tuple[pa.Table, list[_Bad]]:
    """The records as strings, and those with the wrong number of fields."""
    bad: list[_Bad] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        bad.append((row.number, row.text, row.expected_columns, row.actual_columns))
        return "skip"

    table = pcsv.read_csv(
        io.BytesIO(chunk.data),
        read_options=pcsv.ReadOptions(
            column_names=names, use_threads=False, block_size=max(len(chunk.data) + 1, 1 << 20)
        ),
        parse_options=pcsv.ParseOptions(
            delimiter=dialect.delimiter,
            quote_char=dialect.quote,
            double_quote=True,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=on_invalid,
        ),
        # COPY's CSV rule: an empty unquoted field is NULL, a quoted one ("") an empty string
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    return table, bad


_Bad = tuple[int | None, str, int, int]  # record number, text, fields expected, fields found


def _on_invalid_row_undecodable(unraisable: Any) -> bool:
    """pyarrow decodes an invalid row's text before it calls our handler; bytes that are not
    UTF-8 raise there, and Python reports it as "Exception ignored" on stderr. parse() then
    checks the chunk's encoding and reads it again, so that one report is noise."""
    where = getattr(unraisable.object, "__qualname__", "")
    return unraisable.exc_type is UnicodeDecodeError and where == "_read.<locals>.on_invalid"


def _quiet_undecodable_rows() -> None:
    """Drop only that report; every other one goes to the hook installed before (once)."""
    previous = sys.unraisablehook
    if getattr(previous, "csv_to_postgres", False):
        return

    def hook(unraisable: Any) -> None:
        if not _on_invalid_row_undecodable(unraisable):
            previous(unraisable)

    hook.csv_to_postgres = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


def parse(chunk: RawChunk, names: list[str], dialect: Dialect) -> Parsed:
    """Split records into fields; a record with the wrong number of fields is set aside."""
    if not chunk.utf8_checked:
        _quiet_undecodable_rows()
    try:
        table, bad = _read(chunk, names, dialect)
    except pa.ArrowInvalid:
        if chunk.utf8_checked:
            raise
        # bytes that are not UTF-8 (the parser refuses the chunk): mark their lines, read again
        check_utf8(chunk)
        table, bad = _read(chunk, names, dialect)
    quote = dialect.quote.encode()
    parsed = Parsed(table, nul_free=b"\x00" not in chunk.data, _chunk=chunk, _quote=quote)
    if bad:
        starts = _starts(chunk, quote, table.num_rows + len(bad))
        invalid_idx = sorted(int(n) - 1 for n, *_ in bad if n is not None)
        parsed.lines = np.delete(starts, invalid_idx) if invalid_idx else starts
        parsed.invalid = [
            (
                int(starts[int(n) - 1]) if n is not None else chunk.first_line,
                text,
                f"expected {exp} fields, found {act}",
            )
            for n, text, exp, act in bad
        ]
    if table.num_rows and names:
        parsed = _drop_blank(parsed)
    if chunk.bad_lines:
        parsed = _drop_bad_encoding(parsed, chunk)
    return parsed


def _drop_blank(parsed: Parsed) -> Parsed:
    """Empty lines are not records: drop them (a line of only delimiters is a record of NULLs)."""
    empty = None
    for col in parsed.table.columns:
        is_empty = pc.is_null(col)  # a blank line parses as NULLs, like a line of delimiters
        empty = is_empty if empty is None else pc.and_(empty, is_empty)
    if empty is None or not pc.any(empty).as_py():
        return parsed
    mask = bool_mask(empty)
    blank = np.zeros(len(mask), dtype=bool)
    for i in np.flatnonzero(mask):
        blank[i] = (parsed.raw(int(parsed.lines[i])) or "").strip() == ""
    if not blank.any():
        return parsed
    parsed.table = parsed.table.filter(pa.array(~blank))
    parsed.lines = parsed.lines[~blank]
    parsed.blank = int(blank.sum())
    return parsed


def _drop_bad_encoding(parsed: Parsed, chunk: RawChunk) -> Parsed:
    hit = np.isin(parsed.lines, np.array(sorted(chunk.bad_lines), dtype=np.int64))
    if not hit.any():
        return parsed
    for i in np.flatnonzero(hit):
        line = int(parsed.lines[i])
        parsed.invalid.append(
            (line, parsed.raw(line) or "", "bytes not valid in the file's encoding")
        )
    parsed.table = parsed.table.filter(pa.array(~hit))
    parsed.lines = parsed.lines[~hit]
    return parsed
