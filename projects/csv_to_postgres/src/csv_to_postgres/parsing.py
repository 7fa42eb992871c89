"""Parse a chunk of CSV records into a table of strings with the line number of every row."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from csv_to_postgres.chunks import RawChunk, record_lines
from csv_to_postgres.coercion import bool_mask
from csv_to_postgres.dialect import Dialect

Lines = npt.NDArray[np.int64]


@dataclass
class Parsed:
    """Rows as strings, their source lines, and the records that could not be split into fields."""

    table: pa.Table
    lines: Lines
    invalid: list[tuple[int, str, str]] = field(default_factory=list)  # line, raw, reason
    blank: int = 0
    _raw: dict[int, str] | None = None
    _chunk: RawChunk | None = None
    _quote: bytes = b'"'

    def raw(self, line: int) -> str | None:
        """The raw text of the record starting at `line` (computed once per chunk, on demand)."""
        if self._raw is None and self._chunk is not None:
            self._raw = {
                ln: text.decode("utf-8", errors="replace")
                for ln, text in record_lines(self._chunk.data, self._quote, self._chunk.first_line)
            }
        return (self._raw or {}).get(line)


def parse(chunk: RawChunk, names: list[str], dialect: Dialect) -> Parsed:
    """Split records into fields; a record with the wrong number of fields is set aside."""
    bad: list[tuple[int | None, str, int, int]] = []

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
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    quote = dialect.quote.encode()
    n_records = table.num_rows + len(bad)
    if n_records == chunk.newlines:  # every record on one line: line = first + index
        starts = np.arange(chunk.first_line, chunk.first_line + n_records, dtype=np.int64)
    else:
        starts = np.array(
            [ln for ln, _ in record_lines(chunk.data, quote, chunk.first_line)], dtype=np.int64
        )[:n_records]
    invalid_idx = sorted(int(n) - 1 for n, *_ in bad if n is not None)
    lines = np.delete(starts, invalid_idx) if invalid_idx else starts
    invalid = [
        (
            int(starts[int(n) - 1]) if n is not None else chunk.first_line,
            text,
            f"expected {exp} fields, found {act}",
        )
        for n, text, exp, act in bad
    ]
    parsed = Parsed(table, lines, invalid, _chunk=chunk, _quote=quote)
    if table.num_rows and names:
        parsed = _drop_blank(parsed)
    if chunk.bad_lines:
        parsed = _drop_bad_encoding(parsed, chunk)
    return parsed


def _drop_blank(parsed: Parsed) -> Parsed:
    """Empty lines are not records: drop them (a line of only delimiters is a record of NULLs)."""
    empty = None
    for col in parsed.table.columns:
        is_empty = pc.equal(pc.utf8_length(col), pa.scalar(0, pa.int32()))
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
