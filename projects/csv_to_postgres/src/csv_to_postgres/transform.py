"""Typed, validated rows from parsed strings; everything refused becomes a Reject with its line."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from csv_to_postgres.coercion import BoolMask, coerce
from csv_to_postgres.columns import TableSpec
from csv_to_postgres.config import Cleaning
from csv_to_postgres.parsing import Lines, Parsed
from csv_to_postgres.rejects import Reject


@dataclass
class Transformed:
    """The good rows (typed, in load-column order), their lines, and the rejects."""

    table: pa.Table
    parsed: Parsed
    keep: BoolMask | None = None  # the parsed rows that are good (None: all)
    rejects: list[Reject] = field(default_factory=list)
    blank: int = 0
    verbatim: bool = False  # every value reads the same from the raw chunk: stream it as is

    @property
    def rows_read(self) -> int:
        return int(self.table.num_rows) + len(self.rejects)

    @property
    def lines(self) -> Lines:
        """The line of each good row (worked out only when asked for)."""
        return self.parsed.lines if self.keep is None else self.parsed.lines[self.keep]


def transform(
    parsed: Parsed, columns: list[str], spec: TableSpec, rules: Cleaning, file: str
) -> Transformed:
    """Coerce every loaded column; a row with any bad value is rejected with the first reason."""
    rejects = [Reject(file, line, raw, reason) for line, raw, reason in parsed.invalid]
    n = parsed.table.num_rows
    bad = np.zeros(n, dtype=bool)
    reasons: dict[int, str] = {}
    typed: dict[str, pa.Array] = {}
    verbatim = not rejects and not parsed.blank and columns == parsed.table.column_names
    for name in columns:
        col = spec.column(name)
        assert col is not None, name  # the contract check guarantees every column is known
        source = parsed.table.column(name).combine_chunks()
        result = coerce(source, col, rules, nul_free=parsed.nul_free)
        if result.bad is not None:
            for i in np.flatnonzero(result.bad & ~bad):
                value = source[int(i)].as_py() or ""
                shown = value if len(value) <= 60 else value[:57] + "..."
                reasons[int(i)] = f"{name}: {result.reason}: {shown!r}"
            bad |= result.bad
        typed[name] = result.values
        verbatim = verbatim and result.verbatim
    table = pa.table(typed) if typed else pa.table({})
    if not bad.any():
        return Transformed(table, parsed, None, rejects, parsed.blank, verbatim)
    for i in np.flatnonzero(bad):
        line = int(parsed.lines[i])
        rejects.append(Reject(file, line, parsed.raw(line), reasons[int(i)]))
    keep = ~bad
    return Transformed(table.filter(pa.array(keep)), parsed, keep, rejects, parsed.blank)
