"""End to end through the CLI on SQLite (embedded, the demo default): no server needed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from csv_to_postgres.cli import cli


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "t.sqlite"
    monkeypatch.setenv("CSV_TO_POSTGRES_DATABASE_URL", f"sqlite:///{path}")
    return path


def _load(*args: str, code: int = 0) -> dict[str, Any]:
    """The summary `load --json` printed (on failure too, then with the stderr)."""
    result = CliRunner().invoke(cli, ["load", "--json", *args])
    assert result.exit_code == code, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    assert summary["status"] == ("ok" if code == 0 else "failed")
    return summary if code == 0 else {**summary, "stderr": result.stderr}


def _balanced(s: dict[str, Any]) -> bool:
    skipped = sum(s["records_skipped"].values())
    return bool(s["records_in"] == s["records_out"] + s["records_rejected"] + skipped)


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_append_upsert_replace_and_hash_skip(db: Path, tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("id,name,score\n1,ann,10\n2,bob,20\n2,bob again,21\n")
    s = _load(str(a), "--table", "people", "--primary-key", "id")
    assert (s["records_in"], s["inserted"], s["records_skipped"]["duplicate"]) == (3, 2, 1)
    assert _balanced(s) and s["files"][0]["duplicates"] == 1
    assert _rows(db, "select id, name from people order by id") == [(1, "ann"), (2, "bob")]

    again = _load(str(a), "--table", "people")
    assert again["files_skipped"] == 1 and again["records_out"] == 0
    # the skipped file's rows are those of the earlier load of the same content
    assert again["records_in"] == 3
    assert again["records_skipped"] == {"duplicate": 0, "already_loaded": 3}

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
    # the failed summary carries the counts: 2 rejected, the 3 good rows rolled back with the file
    assert (out["records_in"], out["records_out"], out["records_rejected"]) == (5, 0, 2)
    assert out["records_skipped"]["rolled_back"] == 3 and _balanced(out)
    assert out["files_failed"] == 1 and "above --max-reject-rate" in out["error"]
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
    result = CliRunner().invoke(cli, ["load", "-"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: reading from stdin ('-') is not supported")


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


def test_key_and_header_map_flags_and_bad_flag_values(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "k.csv"
    f.write_text("Region,Code,E-mail\nnorth,1,a@x\nnorth,2,b@x\nnorth,1,c@x\n")
    s = _load(
        str(f), "--table", "k", "--primary-key", "region,code", "--header-map", "E-mail=email"
    )
    assert (s["inserted"], s["records_skipped"]["duplicate"]) == (2, 1)
    assert _rows(db, "select region, code, email from k order by code") == [
        ("north", 1, "a@x"),
        ("north", 2, "b@x"),
    ]
    g = tmp_path / "k2.csv"
    g.write_text("region,code,email\nsouth,1,d@x\n")
    s = _load(str(g), "--table", "k2", "--primary-key", "region", "--primary-key", "code")
    assert s["inserted"] == 1
    bad = CliRunner().invoke(cli, ["load", str(g), "--chunk-bytes", "10"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: invalid setting CSV_TO_POSTGRES_CHUNK_BYTES")


def test_load_flags_come_from_the_settings() -> None:
    result = CliRunner().invoke(cli, ["load", "--help"])
    text = " ".join(result.stdout.split())
    assert "--on-schema-change [fail|evolve]" in text
    assert "[env: CSV_TO_POSTGRES_ON_SCHEMA_CHANGE]" in text
    assert "--header-map KEY=VALUE" in text and "--primary-key TEXT" in text
    assert "--password" not in text and "--database-url" not in text


def test_hash_skip_only_while_the_table_still_holds_the_load(db: Path, tmp_path: Path) -> None:
    """SQLite has no table identity that survives honestly (root pages and rowids are reused),
    so the skip there needs the table to exist and hold at least the rows the load stored."""
    f = tmp_path / "h.csv"
    f.write_text("id,v\n1,a\n2,b\n")
    assert _load(str(f), "--table", "h", "--primary-key", "id")["inserted"] == 2
    assert _load(str(f), "--table", "h")["files_skipped"] == 1

    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE h")
    again = _load(str(f), "--table", "h", "--primary-key", "id")
    assert (again["files_loaded"], again["inserted"]) == (1, 2)
    assert "the table no longer exists: loaded again" in again["files"][0]["message"]
    assert again["files"][0]["created_table"] is True

    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM h WHERE id = 2")
    again = _load(str(f), "--table", "h", "--mode", "upsert")
    assert (again["inserted"], again["updated"]) == (1, 1)
    assert "holds 1 rows, fewer than the 2 that load stored" in again["files"][0]["message"]
    assert _load(str(f), "--table", "h")["files_skipped"] == 1


def test_european_file_inferred_and_loaded_without_options(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "eu.csv"
    f.write_bytes(
        "id;name;amount;total;qty\n"
        "1;Müller, Jürgen;2202,72;1.234,56;1.234\n"
        '2;"Café; Bar";-0,50;999,99;7\n'
        "3;Zoë;15;12;12\n".encode("latin-1")
    )
    ddl = CliRunner().invoke(cli, ["schema", str(f)])
    assert ddl.exit_code == 0, ddl.output
    assert "amount DOUBLE PRECISION" in ddl.stdout and "total DOUBLE PRECISION" in ddl.stdout
    assert "qty BIGINT" in ddl.stdout
    s = _load(str(f), "--table", "eu", "--primary-key", "id")
    assert (s["inserted"], s["records_rejected"]) == (3, 0)
    assert _rows(db, "select name, amount, total, qty from eu order by id") == [
        ("Müller, Jürgen", 2202.72, 1234.56, 1234),
        ("Café; Bar", -0.5, 999.99, 7),
        ("Zoë", 15.0, 12.0, 12),
    ]


def test_a_decimal_comma_into_an_integer_column_is_rejected_not_rescaled(
    db: Path, tmp_path: Path
) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE amounts (id INTEGER PRIMARY KEY, amount BIGINT)")
    f = tmp_path / "a.csv"
    f.write_bytes(b"id;amount\n1;2202,72\n2;2202\n3;1.500\n")
    s = _load(str(f), "--table", "amounts", "--max-reject-rate", "0.5")
    assert (s["inserted"], s["records_rejected"]) == (2, 1)
    assert _rows(db, "select id, amount from amounts order by id") == [(2, 2202), (3, 1500)]
    (reason,) = _rows(db, "select reason from c2p_rejects")[0]
    assert reason == (
        "amount: not an integer in int64 range (decimal mark ',', thousands '.' only between "
        "groups of three digits): '2202,72'"
    )
