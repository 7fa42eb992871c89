"""Clean chunks are streamed to COPY as their original bytes, dirty ones re-encoded: both must
land exactly the values the loader validated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from .conftest import execute, load, query

pytestmark = pytest.mark.integration


def test_mixed_clean_and_dirty_chunks_land_identical_values(db: str, tmp_path: Path) -> None:
    execute(
        db,
        "CREATE TABLE m (id BIGINT PRIMARY KEY, n INTEGER, f DOUBLE PRECISION, b BOOLEAN, "
        "d DATE, ts TIMESTAMPTZ, t TEXT)",
    )
    lines, expected = [], {}
    for i in range(3000):
        block = i // 500  # blocks of 500 rows: even blocks clean, odd blocks dirty
        if block % 2 == 0:
            lines.append(f"{i},{i},{i}.5,true,2024-01-02,2024-01-02 03:04:05Z,plain {i}")
            expected[i] = (
                i,
                i,
                i + 0.5,
                True,
                dt.date(2024, 1, 2),
                dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                f"plain {i}",
            )
        elif i % 4 == 0:
            # "1,500" is 1500; "1,1500" is no grouping of thousands: rejected, never 11500
            lines.append(f'{i},"1,{i:03d}",NA,yes,,2024-01-02T03:04:05+01:00,"  padded  "')
            if i < 1000:
                expected[i] = (
                    i,
                    1000 + i,
                    None,
                    True,
                    None,
                    dt.datetime(2024, 1, 2, 2, 4, 5, tzinfo=dt.UTC),
                    "  padded  ",  # text is kept as written, as psql \copy keeps it
                )
        elif i % 4 == 1:
            # "" is NULL in a typed column, an empty string in a text one (COPY's CSV rule)
            lines.append(f'{i},"",,N,2024-02-29,,""')
            expected[i] = (i, None, None, False, dt.date(2024, 2, 29), None, "")
        elif i % 4 == 2:
            lines.append(f"{i},{i},{i},t,2024-01-02,2024-01-02 03:04:05,naive")
            expected[i] = (
                i,
                i,
                float(i),
                True,
                dt.date(2024, 1, 2),
                dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                "naive",
            )
        else:
            lines.append(f"{i},not a number,1,t,2024-01-02,,bad")  # rejected
    f = tmp_path / "mixed.csv"
    f.write_text("id,n,f,b,d,ts,t\n" + "\n".join(lines) + "\n", encoding="utf-8")
    s = load(str(f), "--table", "m", "--chunk-bytes", "8192", "--max-reject-rate", "0.25")
    info = s["files"][0]
    assert 0 < info["chunks_verbatim"] < info["chunks"]
    # 375 'not a number' rows, and the 250 "1,1xxx" of the dirty blocks past id 1000
    assert s["records_rejected"] == 625 and s["inserted"] == 3000 - 625
    got = {r[0]: r for r in query(db, "SELECT id, n, f, b, d, ts, t FROM m")}
    assert got == expected
    reasons = query(db, "SELECT raw, reason FROM c2p_rejects WHERE raw LIKE %s", ("1500,%",))
    assert reasons == [
        (
            '1500,"1,1500",NA,yes,,2024-01-02T03:04:05+01:00,"  padded  "',
            "n: not an integer in int32 range (decimal mark '.', thousands ',' only between "
            "groups of three digits): '1,1500'",
        )
    ]


def test_a_quote_inside_an_unquoted_field_is_text_and_never_sent_raw(
    db: str, tmp_path: Path
) -> None:
    """COPY would open a quoted section at `x"y` (and swallow the records after it); the parser
    reads it as text, so such a chunk is re-encoded and the value lands as written."""
    execute(db, "CREATE TABLE bare (id BIGINT PRIMARY KEY, t TEXT)")
    rows = [f"{i},plain {i}" for i in range(200)]
    rows[100] = '100,5" screen'
    rows[101] = '101,"quoted ""properly"""'
    f = tmp_path / "bare.csv"
    f.write_text("id,t\n" + "\n".join(rows) + "\n", encoding="utf-8")
    s = load(str(f), "--table", "bare", "--chunk-bytes", "1024")
    info = s["files"][0]
    assert s["inserted"] == 200 and 0 < info["chunks_verbatim"] == info["chunks"] - 1
    assert query(db, "SELECT t FROM bare WHERE id IN (99, 100, 101) ORDER BY id") == [
        ("plain 99",),
        ('5" screen',),
        ('quoted "properly"',),
    ]
