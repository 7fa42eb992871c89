"""Planning: folders mirrored, the lake layout enforced, bad files refused with a reason."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hdfs_hive.planning import Target, plan


def _parquet(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"a": [1, 2]}), path)
    return path


def test_a_dataset_folder_keeps_its_dt_layout_and_refuses_the_rest(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _parquet(src / "dt=2026-11-01" / "part-0.parquet")
    _parquet(src / "dt=2026-11-02" / "sub" / "part-1.parquet")
    _parquet(src / "loose.parquet")
    (src / "dt=2026-11-01" / "notes.txt").write_text("x")
    (src / "dt=2026-11-01" / "broken.parquet").write_bytes(b"PAR1 truncated")
    (src / "dt=2026-11-01" / "_SUCCESS").write_text("")
    (src / "dt=2026-11-01" / ".part-0.parquet.crc").write_text("")

    planned, refused = plan([src], Target("/lake/ev", lake=True))

    assert sorted(p.remote for p in planned) == [
        "/lake/ev/dt=2026-11-01/part-0.parquet",
        "/lake/ev/dt=2026-11-02/sub/part-1.parquet",
    ]
    reasons = {r.local.name: r.reason for r in refused}
    assert "dt=YYYY-MM-DD" in reasons["loose.parquet"]
    assert "unsupported" in reasons["notes.txt"]
    assert "not a Parquet file" in reasons["broken.parquet"]
    assert {r.local.name for r in refused if r.skip} == {"_SUCCESS", ".part-0.parquet.crc"}


def test_loose_files_go_into_the_given_partition(tmp_path: Path) -> None:
    a = _parquet(tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text("x,y\n1,2\n")
    planned, refused = plan([a, tmp_path / "b.csv"], Target("/lake/ev", lake=True, dt="2026-11-05"))
    assert not refused
    assert sorted(p.remote for p in planned) == [
        "/lake/ev/dt=2026-11-05/a.parquet",
        "/lake/ev/dt=2026-11-05/b.csv",
    ]


def test_two_inputs_for_one_remote_path_refuse_the_second(tmp_path: Path) -> None:
    a = _parquet(tmp_path / "x" / "p.parquet")
    b = _parquet(tmp_path / "y" / "p.parquet")
    planned, refused = plan([a, b], Target("/data", lake=False))
    assert [p.local for p in planned] == [a]
    assert refused[0].local == b and "/data/p.parquet" in refused[0].reason
