"""The content-hash skip is tied to the target: the same table (its OID), the same storage (not
truncated or rewritten) and, while cheap to count, at least the rows the load stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import balanced, execute, load, query, write

pytestmark = pytest.mark.integration


def _identity(url: str, table: str) -> tuple[Any, ...]:
    (row,) = query(
        url,
        "SELECT oid::bigint, relfilenode::bigint FROM pg_class WHERE oid = to_regclass(%s)",
        (table,),
    )
    return row


def _again(path: Path, *args: str) -> dict[str, Any]:
    """Load the file again; the one file's entry of the summary."""
    s = load(str(path), "--table", "h", *args)
    assert balanced(s)
    entry: dict[str, Any] = s["files"][0]
    return entry


def test_skip_needs_the_same_table_still_holding_the_load(db: str, tmp_path: Path) -> None:
    f = write(tmp_path / "h.csv", "id,v", ["1,a", "2,b"])
    assert load(str(f), "--table", "h", "--primary-key", "id")["inserted"] == 2
    recorded = query(db, "SELECT target_oid, target_storage FROM c2p_loads")
    oid, node = _identity(db, "h")
    assert recorded == [(oid, f"{oid}:{node}")]
    assert _again(f)["status"] == "skipped"

    # dropped and created again with the same name and columns: a new OID, so it loads again
    execute(db, "DROP TABLE h")
    execute(db, "CREATE TABLE h (id BIGINT PRIMARY KEY, v TEXT)")
    entry = _again(f)
    assert (entry["status"], entry["inserted"]) == ("done", 2)
    assert "dropped and created again since: loaded again" in entry["message"]
    assert query(db, "SELECT count(*) FROM h") == [(2,)]
    assert _again(f)["status"] == "skipped"

    # truncated: the same OID, a new relfilenode
    before = _identity(db, "h")
    execute(db, "TRUNCATE h")
    assert _identity(db, "h")[0] == before[0] and _identity(db, "h")[1] != before[1]
    entry = _again(f)
    assert entry["status"] == "done" and "truncated or rewritten" in entry["message"]
    assert query(db, "SELECT id, v FROM h ORDER BY id") == [(1, "a"), (2, "b")]

    # rows deleted: the same storage, but fewer rows than the load stored (counted: small table)
    execute(db, "DELETE FROM h WHERE id = 1")
    entry = _again(f, "--mode", "upsert")
    assert (entry["status"], entry["inserted"], entry["updated"]) == ("done", 1, 1)
    assert "holds 1 rows, fewer than the 2 that load stored" in entry["message"]

    # more rows than the load stored, same table: still held
    execute(db, "INSERT INTO h VALUES (3, 'c')")
    assert _again(f)["status"] == "skipped"

    # gone altogether: created and loaded
    execute(db, "DROP TABLE h")
    entry = _again(f, "--primary-key", "id")
    assert entry["status"] == "done" and entry["created_table"] is True
    assert "no longer exists" in entry["message"]


def test_replace_by_another_file_means_the_first_loads_again(db: str, tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "id,v", ["1,a"])
    b = write(tmp_path / "b.csv", "id,v", ["2,b"])
    load(str(a), "--table", "h", "--primary-key", "id", "--mode", "replace")
    load(str(b), "--table", "h", "--mode", "replace")  # swaps in a new table: a new OID
    entry = _again(a, "--mode", "replace")
    assert entry["status"] == "done" and "dropped and created again" in entry["message"]
    assert query(db, "SELECT id FROM h") == [(1,)]


def test_the_loaders_own_rewrite_keeps_earlier_loads_held(db: str, tmp_path: Path) -> None:
    v1 = write(tmp_path / "v1.csv", "id,qty", ["1,5"])
    load(str(v1), "--table", "h", "--primary-key", "id")
    before = _identity(db, "h")
    v2 = write(tmp_path / "v2.csv", "id,qty", ["2,2.5"])
    load(str(v2), "--table", "h", "--on-schema-change", "evolve")  # qty INTEGER -> DOUBLE
    after = _identity(db, "h")
    assert after[0] == before[0] and after[1] != before[1]  # ALTER ... TYPE rewrote the table
    assert _again(v1)["status"] == "skipped"  # its rows are still there, widened
    assert _again(v2)["status"] == "skipped"


def test_audit_rows_of_an_older_version_do_not_skip(db: str, tmp_path: Path) -> None:
    f = write(tmp_path / "h.csv", "id,v", ["1,a"])
    load(str(f), "--table", "h", "--primary-key", "id")
    # the audit table as an earlier release created it: no identity columns
    execute(db, "ALTER TABLE c2p_loads DROP COLUMN target_oid, DROP COLUMN target_storage")
    entry = _again(f, "--mode", "upsert")  # the columns come back; that row cannot prove it
    assert entry["status"] == "done" and "recorded no table identity" in entry["message"]
    assert _again(f)["status"] == "skipped"


def test_the_hash_tells_apart_files_of_the_same_size(db: str, tmp_path: Path) -> None:
    """A load starts before its file is hashed unless the table had a load of a file of the
    same size; then the hash decides. Either way the audit records both."""
    a = write(tmp_path / "a.csv", "id,v", ["1,a"])
    b = write(tmp_path / "b.csv", "id,v", ["2,b"])
    assert a.stat().st_size == b.stat().st_size
    load(str(a), "--table", "h", "--primary-key", "id")
    assert _again(b)["status"] == "done"
    assert _again(a)["status"] == "skipped"
    rows = query(db, "SELECT content_bytes, content_hash FROM c2p_loads ORDER BY started_at")
    assert [size for size, _ in rows] == [a.stat().st_size] * 2
    assert rows[0][1] != rows[1][1] and all(len(digest) == 64 for _, digest in rows)
