"""The generator is reproducible and messy in the ways the job must handle; windows and conf."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from spark_etl import session
from spark_etl.config import SparkEtlSettings
from spark_etl.generate import Shape, write_landing
from spark_etl.window import DateWindow


def lines(root: Path) -> list[str]:
    out = []
    for csv in sorted(root.glob("trips/dt=*/*.csv")):
        out += csv.read_text().splitlines()[1:]
    return out


def test_the_same_seed_gives_the_same_landing_zone(tmp_path: Path) -> None:
    shape = Shape(rows=3_000, days=3, start=date(2026, 11, 1), seed=5)
    write_landing(tmp_path / "a", shape)
    write_landing(tmp_path / "b", shape)
    assert lines(tmp_path / "a") == lines(tmp_path / "b")
    write_landing(tmp_path / "c", Shape(rows=3_000, days=3, start=date(2026, 11, 1), seed=6))
    assert lines(tmp_path / "c") != lines(tmp_path / "a")


def test_the_landing_zone_is_skewed_late_duplicated_and_messy(tmp_path: Path) -> None:
    write_landing(tmp_path, Shape(rows=20_000, days=2, start=date(2026, 11, 1), seed=1))
    rows = lines(tmp_path)
    assert len(rows) == 20_000
    fields = [r.split(",") for r in rows]
    shaped = [f for f in fields if len(f) == 9]
    assert len(shaped) < len(fields)  # garbage lines and fares with a comma
    ids = [f[0] for f in shaped if f[0]]
    assert len(set(ids)) < len(ids)  # resends
    zones = [f[3] for f in shaped]
    assert zones.count("1") > len(zones) / 10  # one hot pickup zone
    late = [f for f in shaped if f[1][:10] < "2026-11-01"]
    assert late  # landed after their event day
    assert any(f[8] in ("NULL", "N/A", "") for f in shaped)
    assert any(f[7] in ("abc", "NULL", "1.2.3") for f in shaped)


def test_a_window_reads_its_dates_and_the_lateness_after_them() -> None:
    window = DateWindow(date(2026, 11, 3), date(2026, 11, 4), lateness=2)
    assert window.dates() == [date(2026, 11, 3), date(2026, 11, 4)]
    assert window.landing_dates() == [date(2026, 11, d) for d in (3, 4, 5, 6)]


def test_spark_conf_carries_s3_and_packages_but_only_to_the_jvm() -> None:
    settings = SparkEtlSettings(
        s3_endpoint="http://127.0.0.1:25000",
        s3_access_key="key",  # type: ignore[arg-type]
        s3_secret_key="s3cr3t",  # type: ignore[arg-type]
    )
    conf = session.conf(settings, session.packages_for("s3a://bucket/landing", "/tmp/lake"))
    assert conf["spark.jars.packages"] == session.HADOOP_AWS
    assert conf["spark.hadoop.fs.s3a.secret.key"] == "s3cr3t"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.sql.sources.partitionOverwriteMode"] == "dynamic"
    assert conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert "s3cr3t" not in repr(settings)
    assert session.packages_for("/a", "hdfs://nn/b") == []
