"""Load one partition (e.g. an hour) by swapping in a fresh folder: a rerun replaces, never adds.

1. the local Parquet files are uploaded (verified, atomic per file) into a new generation folder
   `<dataset>/_loads/dt=D/hour=H/<gen>/` ('_' hides it from readers and MSCK);
2. the partition is added at, or moved to, the new generation: one metastore update, so a reader
   sees the old hour or the new hour, never a mix or both;
3. every other generation of that partition, and the folder it pointed at before, is deleted.
The generation path is always new (the Spark Thrift Server caches file listings per path and per
session, see compaction.py). A crash before 2 leaves an unreferenced generation, a crash after it
an old folder: the next run of the same partition deletes both. A rerun whose files equal the ones
the partition already holds (names, sizes, HDFS checksums) changes nothing.
"""

from __future__ import annotations

import posixpath
import uuid
from dataclasses import dataclass

from de_common.errors import JobError
from de_common.faults import fault_point
from hdfs_hive import uploads
from hdfs_hive.catalog import Catalog
from hdfs_hive.checksum import file_checksum
from hdfs_hive.lake import Dataset, data_files
from hdfs_hive.partition_spec import PartitionSpec
from hdfs_hive.planning import Planned
from hdfs_hive.webhdfs import Hdfs, join

LOADS = "_loads"


@dataclass(frozen=True)
class Swap:
    """What the load did to the partition."""

    action: str  # "loaded" | "replaced" | "unchanged"
    location: str
    previous: str | None


def generations(ds: Dataset, spec: PartitionSpec) -> str:
    """The folder holding a partition's load generations."""
    return join(ds.root, LOADS, spec.path)


def _same_files(hdfs: Hdfs, location: str, files: list[Planned]) -> bool:
    """Whether the folder holds exactly these files: names, sizes and HDFS checksums."""
    present = {posixpath.basename(path): size for path, size in data_files(hdfs, location)}
    wanted = {posixpath.basename(f.remote): f for f in files}
    if present.keys() != wanted.keys():
        return False
    for name, item in wanted.items():
        if present[name] != item.size:
            return False
        if hdfs.checksum_md5(join(location, name)) != file_checksum(item.local, uploads.BLOCK_SIZE):
            return False
    return True


def _settle(hdfs: Hdfs, ds: Dataset, spec: PartitionSpec, keep: str | None) -> None:
    """Delete every generation of the partition except `keep` (leftovers of crashed runs)."""
    home = generations(ds, spec)
    for name, _ in hdfs.list_dir(home):
        folder = join(home, name)
        if folder != keep:
            hdfs.delete(folder, recursive=True)


def _owned(ds: Dataset, folder: str) -> bool:
    """Whether a folder is inside the dataset (and not its root): only those are ever deleted."""
    return folder.startswith(ds.root + "/") and folder.rstrip("/") != ds.root


def swap_in(
    hdfs: Hdfs,
    catalog: Catalog,
    ds: Dataset,
    spec: PartitionSpec,
    planned: list[Planned],
    workers: int,
) -> Swap:
    """Upload the files (only their remote names matter) into a new generation, swap it in."""
    current = catalog.location_of(ds.database, ds.table, spec)
    current = current.rstrip("/") if current else None
    _settle(hdfs, ds, spec, current)
    if current is not None and _same_files(hdfs, current, planned):
        return Swap("unchanged", current, current)
    generation = join(generations(ds, spec), uuid.uuid4().hex[:12])
    targets = [
        Planned(p.local, join(generation, posixpath.basename(p.remote)), p.size) for p in planned
    ]
    batch = uploads.upload_all(hdfs, targets, uploads.UploadOptions(False, workers))
    if batch.error is not None:
        raise batch.error
    refused = [r for r in batch.results if r.outcome != "uploaded"]
    if refused or len(batch.results) != len(targets):
        raise JobError(f"upload into {generation} incomplete: {refused[:1]}")
    fault_point("load.before_swap")
    if current is None:
        catalog.add_partition(ds.database, ds.table, spec, generation)
    else:
        catalog.move_partition(ds.database, ds.table, spec, generation)
    fault_point("load.after_swap")
    _settle(hdfs, ds, spec, generation)
    if current is not None and _owned(ds, current):
        # A folder the partition used before loads managed it (e.g. the canonical dt=/hour=).
        hdfs.delete(current, recursive=True)
    return Swap("replaced" if current is not None else "loaded", generation, current)
