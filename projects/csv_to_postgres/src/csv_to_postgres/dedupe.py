"""Within-load duplicate detection on the primary key with bounded memory.

Every key is reduced to 64 bits (the value itself for a single integer key, a hash otherwise) and
kept in sorted numpy runs: 8 bytes a row. A row whose 64 bits were seen before is only a *suspect*;
suspects are set aside and settled exactly in SQL against the real key values, so a hash collision
can never drop a distinct row.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from csv_to_postgres.coercion import values_view

Keys = npt.NDArray[np.uint64]
_MAX_RUNS = 6


class KeyTracker:
    """Remembers the 64-bit keys of every row sent so far in this load."""

    def __init__(self, key_columns: list[str]) -> None:
        self.key_columns = key_columns
        self._runs: list[Keys] = []

    def keys(self, table: pa.Table) -> Keys:
        """64 bits per row for the key columns."""
        cols = table.select(self.key_columns)
        if len(self.key_columns) == 1 and pa.types.is_integer(cols.column(0).type):
            # key values are never NULL here (a row without its key was rejected before)
            values = cols.column(0).combine_chunks().cast(pa.int64())
            return values_view(values, np.int64).view(np.uint64)
        import pandas as pd  # composite or text keys only

        frame = cols.to_pandas()
        for name in frame.columns:
            if frame[name].dtype.kind == "f":
                # -0.0 and 0.0 differ in bits but are one key to PostgreSQL: hash them alike.
                frame[name] = frame[name] + 0.0
        return np.asarray(pd.util.hash_pandas_object(frame, index=False).to_numpy(), np.uint64)

    def suspects(self, table: pa.Table) -> npt.NDArray[np.bool_]:
        """Mask of rows whose key bits were seen before (earlier chunk or earlier in this one)."""
        n = table.num_rows
        if not self.key_columns or n == 0:
            return np.zeros(n, dtype=bool)
        keys = self.keys(table)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        repeat = np.zeros(n, dtype=bool)
        same = ordered[1:] == ordered[:-1]
        repeat[order[1:][same]] = True
        for run in self._runs:
            at = np.searchsorted(run, keys)
            at[at == len(run)] = 0
            repeat |= run[at] == keys
        self._add(ordered[np.concatenate(([True], ~same))])  # sorted already: drop repeats
        return repeat

    def _add(self, run: Keys) -> None:
        self._runs.append(run)
        if len(self._runs) > _MAX_RUNS:
            # timsort merges the already-sorted runs in linear time
            merged = np.sort(np.concatenate(self._runs), kind="stable")
            self._runs = [merged]
