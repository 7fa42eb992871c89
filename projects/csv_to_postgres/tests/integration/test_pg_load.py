"""Loads into a real PostgreSQL: types, modes, rejects, idempotency, hostile headers, contract."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from csv_to_postgres import pgsql

from .conftest import balanced, execute, load, query, write

pytestmark = pytest.mark.integration

UTC = dt.UTC


def test_types_round_trip(db: str, tmp_path: Path) -> None:
    execute(
        db,
        """CREATE TABLE typed (id BIGINT PRIMARY KEY, small SMALLINT, i INTEGER, f DOUBLE PRECISION,
        n NUMERIC(20, 2), b BOOLEAN, d DATE, ts TIMESTAMPTZ, naive TIMESTAMP, t TEXT)""",
    )
    f = write(
        tmp_path / "typed.csv",
        "id,small,i,f,n,b,d,ts,naive,t",
        [
            '9223372036854775807,-32768,2147483647,1.5e-3,"123,456,789,012,345.67",yes,2024-02-29,'
            '2024-03-01T10:00:00Z,2024-03-01 10:00:00,"quote "" comma, newline\nend"',
            "-9223372036854775808,32767,-2147483648,-0.0,0.01,false,1970-01-01,"
            "2024-03-01 12:00:00+02:00,1999-12-31 23:59:59.123456,Zoë ✓",
            "1,,,,,,,,,NA",
        ],
    )
    s = load(str(f), "--table", "typed")
    assert (s["records_in"], s["inserted"], s["records_rejected"]) == (3, 3, 0)
    rows = query(db, "SELECT * FROM typed ORDER BY id")
    assert rows[0] == (
        -9223372036854775808,
        32767,
        -2147483648,
        -0.0,
        Decimal("0.01"),
        False,
        dt.date(1970, 1, 1),
        dt.datetime(2024, 3, 1, 10, tzinfo=UTC),
        dt.datetime(1999, 12, 31, 23, 59, 59, 123456),
        "Zoë ✓",
    )
    # empty fields are NULL; 'NA' in a text column is text, as psql \copy loads it
    assert rows[1] == (1, None, None, None, None, None, None, None, None, "NA")
    assert rows[2] == (
        9223372036854775807,
        -32768,
        2147483647,
        1.5e-3,
        Decimal("123456789012345.67"),
        True,
        dt.date(2024, 2, 29),
        dt.datetime(2024, 3, 1, 10, tzinfo=UTC),
        dt.datetime(2024, 3, 1, 10),
        'quote " comma, newline\nend',
    )


def test_append_upsert_replace_semantics(db: str, tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "id,name,score", ["1,ann,10", "2,bob,20", "3,cy,30"])
    b = write(tmp_path / "b.csv", "id,name,score", ["3,cyd,33", "4,dee,40", "4,dee twice,41"])
    s = load(str(a), "--table", "p", "--primary-key", "id")
    assert (s["inserted"], s["updated"]) == (3, 0)

    out = load(str(b), "--table", "p", code=1)  # append never overwrites an existing key
    assert "already in the table" in out["stderr"]
    assert (out["records_in"], out["records_out"], out["files_failed"]) == (3, 0, 1)
    assert out["records_skipped"] == {"duplicate": 0, "already_loaded": 0, "rolled_back": 3}
    assert query(db, "SELECT count(*) FROM p") == [(3,)]

    s = load(str(b), "--table", "p", "--mode", "upsert")
    assert (s["records_in"], s["inserted"], s["updated"]) == (3, 1, 1)
    assert s["records_skipped"]["duplicate"] == 1 and balanced(s)
    assert query(db, "SELECT id, name, score FROM p ORDER BY id") == [
        (1, "ann", 10),
        (2, "bob", 20),
        (3, "cyd", 33),
        (4, "dee", 40),
    ]
    dup = query(db, "SELECT line, kind FROM c2p_rejects WHERE kind = 'duplicate'")
    assert dup == [(4, "duplicate")]

    s = load(str(a), "--table", "p", "--mode", "replace", "--force")
    assert s["inserted"] == 3 and s["files"][0]["replaced_rows"] == 4
    assert query(db, "SELECT id, name FROM p ORDER BY id") == [(1, "ann"), (2, "bob"), (3, "cy")]
    # the swapped-in table keeps its key under the usual name, so the next replace works too
    assert query(db, "SELECT conname FROM pg_constraint WHERE conrelid = 'p'::regclass") == [
        ("p_pkey",)
    ]
    s = load(str(a), "--table", "p", "--mode", "replace", "--force")
    assert query(db, "SELECT count(*) FROM p") == [(3,)]


@pytest.fixture
def merges(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements each upsert ran, in order: "merge" (attempted) and "pair"."""
    used: list[str] = []
    real_merge, real_pair = pgsql._merge, pgsql._update_then_insert

    def merge(cur: Any, job: Any) -> tuple[int, int, int]:
        used.append("merge")
        return real_merge(cur, job)

    def pair(cur: Any, job: Any) -> tuple[int, int, int]:
        used.append("pair")
        return real_pair(cur, job)

    monkeypatch.setattr(pgsql, "_merge", merge)
    monkeypatch.setattr(pgsql, "_update_then_insert", pair)
    return used


@pytest.fixture(params=["merge", "pair"])
def merge_path(
    request: pytest.FixtureRequest, db: str, monkeypatch: pytest.MonkeyPatch, merges: list[str]
) -> Iterator[str]:
    """Both upsert statements: MERGE, and the UPDATE + INSERT pair a server without usable
    per-transaction counters gets (track_counts off, set for every connection via libpq)."""
    if request.param == "pair":
        monkeypatch.setenv("PGOPTIONS", "-c track_counts=off")
    yield str(request.param)
    assert merges and set(merges) == {request.param}


def test_upsert_counts_identical_rows_as_updated_but_does_not_rewrite_them(
    db: str, tmp_path: Path, merge_path: str
) -> None:
    a = write(tmp_path / "a.csv", "id,name,score", ["1,ann,10", "2,bob,", "3,cy,-0.0"])
    b = write(tmp_path / "b.csv", "id,name,score", ["1,ann,10", "2,bob,", "3,cy,0.0", "4,dee,"])
    load(str(a), "--table", "q", "--primary-key", "id")
    before = dict(query(db, "SELECT id, xmin::text FROM q"))

    s = load(str(b), "--table", "q", "--mode", "upsert")
    assert (s["inserted"], s["updated"], s["unchanged"]) == (1, 3, 2)
    assert s["files"][0]["unchanged"] == 2 and balanced(s)
    after = dict(query(db, "SELECT id, xmin::text FROM q"))
    # ids 1 and 2 (NULL = NULL) are the same row versions; -0.0 -> 0.0 is a change and rewritten
    assert after[1] == before[1] and after[2] == before[2] and after[3] != before[3]
    assert query(db, "SELECT id, name, score::text FROM q ORDER BY id") == [
        (1, "ann", "10"),
        (2, "bob", None),
        (3, "cy", "0"),
        (4, "dee", None),
    ]
    # every key there and every row changed: nothing inserted, all four rewritten
    c = write(tmp_path / "c.csv", "id,name,score", ["4,d,4", "3,c,3", "2,b,2", "1,a,1"])
    s = load(str(c), "--table", "q", "--mode", "upsert")
    assert (s["inserted"], s["updated"], s["unchanged"]) == (0, 4, 0)
    assert query(db, "SELECT id, name FROM q ORDER BY id") == [
        (1, "a"),
        (2, "b"),
        (3, "c"),
        (4, "d"),
    ]


def test_rejects_with_line_numbers_on_the_dirty_demo_file(db: str) -> None:
    from csv_to_postgres.demo import DATA

    s = load(
        str(DATA / "customers_dirty.csv"),
        "--model",
        "customers",
        "--header-map",
        "E-mail=email",
        "--max-reject-rate",
        "0.6",
        config=Path(__file__).parent / "dirty.toml",
    )
    assert (s["records_in"], s["inserted"], s["records_rejected"]) == (14, 6, 7)
    assert s["records_skipped"]["duplicate"] == 1 and balanced(s)
    rejects = query(db, "SELECT line, kind, reason, raw FROM c2p_rejects ORDER BY line")
    assert [r[0] for r in rejects] == [5, 6, 7, 11, 12, 13, 15, 17]
    by_line = {r[0]: r for r in rejects}
    assert "signup_date" in by_line[5][2] and by_line[5][3].startswith("4;Müller GmbH")
    assert by_line[12][1] == "duplicate"
    assert "expected 8 fields, found 10" in by_line[15][2]
    assert query(db, "SELECT name FROM customers WHERE customer_id = 7") == [("Multi\nline name",)]
    assert query(db, "SELECT balance FROM customers WHERE customer_id = 1") == [
        (Decimal("1234.50"),)
    ]


def test_same_file_is_a_noop_unless_forced(db: str, tmp_path: Path) -> None:
    f = write(tmp_path / "h.csv", "id,v", ["1,a", "2,b"])
    assert load(str(f), "--table", "h", "--primary-key", "id")["inserted"] == 2
    again = load(str(f), "--table", "h")
    assert again["files_skipped"] == 1 and again["inserted"] == 0
    assert again["records_skipped"] == {"duplicate": 0, "already_loaded": 2} and balanced(again)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(f.read_bytes())
    assert load(str(copy), "--table", "h")["files_skipped"] == 1  # same content, other name
    forced = load(str(f), "--table", "h", "--mode", "upsert", "--force")
    assert forced["updated"] == 2
    statuses = query(
        db, "SELECT status, rows_read, content_hash FROM c2p_loads ORDER BY started_at"
    )
    assert [s[0] for s in statuses] == ["done", "done"]
    assert statuses[0][2] == statuses[1][2] and len(statuses[0][2]) == 64


def test_hostile_headers_are_sanitized_and_quoted(db: str, tmp_path: Path) -> None:
    f = tmp_path / "hostile.csv"
    f.write_text(
        'id,"name"";DROP TABLE c2p_loads;--",select,,Name,"from",user\n1,a,b,c,d,e,g\n',
        encoding="utf-8",
    )
    s = load(str(f), "--table", 'x"; DROP TABLE y; --', "--primary-key", "id")
    assert s["inserted"] == 1
    cols = query(
        db,
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        ("x_drop_table_y",),
    )
    assert [c[0] for c in cols] == [
        "id",
        "name_drop_table_c2p_loads",
        "select",
        "col_4",
        "name",
        "from",
        "user",
    ]
    assert query(db, 'SELECT "select", "from", "user" FROM x_drop_table_y') == [("b", "e", "g")]
    assert query(db, "SELECT count(*) FROM c2p_loads") == [(1,)]


def test_contract_fail_then_evolve(db: str, tmp_path: Path) -> None:
    a = write(tmp_path / "v1.csv", "id,qty", ["1,5"])
    load(str(a), "--table", "inv", "--primary-key", "id")
    b = write(tmp_path / "v2.csv", "id,qty,price", ["2,2.5,9.99"])
    out = load(str(b), "--table", "inv", code=2)
    assert "new column(s) price" in out["stderr"] and "changed column(s) qty" in out["stderr"]
    assert query(db, "SELECT count(*) FROM inv") == [(1,)]
    s = load(str(b), "--table", "inv", "--on-schema-change", "evolve")
    assert s["inserted"] == 1
    types = dict(
        query(
            db,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name='inv'",
        )
    )
    assert types == {"id": "bigint", "qty": "double precision", "price": "double precision"}
    assert query(db, "SELECT id, qty, price FROM inv ORDER BY id") == [
        (1, 5.0, None),
        (2, 2.5, 9.99),
    ]


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CSV_TO_POSTGRES_DATABASE_URL", "postgresql://u:hunter2@127.0.0.1:1/x")
    f = write(tmp_path / "u.csv", "id", ["1"])
    out = load(str(f), "--table", "u", code=1)
    err = out["stderr"].strip().splitlines()
    assert err[-1].startswith("error: postgresql unreachable at 127.0.0.1:1")
    assert "hunter2" not in out["stderr"]


def test_glob_of_gzip_files_each_its_own_audited_load(db: str, tmp_path: Path) -> None:
    import gzip

    for n in range(3):
        with gzip.open(tmp_path / f"part-{n}.csv.gz", "wt", encoding="utf-8") as fh:
            fh.write("id;v\n" + "".join(f"{n * 100 + i};x{i}\n" for i in range(100)))
    s = load(str(tmp_path / "part-*.csv.gz"), "--table", "parts", "--primary-key", "id")
    assert (s["files_loaded"], s["inserted"]) == (3, 300) and balanced(s)
    assert query(db, "SELECT count(*), count(DISTINCT id) FROM parts") == [(300, 300)]
    assert query(db, "SELECT count(*) FROM c2p_loads WHERE status = 'done'") == [(3,)]


def test_parallel_files_use_separate_pooled_connections(db: str, tmp_path: Path) -> None:
    for n in range(4):
        write(tmp_path / f"p{n}.csv", "id,v", [f"{n * 1000 + i},v" for i in range(1000)])
    load(
        str(write(tmp_path / "seed.csv", "id,v", ["-1,seed"])),
        "--table",
        "par",
        "--primary-key",
        "id",
    )
    s = load(str(tmp_path / "p?.csv"), "--table", "par", "--parallel", "3")
    assert (s["files_loaded"], s["inserted"]) == (4, 4000)
    assert query(db, "SELECT count(*) FROM par") == [(4001,)]


def test_upsert_moving_a_unique_value_between_rows_falls_back_to_update_first(
    db: str, tmp_path: Path, merges: list[str]
) -> None:
    # MERGE would insert id 2 with a@x before updating id 1 away from it: a unique violation
    # half-way. The pair updates first, so the same file loads.
    execute(db, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE)")
    execute(db, "INSERT INTO users VALUES (1, 'a@x')")
    f = write(tmp_path / "users.csv", "id,email", ["2,a@x", "1,b@x"])
    s = load(str(f), "--table", "users", "--mode", "upsert")
    assert (s["inserted"], s["updated"], s["unchanged"]) == (1, 1, 0)
    assert query(db, "SELECT id, email FROM users ORDER BY id") == [(1, "b@x"), (2, "a@x")]
    assert merges == ["merge", "pair"]


@pytest.mark.parametrize(
    "ddl",
    [
        [
            "CREATE TABLE parted (id INTEGER PRIMARY KEY, v TEXT) PARTITION BY RANGE (id)",
            "CREATE TABLE parted_lo PARTITION OF parted FOR VALUES FROM (0) TO (100)",
            "CREATE TABLE parted_hi PARTITION OF parted FOR VALUES FROM (100) TO (1000)",
        ],
        [
            "CREATE TABLE parted (id INTEGER PRIMARY KEY, v TEXT)",
            "CREATE TABLE parted_child () INHERITS (parted)",
        ],
    ],
    ids=["partitioned", "inheritance-parent"],
)
def test_upsert_into_tables_whose_counters_live_on_children(
    db: str, tmp_path: Path, merges: list[str], ddl: list[str]
) -> None:
    for statement in ddl:
        execute(db, statement)
    execute(db, "INSERT INTO parted VALUES (5, 'old'), (150, 'old')")
    f = write(tmp_path / "parted.csv", "id,v", ["5,new", "150,old", "151,new"])
    s = load(str(f), "--table", "parted", "--mode", "upsert")
    assert (s["inserted"], s["updated"], s["unchanged"]) == (1, 2, 1)
    assert query(db, "SELECT id, v FROM parted ORDER BY id") == [
        (5, "new"),
        (150, "old"),
        (151, "new"),
    ]
    assert merges == ["pair"]


def test_minus_zero_and_zero_are_one_key(db: str, tmp_path: Path) -> None:
    execute(db, "CREATE TABLE fk (k DOUBLE PRECISION PRIMARY KEY, v TEXT)")
    execute(db, "INSERT INTO fk VALUES (0, 'a')")
    f = write(tmp_path / "fk.csv", "k,v", ["-0.0,b", "0.0,c"])
    s = load(str(f), "--table", "fk", "--mode", "upsert")
    # first occurrence wins within a load, as for any other duplicate key
    assert (s["inserted"], s["updated"], s["records_skipped"]["duplicate"]) == (0, 1, 1)
    assert query(db, "SELECT v FROM fk") == [("b",)]


EUROPEAN = (
    "id;name;amount;total;qty\n"
    "1;Müller, Jürgen;2202,72;1.234,56;1.234\n"
    '2;"Café; ""Bar""";-0,50;999,99;7\n'
    "3;Zoë;15;12;12\n"
).encode("latin-1")


def test_european_file_inferred_with_no_options(db: str, tmp_path: Path) -> None:
    f = tmp_path / "eu.csv"
    f.write_bytes(EUROPEAN)
    s = load(str(f), "--table", "eu", "--primary-key", "id")
    assert (s["inserted"], s["records_rejected"]) == (3, 0)
    types = dict(
        query(
            db,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name='eu'",
        )
    )
    assert types["amount"] == types["total"] == "double precision" and types["qty"] == "bigint"
    assert query(db, "SELECT name, amount, total, qty FROM eu ORDER BY id") == [
        ("Müller, Jürgen", 2202.72, 1234.56, 1234),
        ('Café; "Bar"', -0.5, 999.99, 7),
        ("Zoë", 15.0, 12.0, 12),
    ]


def test_european_file_into_a_table_created_beforehand(db: str, tmp_path: Path) -> None:
    execute(
        db,
        "CREATE TABLE eu (id BIGINT PRIMARY KEY, name TEXT, amount NUMERIC(12, 2), "
        "total NUMERIC(12, 2), qty BIGINT)",
    )
    f = tmp_path / "eu.csv"
    f.write_bytes(EUROPEAN)
    s = load(str(f), "--table", "eu")
    assert (s["inserted"], s["records_rejected"]) == (3, 0)
    assert query(db, "SELECT amount, total, qty FROM eu ORDER BY id") == [
        (Decimal("2202.72"), Decimal("1234.56"), 1234),
        (Decimal("-0.50"), Decimal("999.99"), 7),
        (Decimal("15.00"), Decimal("12.00"), 12),
    ]
    # a decimal comma into an integer column is a reject with its reason, never 220272
    execute(db, "CREATE TABLE eu_int (id BIGINT PRIMARY KEY, amount BIGINT)")
    g = tmp_path / "eu_int.csv"
    g.write_bytes(b"id;amount\n1;2202,72\n2;2202\n")
    s = load(str(g), "--table", "eu_int", "--max-reject-rate", "0.5")
    assert (s["inserted"], s["records_rejected"]) == (1, 1)
    assert query(db, "SELECT id, amount FROM eu_int") == [(2, 2202)]
    assert query(db, "SELECT line, reason FROM c2p_rejects") == [
        (
            2,
            "amount: not an integer in int64 range (decimal mark ',', thousands '.' only "
            "between groups of three digits): '2202,72'",
        )
    ]
