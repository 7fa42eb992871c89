"""The lake layout: /lake/<dataset>/dt=YYYY-MM-DD/part-*.parquet, and where compaction stages."""

from __future__ import annotations

from dataclasses import dataclass

from hdfs_hive.config import HdfsHiveSettings
from hdfs_hive.identifiers import dt_of, identifier
from hdfs_hive.webhdfs import Hdfs, join


@dataclass(frozen=True)
class Dataset:
    """One dataset's folder in HDFS and its Hive table."""

    root: str
    database: str
    table: str

    def partition(self, dt: str) -> str:
        """The canonical folder of a partition."""
        return join(self.root, f"dt={dt}")

    def staging(self, dt: str) -> str:
        """Where compacted generations of a partition live: '_' makes readers and MSCK skip it."""
        return join(self.root, "_compacted", f"dt={dt}")


def dataset(settings: HdfsHiveSettings, name: str, table: str | None = None) -> Dataset:
    """The dataset named `name` (validated: it becomes a folder and a table name)."""
    identifier(name, "dataset")
    identifier(settings.database, "database")
    identifier(table or name, "table")
    return Dataset(join(settings.lake_root, name), settings.database, (table or name).lower())


def visible(name: str) -> bool:
    """Whether readers (Hive, Spark) see a file or folder with this name."""
    return not name.startswith((".", "_"))


def partition_folders(hdfs: Hdfs, ds: Dataset) -> tuple[dict[str, str], list[str]]:
    """The dt= folders under the dataset ({dt: path}) and the visible folders that are not one."""
    found: dict[str, str] = {}
    odd: list[str] = []
    for name, status in hdfs.list_dir(ds.root):
        if status.get("type") != "DIRECTORY" or not visible(name):
            continue
        dt = dt_of(name)
        if dt is None:
            odd.append(join(ds.root, name))
        else:
            found[dt] = join(ds.root, name)
    return found, odd


def data_files(hdfs: Hdfs, folder: str) -> list[tuple[str, int]]:
    """(path, size) of the visible Parquet files in a folder."""
    return [
        (join(folder, name), int(status.get("length", 0)))
        for name, status in sorted(hdfs.list_dir(folder))
        if status.get("type") == "FILE" and visible(name) and name.endswith(".parquet")
    ]
