"""`load`: one hour of Parquet swapped into its partition; reruns replace it, crashes leave no mix."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from de_services.testing import fault_env

from .conftest import Lake

pytestmark = pytest.mark.integration

DT = "2026-11-30"
KILLED = -9


def _hour(folder: Path, day: str, hour: int, rows_per_file: list[int], seed: int) -> Path:
    """log_analyzer's layout: <folder>/date=DAY/part-N.parquet, plus a _SUCCESS marker."""
    out = folder / f"date={day}"
    out.mkdir(parents=True)
    base = int(datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp())
    for n, rows in enumerate(rows_per_file):
        ts = [base + (i * 7 + seed) % 3600 for i in range(rows)]
        table = pa.table(
            {
                "ts": pa.array(ts, pa.int64()),
                "ip": pa.array([f"10.0.{seed}.{i % 250}" for i in range(rows)], pa.large_string()),
                "status": pa.array([200 + (i + seed) % 3 for i in range(rows)], pa.int16()),
                "bytes": pa.array([seed * 1000 + i for i in range(rows)], pa.int64()),
                "timestamp": pa.array(ts, pa.timestamp("s", tz="UTC")),
            }
        )
        pq.write_table(table, out / f"part-{n:05d}.parquet", compression="zstd")
    (out / "_SUCCESS").write_text("")
    return folder


def _load(lake: Lake, src: Path, hour: str, *extra: str) -> dict[str, object]:
    return lake.ok(
        "load", str(src), "--dataset", "logs", "--partition", f"dt={DT}/hour={hour}", *extra
    )


def _hour_totals(lake: Lake, hour: str) -> tuple[int, int]:
    rows = lake.sql(
        f"SELECT count(*), coalesce(sum(`bytes`), 0) FROM `{lake.database}`.logs "
        "WHERE dt = %(dt)s AND hour = %(hour)s",
        {"dt": DT, "hour": hour},
    )
    return int(rows[0][0]), int(rows[0][1])


def _expected(rows_per_file: list[int], seed: int) -> tuple[int, int]:
    return sum(rows_per_file), sum(seed * 1000 * r + r * (r - 1) // 2 for r in rows_per_file)


def _generations(lake: Lake, hour: str) -> list[str]:
    folder = f"{lake.root}/logs/_loads/dt={DT}/hour={hour}"
    return sorted(lake.hdfs.list(folder)) if lake.hdfs.status(folder, strict=False) else []


def _leftovers(lake: Lake) -> list[str]:
    """Every temporary upload file anywhere under the dataset."""
    found = []
    for folder, _, files in lake.hdfs.walk(f"{lake.root}/logs"):
        found += [f"{folder}/{f}" for f in files if f.endswith(".uploading")]
    return found


def test_an_hour_is_loaded_and_counted_through_hive(lake: Lake, tmp_path: Path) -> None:
    src = _hour(tmp_path / "h13", DT, 13, [100, 50, 25], seed=1)
    summary = _load(lake, src, "13")

    assert _hour_totals(lake, "13") == _expected([100, 50, 25], 1)
    assert summary["table"] == f"{lake.database}.logs"
    assert summary["partition"] == f"dt={DT}/hour=13"
    assert summary["files"] == 3
    assert summary["rows"] == 175
    parts = sorted((src / f"date={DT}").glob("*.parquet"))
    assert summary["bytes"] == sum(p.stat().st_size for p in parts)
    assert summary["action"] == "loaded"
    # Files are the records: 3 loaded + the _SUCCESS marker skipped.
    assert summary["records_in"] == 4
    assert summary["records_out"] == 3
    assert summary["records_skipped"] == {"hidden": 1, "unchanged": 0}
    location = str(summary["location"])
    assert location.startswith(f"{lake.root}/logs/_loads/dt={DT}/hour=13/")
    assert sorted(lake.hdfs.list(location)) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    assert lake.sql(f"SHOW PARTITIONS `{lake.database}`.logs") == [(f"dt={DT}/hour=13",)]


def test_a_rerun_replaces_exactly_that_hour(lake: Lake, tmp_path: Path) -> None:
    first = _load(lake, _hour(tmp_path / "a", DT, 13, [100, 50, 25], seed=1), "13")
    _load(lake, _hour(tmp_path / "b", DT, 14, [40], seed=2), "14")
    other = _hour_totals(lake, "14")

    new = _hour(tmp_path / "c", DT, 13, [30, 12], seed=3)
    second = _load(lake, new, "13")
    assert second["action"] == "replaced"
    assert second["previous_location"] == first["location"]
    assert _hour_totals(lake, "13") == _expected([30, 12], 3)
    assert _hour_totals(lake, "14") == other == _expected([40], 2)
    assert lake.hdfs.status(str(first["location"]), strict=False) is None
    assert _generations(lake, "13") == [str(second["location"]).rsplit("/", 1)[1]]

    # The same input again: nothing changes, not even the location.
    again = _load(lake, new, "13")
    assert again["action"] == "unchanged"
    assert again["location"] == second["location"]
    assert again["records_out"] == 0
    assert again["records_skipped"] == {"hidden": 1, "unchanged": 2}
    assert _hour_totals(lake, "13") == _expected([30, 12], 3)
    assert len(lake.sql(f"SHOW PARTITIONS `{lake.database}`.logs")) == 2


@pytest.mark.parametrize("point", ["put.mid_file", "load.before_swap", "load.after_swap"])
def test_a_load_killed_midway_then_rerun_ends_clean(lake: Lake, tmp_path: Path, point: str) -> None:
    old = _expected([100, 50], 1)
    new = _expected([30, 12, 7], 3)
    _load(lake, _hour(tmp_path / "a", DT, 13, [100, 50], seed=1), "13")
    _load(lake, _hour(tmp_path / "b", DT, 14, [40], seed=2), "14")
    src = _hour(tmp_path / "c", DT, 13, [30, 12, 7], seed=3)
    args = ("load", str(src), "--dataset", "logs", "--partition", f"dt={DT}/hour=13", "--json")

    killed = lake.cli(*args, env=fault_env(point))
    assert killed.returncode == KILLED, killed.stderr
    # Right after the kill a reader sees the old hour or the new one, never a mix or both.
    assert _hour_totals(lake, "13") == (new if point == "load.after_swap" else old)

    rerun = lake.ok(*args[:-1])
    assert _hour_totals(lake, "13") == new
    assert _hour_totals(lake, "14") == _expected([40], 2)
    assert _generations(lake, "13") == [str(rerun["location"]).rsplit("/", 1)[1]]
    assert _leftovers(lake) == []
    assert sorted(lake.hdfs.list(str(rerun["location"]))) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]


def test_files_of_another_day_refuse_the_load_and_leave_the_hour_alone(
    lake: Lake, tmp_path: Path
) -> None:
    _load(lake, _hour(tmp_path / "a", DT, 13, [20], seed=1), "13")
    src = _hour(tmp_path / "c", DT, 13, [30], seed=3)
    _hour(src, "2026-11-29", 13, [5], seed=4)

    res = lake.cli(
        "load", str(src), "--dataset", "logs", "--partition", f"dt={DT}/hour=13", "--json"
    )
    assert res.returncode == 1, res.stdout + res.stderr
    summary = json.loads(res.stdout)
    assert summary["records_in"] == summary["records_rejected"] + sum(
        summary["records_skipped"].values()
    )
    assert summary["records_rejected"] == 1
    rejects = [
        json.loads(line) for line in Path(lake.env["HDFS_HIVE_QUARANTINE"]).read_text().splitlines()
    ]
    assert [Path(r["input"]).parent.name for r in rejects] == ["date=2026-11-29"]
    assert _hour_totals(lake, "13") == _expected([20], 1)


def test_a_hostile_partition_spec_is_refused_before_any_statement(
    lake: Lake, tmp_path: Path
) -> None:
    src = _hour(tmp_path / "a", DT, 13, [20], seed=1)
    for spec in (f"dt={DT}/hour=13' OR '1'='1", f"dt={DT}/`hour`=13", "dt=2026-02-30/hour=13"):
        res = lake.cli("load", str(src), "--dataset", "logs", "--partition", spec)
        assert res.returncode == 2, res.stderr
        assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    hostile_table = ("--partition", f"dt={DT}/hour=13", "--table", "logs; DROP TABLE x")
    res = lake.cli("load", str(src), "--dataset", "logs", *hostile_table)
    assert res.returncode == 2 and "invalid table" in res.stderr, res.stderr
    assert lake.sql("SHOW DATABASES LIKE %(db)s", {"db": lake.database}) == []
