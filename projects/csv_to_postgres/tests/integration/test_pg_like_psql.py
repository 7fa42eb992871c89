"""The defaults never change data: what we load equals what `psql \\copy` loads from the same file
into an identical table, row for row; and such a file takes the raw-bytes fast path."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import execute, load, query

pytestmark = pytest.mark.integration

COLUMNS = "id, name, note, code, amount, qty, score, active, day, ts, seen"
DDL = """CREATE TABLE {name} (
    id BIGINT PRIMARY KEY, name TEXT, note TEXT, code TEXT, amount NUMERIC(12, 2), qty INTEGER,
    score DOUBLE PRECISION, active BOOLEAN, day DATE, ts TIMESTAMPTZ, seen TIMESTAMP)"""

# Text as people write it: every null-like token, padding, quotes, delimiters, newlines.
TEXTS = [
    "NA", "N/A", "n/a", "NULL", "null", "None", "nan", "NaN", "-", "#N/A", "nil", "\\N",
    " padded ", "  ", "\ttab", "trailing ", "a,b", 'say "hi"', '"', '""', "line1\nline2",
    "Zoë, Łukasz & 東京", "C:\\path\\x", "plain",
]  # fmt: skip


def _field(value: str | None, quoted: bool) -> str:
    """One CSV field: None is an empty unquoted field; quoted when asked or when it must be."""
    if value is None:
        return ""
    if quoted or any(c in value for c in ',"\n\r') or value.strip() != value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _text(rng: random.Random) -> tuple[str | None, bool]:
    roll = rng.random()
    if roll < 0.1:
        return None, False  # empty unquoted: NULL
    if roll < 0.2:
        return "", True  # "": an empty string
    return rng.choice(TEXTS), rng.random() < 0.3


def _row(i: int, rng: random.Random, **given: str) -> str:
    """One record; `given` replaces fields by name with their raw CSV text."""

    def maybe(value: str) -> str:
        return "" if rng.random() < 0.15 else value  # optional typed field left empty

    ts = f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 0{rng.randint(0, 9)}:30:00"
    fields = [
        _field(str(i), False),
        _field(*_text(rng)),
        _field(*_text(rng)),
        _field(rng.choice(["007", "0", "-1", "N/A", "A-1"]), False),
        maybe(f"{rng.uniform(-9999, 9999):.2f}"),
        maybe(str(rng.randint(-(2**31), 2**31 - 1))),
        maybe(rng.choice(["1.5e-3", "-0.0", "3.14159", "12", "Infinity", "NaN", "nan"])),
        maybe(rng.choice(["true", "false", "t", "f", "TRUE", "False"])),
        maybe(f"2024-02-{rng.randint(10, 29)}"),
        maybe(ts + rng.choice(["Z", "+02:00", "-05:30", ""])),
        maybe(ts + rng.choice(["", ".123456"])),
    ]
    names = [c.strip() for c in COLUMNS.split(",")]
    return ",".join(given.get(name, field) for name, field in zip(names, fields, strict=True))


def _psql_copy(url: str, table: str, path: Path) -> None:
    command = f"\\copy {table} ({COLUMNS}) FROM '{path}' WITH (FORMAT csv, HEADER true)"
    env = {**os.environ, "PGTZ": "UTC"}  # text without an offset means UTC, as for our loads
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-c", command], check=True, env=env)


def _same_tables(url: str, ours: str, theirs: str) -> None:
    """Row for row: EXCEPT ALL both ways (NULL and '' differ, duplicates count) and in order."""
    for a, b in ((ours, theirs), (theirs, ours)):
        extra = query(url, f"SELECT count(*) FROM (TABLE {a} EXCEPT ALL TABLE {b}) d")
        assert extra == [(0,)], f"{a} has rows {b} has not"
    # each row as PostgreSQL prints it (NaN equals NaN there, unlike in Python)
    rows: dict[str, list[tuple[Any, ...]]] = {
        t: query(url, f"SELECT t::text FROM {t} AS t ORDER BY id") for t in (ours, theirs)
    }
    assert rows[ours] == rows[theirs] and len(rows[ours]) > 0


def test_null_like_texts_whitespace_and_empties_load_as_psql_copy_does(
    db: str, tmp_path: Path
) -> None:
    rng = random.Random(19)
    f = tmp_path / "people.csv"
    body = "".join(_row(i, rng) + "\n" for i in range(3000))
    f.write_text(COLUMNS.replace(" ", "") + "\n" + body, encoding="utf-8")
    for table in ("ours", "theirs"):
        execute(db, DDL.format(name=table))
    _psql_copy(db, "theirs", f)

    s = load(str(f), "--table", "ours", "--chunk-bytes", "16384")
    info = s["files"][0]
    assert (s["inserted"], s["records_rejected"]) == (3000, 0)
    # nothing to transform: every chunk goes to COPY as the file's own bytes
    assert info["chunks"] > 5 and info["chunks_verbatim"] == info["chunks"]
    _same_tables(db, "ours", "theirs")
    notes = dict(query(db, "SELECT note, count(*) FROM ours GROUP BY note"))
    assert notes.get("NA", 0) > 0 and notes.get("NULL", 0) > 0 and notes.get(" padded ", 0) > 0
    assert notes.get("", 0) > 0 and notes.get(None, 0) > 0  # "" and an empty field stay apart
    assert query(db, "SELECT count(*) > 0 FROM ours WHERE score = 'NaN'") == [(True,)]


def test_chunks_that_need_rewriting_still_match_psql(db: str, tmp_path: Path) -> None:
    """The same comparison where chunks are re-encoded: CRLF line ends, `\\.` inside a value and
    padded numbers (trimmed for parsing) are not sent as raw bytes, and land the same values."""
    rng = random.Random(7)
    rows = [_row(i, rng) for i in range(400)]
    rows[50] = _row(50, rng, name='"a\\.b"', note="\\.", qty=" 42 ", score="  2.5")
    f = tmp_path / "crlf.csv"
    f.write_bytes((COLUMNS.replace(" ", "") + "\r\n" + "\r\n".join(rows) + "\r\n").encode())
    for table in ("ours", "theirs"):
        execute(db, DDL.format(name=table))
    _psql_copy(db, "theirs", f)
    s = load(str(f), "--table", "ours", "--chunk-bytes", "4096")
    assert s["inserted"] == 400 and s["files"][0]["chunks_verbatim"] == 0
    _same_tables(db, "ours", "theirs")
