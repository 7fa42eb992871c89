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
            lines.append(f'{i},"1,{i:03d}",NA,yes,,2024-01-02T03:04:05+01:00,"  padded  "')
            expected[i] = (
                i,
                1000 + i if i < 1000 else int(f"1{i:03d}"),
                None,
                True,
                None,
                dt.datetime(2024, 1, 2, 2, 4, 5, tzinfo=dt.UTC),
                "padded",
            )
        elif i % 4 == 1:
            lines.append(f'{i},"",,N,2024-02-29,,""')
            expected[i] = (i, None, None, False, dt.date(2024, 2, 29), None, None)
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
    s = load(str(f), "--table", "m", "--chunk-bytes", "8192", "--max-reject-rate", "0.2")
    info = s["files"][0]
    assert 0 < info["chunks_verbatim"] < info["chunks"]
    assert s["records_rejected"] == 375 and s["inserted"] == 3000 - 375
    got = {r[0]: r for r in query(db, "SELECT id, n, f, b, d, ts, t FROM m")}
    assert got == expected
