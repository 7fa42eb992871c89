"""Retention: partitions older than N days go from Hive and HDFS together.

Hive first, then HDFS: once the partition is dropped no reader can reach the files, and a crash
between the two leaves only a folder the next run still finds (it lists HDFS too) and deletes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from de_common.faults import fault_point
from hdfs_hive.catalog import Catalog
from hdfs_hive.lake import Dataset, partition_folders
from hdfs_hive.webhdfs import Hdfs


@dataclass(frozen=True)
class Swept:
    """The partitions seen and the ones dropped."""

    seen: list[str]
    dropped: list[str]


def expired(dts: set[str], as_of: date, days: int) -> list[str]:
    """The dt values strictly older than `days` days before `as_of`."""
    cutoff = as_of - timedelta(days=days)
    return sorted(dt for dt in dts if date.fromisoformat(dt) < cutoff)


def sweep(hdfs: Hdfs, catalog: Catalog, ds: Dataset, as_of: date, days: int) -> Swept:
    """Drop every expired partition from Hive, then delete its folders from HDFS."""
    folders, _ = partition_folders(hdfs, ds)
    registered = set(catalog.partitions(ds.database, ds.table))
    seen = set(folders) | registered
    dropped = expired(seen, as_of, days)
    for dt in dropped:
        location = (
            catalog.partition_location(ds.database, ds.table, dt) if dt in registered else None
        )
        catalog.drop_partition(ds.database, ds.table, dt)
        fault_point("retention.after_drop")
        for folder in {ds.partition(dt), ds.staging(dt), *([location] if location else [])}:
            hdfs.delete(folder, recursive=True)
    return Swept(sorted(seen), dropped)
