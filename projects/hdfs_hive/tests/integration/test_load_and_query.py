"""Upload -> register -> Hive answers with exactly the local data; reruns are no-ops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as pads
import pytest
from hdfs_hive.checksum import file_checksum, remote_md5

from .conftest import Lake

pytestmark = pytest.mark.integration


def _local_totals(folder: Path) -> dict[str, tuple[int, float]]:
    ds = pads.dataset(folder, format="parquet", partitioning="hive")
    table = ds.to_table()
    out = {}
    for dt in sorted(set(table.column("dt").to_pylist())):
        part = table.filter(pc.equal(table.column("dt"), dt))
        out[str(dt)] = (part.num_rows, round(pc.sum(part.column("amount")).as_py(), 2))
    return out


def test_put_register_query_equals_the_local_data(
    lake: Lake, generated: Callable[..., Path]
) -> None:
    data = generated(days=3, files=5, rows=400)
    files = sorted(data.rglob("*.parquet"))

    put = lake.ok("put", str(data), "--dataset", "events")
    assert (put["records_in"], put["records_out"]) == (len(files), len(files))
    assert put["bytes_uploaded"] == sum(f.stat().st_size for f in files)
    for f in files:
        remote = f"{lake.root}/events/{f.parent.name}/{f.name}"
        status = lake.hdfs.status(remote)
        assert status["length"] == f.stat().st_size
        assert remote_md5(lake.hdfs.checksum(remote)) == file_checksum(f, status["blockSize"])
    # No temporary file is left beside the final ones.
    for _, _, names in lake.hdfs.walk(f"{lake.root}/events"):
        assert not [n for n in names if n.startswith(".")]

    reg = lake.ok("register", "events")
    assert reg["records_out"] == 3 and reg["partitions"] == sorted(_local_totals(data))

    rows = lake.sql(
        f"SELECT dt, count(*), round(sum(amount), 2) FROM `{lake.database}`.events GROUP BY dt"
    )
    assert {dt: (n, s) for dt, n, s in rows} == _local_totals(data)

    # A second register adds nothing; a second put uploads nothing and rewrites nothing.
    assert lake.ok("register", "events")["records_skipped"] == {"already_registered": 3}
    before = {f: lake.hdfs.status(f"{lake.root}/events/{f.parent.name}/{f.name}") for f in files}
    again = lake.ok("put", str(data), "--dataset", "events")
    assert again["records_out"] == 0 and again["records_skipped"]["unchanged"] == len(files)
    assert again["bytes_uploaded"] == 0
    after = {f: lake.hdfs.status(f"{lake.root}/events/{f.parent.name}/{f.name}") for f in files}
    assert {f: s["fileId"] for f, s in after.items()} == {f: s["fileId"] for f, s in before.items()}


def test_msck_repair_registers_the_same_partitions(
    lake: Lake, generated: Callable[..., Path]
) -> None:
    data = generated(days=2, files=2, rows=100)
    lake.ok("put", str(data), "--dataset", "clicks")
    reg = lake.ok("register", "clicks", "--register-method", "msck")
    assert reg["method"] == "msck" and reg["records_out"] == 2
    (count,) = lake.sql(f"SELECT count(*) FROM `{lake.database}`.clicks")[0]
    assert count == 2 * 2 * 100


def test_a_changed_file_is_rejected_unless_overwrite(
    lake: Lake, generated: Callable[..., Path]
) -> None:
    data = generated(days=1, files=1, rows=100)
    lake.ok("put", str(data), "--dataset", "ev")
    other = generated(days=1, files=1, rows=100, seed=99)
    res = lake.cli("put", str(other), "--dataset", "ev", "--json")
    assert res.returncode == 1 and "rejected" in res.stderr.splitlines()[-1]
    assert "a different file is already" in Path(lake.env["HDFS_HIVE_QUARANTINE"]).read_text()
    replaced = lake.ok("put", str(other), "--dataset", "ev", "--overwrite")
    assert replaced["records_out"] == 1
    (local,) = other.rglob("*.parquet")
    remote = f"{lake.root}/ev/{local.parent.name}/{local.name}"
    assert remote_md5(lake.hdfs.checksum(remote)) == file_checksum(local, 128 * 1024 * 1024)


def test_hostile_parameters_are_harmless_and_hostile_identifiers_refused(
    lake: Lake, generated: Callable[..., Path]
) -> None:
    data = generated(days=1, files=2, rows=300)
    lake.ok("put", str(data), "--dataset", "ev")
    lake.ok("register", "ev")
    table = f"{lake.database}.ev"
    hostile = "x' OR '1'='1"
    res = lake.ok(
        "query", f"SELECT count(*) AS n FROM {table} WHERE user_id = %(u)s", "-p", f"u={hostile}"
    )
    assert res["records_out"] == 1
    assert (
        lake.ok("query", "SELECT %(v)s AS v", "-p", "v=a\\'; DROP TABLE ev; --")["records_out"] == 1
    )
    # The value comes back exactly as given: it was a literal, never SQL.
    echoed = lake.cli("query", "SELECT %(v)s AS v", "-p", "v=it's \\ %(x)s `t`", "--json")
    assert '"v": "it\'s \\\\ %(x)s `t`"' in echoed.stdout
    n_rows = lake.sql(
        f"SELECT count(*) FROM `{lake.database}`.ev WHERE user_id = %(u)s", {"u": hostile}
    )
    assert n_rows == [(0,)]

    for bad in ("ev; DROP TABLE ev", "ev`", "ev --"):
        refused = lake.cli("query", "--table", bad)
        assert refused.returncode == 2 and refused.stderr.strip().splitlines()[-1].startswith(
            "error: "
        )
    assert lake.cli("query", "--table", "ev", "--dt", "2026-11-01' OR '1'='1").returncode == 2
    refused_param = lake.cli("query", "SELECT %(a-b)s", "-p", "a-b=1")
    assert refused_param.returncode == 2

    (count,) = lake.sql(f"SELECT count(*) FROM `{lake.database}`.ev")[0]
    assert count == 600  # the table is intact
    out = Path(lake.env["HDFS_HIVE_QUARANTINE"]).parent / "rows.csv"
    lake.ok(
        "query",
        "--table",
        table,
        "--dt",
        "2026-11-01",
        "--limit",
        "1000",
        "--format",
        "csv",
        "--output",
        str(out),
    )
    assert len(out.read_text().splitlines()) >= 601  # header + rows (a note may hold a newline)
