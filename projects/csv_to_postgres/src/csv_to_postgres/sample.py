"""A file's first records: how to read it, its column names, and rows to infer types from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from csv_to_postgres import number_format
from csv_to_postgres.chunks import ChunkReader
from csv_to_postgres.config import Cleaning, CsvToPostgresSettings
from csv_to_postgres.dialect import SAMPLE_BYTES, Dialect, detect
from csv_to_postgres.headers import map_headers
from csv_to_postgres.parsing import parse
from de_common.errors import UserError
from de_common.inputs import Input, expand_inputs, open_input


@dataclass(frozen=True)
class Sample:
    """The dialect, the sanitized column names, up to sample_rows rows as strings, and the
    cleaning rules for this file (the configured ones, with each column's decimal mark)."""

    dialect: Dialect
    names: list[str]
    rows: pa.Table
    rules: Cleaning


def csv_inputs(specs: Iterable[str]) -> list[Input]:
    """The files named (paths, globs, folders); not stdin: a load reads its file more than once
    (the hash, the sample, the stream)."""
    inputs = expand_inputs(specs)
    if any(item.is_stdin for item in inputs):
        raise UserError("reading from stdin ('-') is not supported: give a file")
    return inputs


def read_sample(source: Input, settings: CsvToPostgresSettings) -> Sample:
    """Detect the dialect from the first bytes, then read the header and the first chunk."""
    with open_input(source) as fh:
        head = fh.read(SAMPLE_BYTES)
    if not head.strip():
        raise UserError(f"{source.path}: empty file (no header)")
    dialect = detect(head, settings.encoding, settings.delimiter, settings.quote)
    # enough bytes for sample_rows at the head's line length (not the whole first chunk)
    line = len(head) / max(head.count(b"\n"), 1)
    wanted = max(64 << 10, int(settings.sample_rows * line * 1.25))
    with open_input(source) as fh:
        reader = ChunkReader(fh, dialect, min(settings.chunk_bytes, 4 << 20, wanted))
        names = map_headers(reader.header, settings.header_map)
        first = next(iter(reader), None)
    if first is None:
        rows = pa.table({n: pa.array([], pa.string()) for n in names})
    else:
        rows = parse(first, names, dialect).table.slice(0, settings.sample_rows)
    rules = number_format.resolve(settings.cleaning, rows, dialect.delimiter)
    return Sample(dialect, names, rows, rules)
