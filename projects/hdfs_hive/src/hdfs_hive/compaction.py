"""Compaction of one partition's small files, atomic for readers.

A reader follows the partition's LOCATION, and moving it is one metastore update. So:
1. every file of the partition (in its current location, plus files put into the canonical
   `dt=D` folder since an earlier compaction) is merged into a few large files, uploaded verified
   into a new generation folder `<dataset>/_compacted/dt=D/<gen>` with a manifest of its sources;
2. the partition is pointed at the new generation: readers see the same rows, now in fewer files;
3. the merged source files and the previous generation are deleted.
The new generation always has a fresh path: the Spark Thrift Server caches file listings per path
per session, so refilling a folder a reader already listed would hand it files that no longer
exist. A crash before 2 leaves an unreferenced generation (deleted by the next run); a crash
after 2 leaves sources the manifest names (deleted by the next run before it merges anything).
"""

from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from de_common.errors import JobError
from de_common.faults import fault_point
from hdfs_hive.catalog import Catalog
from hdfs_hive.lake import Dataset, data_files
from hdfs_hive.planning import Planned
from hdfs_hive.uploads import upload
from hdfs_hive.webhdfs import Hdfs, join

MANIFEST = "_manifest.json"


@dataclass(frozen=True)
class Compacted:
    """What a compaction did to a partition."""

    action: str  # "compacted" | "skipped"
    files_before: int
    files_after: int
    rows: int
    location: str


@dataclass(frozen=True)
class Plan:
    """Which partition, and how big the merged files may grow."""

    dataset: Dataset
    dt: str
    target_bytes: int
    min_files: int


def merge(hdfs: Hdfs, paths: list[str], out: Path, target_bytes: int) -> tuple[list[Path], int]:
    """Read the files one by one into files rolled at about target_bytes; (files, rows read)."""
    written: list[Path] = []
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    rows = 0
    for path in paths:
        table = pq.read_table(pa.BufferReader(hdfs.read(path)))
        rows += table.num_rows
        if schema is None:
            schema = table.schema
        elif not table.schema.equals(schema):
            raise JobError(f"cannot compact: {path} has another schema than {paths[0]}")
        if writer is None:
            written.append(out / f"part-{len(written):05d}-compacted.parquet")
            writer = pq.ParquetWriter(written[-1], schema, compression="snappy")
        writer.write_table(table)
        if written[-1].stat().st_size >= target_bytes:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()
    return written, rows


def _rows(paths: list[Path]) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)


def _install(hdfs: Hdfs, files: list[Path], folder: str) -> None:
    """Upload the files into folder (verified, atomic per file)."""
    for path in files:
        result = upload(hdfs, Planned(path, join(folder, path.name), path.stat().st_size), True)
        if result.outcome == "rejected":
            raise JobError(f"cannot install compacted file: {result.reason}")


def _manifest(hdfs: Hdfs, generation: str) -> list[str]:
    """The source files a generation was merged from ([] when it has no manifest)."""
    path = join(generation, MANIFEST)
    if hdfs.status(path) is None:
        return []
    sources: list[str] = json.loads(hdfs.read(path))["sources"]
    return sources


def _settle(hdfs: Hdfs, ds: Dataset, dt: str, location: str) -> None:
    """Finish step 3 of any earlier run: its sources and every unreferenced generation go."""
    for source in _manifest(hdfs, location):
        hdfs.delete(source)
    for name, _ in hdfs.list_dir(ds.staging(dt)):
        generation = join(ds.staging(dt), name)
        if generation != location:
            hdfs.delete(generation, recursive=True)


def compact(hdfs: Hdfs, catalog: Catalog, plan: Plan) -> Compacted:
    """Compact one registered partition (finishing whatever a crashed run left)."""
    ds = plan.dataset
    canonical = ds.partition(plan.dt)
    location = catalog.partition_location(ds.database, ds.table, plan.dt)
    if location is None:
        raise JobError(f"partition dt={plan.dt} of {ds.database}.{ds.table} is not registered")
    location = location.rstrip("/")
    _settle(hdfs, ds, plan.dt, location)
    sources = [p for p, _ in data_files(hdfs, location)]
    if location != canonical:
        sources += [p for p, _ in data_files(hdfs, canonical)]
    if len(sources) < plan.min_files:
        return Compacted("skipped", len(sources), len(sources), 0, location)
    with tempfile.TemporaryDirectory(prefix="hdfs_hive-compact-") as tmp:
        merged, rows_in = merge(hdfs, sources, Path(tmp), plan.target_bytes)
        rows_out = _rows(merged)
        if rows_out != rows_in:
            raise JobError(f"compaction read {rows_in} rows but wrote {rows_out}")
        generation = join(ds.staging(plan.dt), uuid.uuid4().hex[:12])
        _install(hdfs, merged, generation)
    hdfs.write(join(generation, MANIFEST), json.dumps({"sources": sources}).encode())
    fault_point("compact.before_swap")
    catalog.set_location(ds.database, ds.table, plan.dt, generation)
    fault_point("compact.after_swap")
    for n, source in enumerate(sources):
        hdfs.delete(source)
        if n == 0:
            fault_point("compact.mid_cleanup")
    if location != canonical:
        hdfs.delete(location, recursive=True)
    return Compacted("compacted", len(sources), len(merged), rows_out, generation)
