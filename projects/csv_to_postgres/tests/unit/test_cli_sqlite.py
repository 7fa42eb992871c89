"""End to end through the CLI on SQLite (embedded, the demo default): no server needed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from csv_to_postgres.cli import cli


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "t.sqlite"
    monkeypatch.setenv("CSV_TO_POSTGRES_DATABASE_URL", f"sqlite:///{path}")
    return path


def _load(*args: str, code: int = 0) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["load", "--json", *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else {"stderr": result.stderr}


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_append_upsert_replace_and_hash_skip(db: Path, tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("id,name,score\n1,ann,10\n2,bob,20\n2,bob again,21\n")
    s = _load(str(a), "--table", "people", "--primary-key", "id")
    assert (s["records_in"], s["inserted"], s["duplicates"], s["balanced"]) == (3, 2, 1, True)
    assert _rows(db, "select id, name from people order by id") == [(1, "ann"), (2, "bob")]

    again = _load(str(a), "--table", "people")
    assert again["files_skipped"] == 1 and again["records_in"] == 0

    b = tmp_path / "b.csv"
    b.write_text("id,name,score\n2,bea,22\n3,cy,30\n")
    up = _load(str(b), "--table", "people", "--mode", "upsert")
    assert (up["inserted"], up["updated"]) == (1, 1)
    assert _rows(db, "select id, name, score from people order by id") == [
        (1, "ann", 10),
        (2, "bea", 22),
        (3, "cy", 30),
    ]

    rep = _load(str(b), "--table", "people", "--mode", "replace", "--force")
    assert rep["inserted"] == 2
    assert _rows(db, "select id from people order by id") == [(2,), (3,)]


def test_rejects_with_line_numbers_and_csv(db: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean.csv"
    clean.write_text("id,amount\n0,1\n")
    _load(str(clean), "--table", "d", "--primary-key", "id")  # the table: amount is an integer
    f = tmp_path / "d.csv"
    f.write_text("id,amount\n1,5\n2,five\n\n3\n4,7\n")
    rej = tmp_path / "rejects.csv"
    s = _load(
        str(f),
        "--table",
        "d",
        "--primary-key",
        "id",
        "--max-reject-rate",
        "0.9",
        "--rejects-csv",
        str(rej),
    )
    assert (s["records_in"], s["records_out"], s["records_rejected"]) == (4, 2, 2)
    got = _rows(db, "select line, reason, raw from c2p_rejects order by line")
    assert got[0][0] == 3 and "amount" in got[0][1] and got[0][2] == "2,five"
    assert got[1][0] == 5 and "expected 2 fields" in got[1][1]
    assert rej.read_text().count("\n") == 3


def test_max_reject_rate_loads_nothing(db: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean.csv"
    clean.write_text("id,amount\n0,1\n")
    _load(str(clean), "--table", "bad", "--primary-key", "id")
    f = tmp_path / "bad.csv"
    f.write_text("id,amount\n1,x\n2,y\n3,3\n4,4\n5,5\n")
    out = _load(str(f), "--table", "bad", code=1)
    assert "rejected" in str(out["stderr"]) and "Traceback" not in str(out["stderr"])
    assert _rows(db, "select id from bad") == [(0,)]
    assert _rows(db, "select status from c2p_loads order by started_at") == [("done",), ("failed",)]


def test_schema_command_prints_and_saves(tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    f.write_text("Order ID,when,total\n1,2024-01-01,9.5\n")
    result = CliRunner().invoke(cli, ["schema", str(f), "--primary-key", "Order ID"])
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE s" in result.stdout and "order_id BIGINT NOT NULL" in result.stdout
    out = tmp_path / "flights.sql"
    result = CliRunner().invoke(cli, ["schema", "--model", "flights", "--output", str(out)])
    assert result.exit_code == 0
    assert "PRIMARY KEY (time_hour, carrier, flight, origin)" in out.read_text()


def test_bad_input_is_one_line_exit_2(db: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["load", str(tmp_path / "nope*.csv")])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: no file matches")


def test_status_lists_the_audit_history(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    f.write_text("id,v\n1,a\n")
    _load(str(f), "--table", "s", "--primary-key", "id")
    _load(str(f), "--table", "s")
    result = CliRunner().invoke(cli, ["status", "--json"])
    assert result.exit_code == 0, result.output
    loads = json.loads(result.stdout)["loads"]
    assert [(x["status"], x["rows_read"], x["inserted"]) for x in loads] == [("done", 1, 1)]
    assert len(loads[0]["content_hash"]) == 64
