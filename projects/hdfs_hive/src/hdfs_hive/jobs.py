"""The jobs: each takes its settings (and inputs) and returns a Summary for the run contract."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from de_common.config import with_overrides
from de_common.durable import write_atomically
from de_common.errors import JobError, UserError
from de_common.inputs import InputMissing
from de_common.run import JobFailed, Summary
from hdfs_hive import uploads, webhdfs
from hdfs_hive.config import HdfsHiveSettings
from hdfs_hive.identifiers import identifier, partition_date, table_name
from hdfs_hive.lake import Dataset, data_files, dataset, partition_folders
from hdfs_hive.partition_spec import PartitionSpec
from hdfs_hive.planning import Planned, Target, plan
from hdfs_hive.telemetry import LoaderMetrics

# Hive (PyHive, Thrift), pyarrow and pandas are imported by the jobs that use them: on a busy
# machine they add seconds to every start, and `put`, the hot path, needs none of them.
if TYPE_CHECKING:
    import pandas as pd

    from hdfs_hive import sample
    from hdfs_hive.catalog import Catalog


def _catalog(settings: HdfsHiveSettings) -> Catalog:
    from hdfs_hive import catalog

    return catalog.connect(settings)


@dataclass(frozen=True)
class PutRequest:
    """What to upload and where: a dataset (optionally one partition) or a plain HDFS folder."""

    sources: list[Path]
    dataset: str | None = None
    dt: str | None = None
    to: str | None = None


def _target(settings: HdfsHiveSettings, req: PutRequest) -> Target:
    if (req.dataset is None) == (req.to is None):
        raise UserError("give exactly one of --dataset NAME or --to HDFS_FOLDER")
    if req.dt is not None:
        partition_date(req.dt)
        if req.dataset is None:
            raise UserError("--dt needs --dataset")
    if req.dataset is not None:
        return Target(dataset(settings, req.dataset).root, lake=True, dt=req.dt)
    assert req.to is not None
    if not req.to.startswith("/"):
        raise UserError(f"--to must be an absolute HDFS path, got {req.to!r}")
    return Target(req.to.rstrip("/") or "/", lake=False)


def _quarantine(settings: HdfsHiveSettings, rows: list[dict[str, str]]) -> None:
    write_atomically(settings.quarantine, "".join(json.dumps(r) + "\n" for r in rows))


def put(
    settings: HdfsHiveSettings, req: PutRequest, metrics: LoaderMetrics | None = None
) -> Summary:
    """Upload files and folders: verified, atomic per file, in parallel; unchanged files skipped."""
    target = _target(settings, req)
    planned, refused = plan(req.sources, target)
    hdfs = webhdfs.connect(settings)
    started = time.perf_counter()
    batch = uploads.upload_all(
        hdfs, planned, uploads.UploadOptions(settings.overwrite, settings.workers)
    )
    elapsed = time.perf_counter() - started
    rejects = [{"input": str(r.local), "reason": r.reason} for r in refused if not r.skip] + [
        {"input": str(r.item.local), "reason": r.reason}
        for r in batch.results
        if r.outcome == "rejected"
    ]
    if metrics is not None:
        for r in batch.results:
            metrics.file(r.outcome, r.item.size)
    uploaded = [r for r in batch.results if r.outcome == "uploaded"]
    moved = sum(r.item.size for r in uploaded)
    hidden = sum(1 for r in refused if r.skip)
    unchanged = sum(1 for r in batch.results if r.outcome == "unchanged")
    _quarantine(settings, rejects)
    summary = Summary(
        records_in=len(uploaded) + unchanged + len(rejects) + hidden,
        records_out=len(uploaded),
        records_rejected=len(rejects),
        records_skipped={"unchanged": unchanged, "hidden": hidden},
        extra={
            "destination": target.root,
            "files_planned": len(planned),
            "bytes_uploaded": moved,
            "mb_per_s": round(moved / 1e6 / elapsed, 2) if elapsed > 0 else 0.0,
            "quarantine": str(settings.quarantine),
        },
    )
    if batch.error is not None:
        not_done = len(planned) - len(batch.results)
        raise JobFailed(f"{batch.error} ({not_done} files not uploaded; rerun to finish)", summary)
    if rejects:
        raise JobFailed(f"{len(rejects)} files rejected, see {settings.quarantine}", summary)
    return summary


def register(settings: HdfsHiveSettings, name: str, table: str | None = None) -> Summary:
    """Create the database and external table if needed, then register every dt= folder."""
    ds = dataset(settings, name, table)
    hdfs = webhdfs.connect(settings)
    folders, odd = partition_folders(hdfs, ds)
    if not folders:
        raise UserError(f"no dt=YYYY-MM-DD folders under {ds.root}: put some data first")
    sample_file = next(
        (files[0][0] for dt in sorted(folders) if (files := data_files(hdfs, folders[dt]))), None
    )
    if sample_file is None:
        raise UserError(f"no Parquet files under {ds.root}")
    from hdfs_hive.schema import columns_ddl, remote_schema

    columns = columns_ddl(remote_schema(hdfs, sample_file))
    catalog = _catalog(settings)
    try:
        catalog.ensure_table(ds.database, ds.table, columns, ds.root)
        before = set(catalog.partitions(ds.database, ds.table))
        new = {dt: path for dt, path in folders.items() if dt not in before}
        if settings.register_method == "msck":
            catalog.repair(ds.database, ds.table)
        else:
            catalog.add_partitions(ds.database, ds.table, new)
        after = set(catalog.partitions(ds.database, ds.table))
    finally:
        catalog.close()
    missing = sorted(set(folders) - after)
    if missing:
        raise JobError(f"partitions not registered after {settings.register_method}: {missing}")
    _quarantine(settings, [{"input": p, "reason": "not a dt=YYYY-MM-DD folder"} for p in odd])
    return Summary(
        records_in=len(folders) + len(odd),
        records_out=len(new),
        records_rejected=len(odd),
        records_skipped={"already_registered": len(folders) - len(new)},
        extra={
            "table": f"{ds.database}.{ds.table}",
            "location": ds.root,
            "method": settings.register_method,
            "partitions": sorted(after),
        },
    )


@dataclass
class QueryRequest:
    """Either SQL with named parameters, or a table (validated) with an optional dt filter."""

    sql: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    table: str | None = None
    dt: str | None = None
    limit: int = 100


def _statement(settings: HdfsHiveSettings, req: QueryRequest) -> tuple[str, dict[str, str]]:
    if (req.sql is None) == (req.table is None):
        raise UserError("give either SQL or --table")
    if req.sql is not None:
        return req.sql, dict(req.params)
    assert req.table is not None
    database, _, table = req.table.rpartition(".")
    name = table_name(database or settings.database, table)
    params: dict[str, str] = {}
    where = ""
    if req.dt is not None:
        partition_date(req.dt)
        where, params["dt"] = " WHERE dt = %(dt)s", req.dt
    # Identifiers passed table_name(); the dt value is a parameter; the limit an int.
    return f"SELECT * FROM {name}{where} LIMIT {int(req.limit)}", params  # noqa: S608


def run_query(settings: HdfsHiveSettings, req: QueryRequest) -> pd.DataFrame:
    """The query's rows as a DataFrame; values only ever as parameters."""
    sql, params = _statement(settings, req)
    for key in params:
        identifier(key, "parameter name")
    catalog = _catalog(settings)
    try:
        return catalog.frame(sql, params or None)
    finally:
        catalog.close()


def query(
    settings: HdfsHiveSettings, req: QueryRequest, output: Path | None, holder: list[pd.DataFrame]
) -> Summary:
    """Run a query; CSV to `output` when given; the frame is left in `holder` for rendering."""
    frame = run_query(settings, req)
    holder.append(frame)
    extra: dict[str, object] = {"columns": [str(c) for c in frame.columns]}
    if output is not None:
        write_atomically(output, frame.to_csv(index=False))
        extra["output"] = str(output)
    return Summary(
        records_in=len(frame),
        records_out=len(frame),
        extra=extra,
        details={"rows": json.loads(frame.to_json(orient="records", date_format="iso"))},
    )


def compact(settings: HdfsHiveSettings, name: str, dt: str, table: str | None = None) -> Summary:
    """Compact one partition's small files into files of about compact_target_mb."""
    from hdfs_hive import compaction

    partition_date(dt)
    ds = dataset(settings, name, table)
    hdfs = webhdfs.connect(settings)
    catalog = _catalog(settings)
    try:
        done = compaction.compact(
            hdfs,
            catalog,
            compaction.Plan(
                ds, dt, settings.compact_target_mb * 1024 * 1024, settings.compact_min_files
            ),
        )
    finally:
        catalog.close()
    return Summary(
        records_in=done.rows,
        records_out=done.rows,
        extra={
            "partition": f"dt={dt}",
            "location": done.location,
            "action": done.action,
            "files_before": done.files_before,
            "files_after": done.files_after,
        },
    )


def sweep(
    settings: HdfsHiveSettings, name: str, as_of: date | None = None, table: str | None = None
) -> Summary:
    """Drop partitions older than retention_days from Hive and HDFS."""
    from hdfs_hive import retention

    ds: Dataset = dataset(settings, name, table)
    today = as_of or datetime.now(UTC).date()
    hdfs = webhdfs.connect(settings)
    catalog = _catalog(settings)
    try:
        swept = retention.sweep(hdfs, catalog, ds, today, settings.retention_days)
    finally:
        catalog.close()
    return Summary(
        records_in=len(swept.seen),
        records_out=len(swept.dropped),
        records_skipped={"kept": len(swept.seen) - len(swept.dropped)},
        extra={
            "as_of": today.isoformat(),
            "retention_days": settings.retention_days,
            "dropped": swept.dropped,
        },
    )


def listing(settings: HdfsHiveSettings, name: str | None) -> dict[str, object]:
    """Datasets under lake_root, or one dataset's partitions with file counts and bytes."""
    hdfs = webhdfs.connect(settings)
    if name is None:
        names = [n for n, s in hdfs.list_dir(settings.lake_root) if s.get("type") == "DIRECTORY"]
        return {"lake_root": settings.lake_root, "datasets": sorted(names)}
    ds = dataset(settings, name)
    folders, odd = partition_folders(hdfs, ds)
    parts = {}
    for dt, folder in sorted(folders.items()):
        files = data_files(hdfs, folder)
        parts[dt] = {"files": len(files), "bytes": sum(size for _, size in files)}
    return {"dataset": ds.root, "partitions": parts, "other_folders": odd}


def generate(folder: Path, shape: sample.Shape) -> Summary:
    """Write production-shaped sample events as Parquet under folder/dt=.../."""
    from hdfs_hive import sample

    files, rows = sample.generate(folder, shape)
    return Summary(records_in=rows, records_out=rows, extra={"folder": str(folder), "files": files})


def demo(settings: HdfsHiveSettings, folder: Path, metrics: LoaderMetrics | None = None) -> Summary:
    """Generate sample data, put it, register it, compact a day, count it back through Hive."""
    from hdfs_hive import sample

    data = folder / "events"
    files, rows = sample.generate(data, sample.Shape(days=3, small_files=4, small_rows=2_000))
    settings = with_overrides(settings, quarantine=folder / "rejects.jsonl")
    name = "demo_events"
    put(settings, PutRequest([data], dataset=name), metrics)
    register(settings, name)
    first = sample.Shape().start.isoformat()
    compact(settings, name, first)
    counted = run_query(
        settings,
        QueryRequest(sql=f"SELECT count(*) AS n FROM {table_name(settings.database, name)}"),  # noqa: S608
    )
    seen = int(str(counted.iloc[0, 0]))
    if seen != rows:
        raise JobError(f"demo: Hive counts {seen} rows, {rows} were uploaded")
    # For the showcase page: rows per lake partition, counted back through HiveServer2.
    table = table_name(settings.database, name)
    per_day = run_query(
        settings,
        QueryRequest(sql=f"SELECT dt, count(*) AS n FROM {table} GROUP BY dt ORDER BY dt"),  # noqa: S608
    )
    return Summary(
        records_in=rows,
        records_out=seen,
        extra={
            "files": files,
            "table": f"{settings.database}.{name}",
            "compacted": f"dt={first}",
            "output": f"Hive table {settings.database}.{name} over /lake/{name}",
            "figure": {
                "title": f"rows per partition, read back through Hive (dt={first} compacted)",
                "unit": "rows",
                "bars": {
                    f"dt={d}": int(n) for d, n in zip(per_day["dt"], per_day["n"], strict=True)
                },
            },
        },
    )


@dataclass(frozen=True)
class LoadRequest:
    """One local folder of Parquet (e.g. log_analyzer's date=YYYY-MM-DD/) into one partition."""

    source: Path
    dataset: str
    partition: str
    table: str | None = None


def _load_plan(
    req: LoadRequest, spec: PartitionSpec
) -> tuple[list[Planned], list[dict[str, str]], int]:
    """(files flattened to their names, rejects with reasons, hidden files skipped)."""
    dt = spec.value("dt")
    planned, refused = plan([req.source], Target("/", lake=False))
    rejects = [{"input": str(r.local), "reason": r.reason} for r in refused if not r.skip]
    hidden = sum(1 for r in refused if r.skip)
    kept: dict[str, Planned] = {}
    for item in planned:
        folders = item.local.relative_to(req.source).parts[:-1] if req.source.is_dir() else ()
        # date=/dt= folders (log_analyzer writes date=YYYY-MM-DD/) must name the partition's day.
        days = {f.split("=", 1)[1] for f in folders if f.startswith(("date=", "dt="))}
        name = item.local.name
        if not name.endswith(".parquet"):
            rejects.append({"input": str(item.local), "reason": "not Parquet (the table is)"})
        elif days - {dt}:
            reason = f"inside {'/'.join(folders)}, not the partition's dt={dt}"
            rejects.append({"input": str(item.local), "reason": reason})
        elif name in kept:
            rejects.append({"input": str(item.local), "reason": f"another input is named {name}"})
        else:
            kept[name] = Planned(item.local, name, item.size)
    return list(kept.values()), rejects, hidden


def _local_columns(files: list[Planned], keys: tuple[str, ...]) -> str:
    """The Hive columns of the files (one schema for all of them, partition keys excluded)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hdfs_hive.schema import columns_ddl

    schemas = [pq.read_schema(f.local) for f in files]
    for f, other in zip(files[1:], schemas[1:], strict=True):
        if not other.equals(schemas[0]):
            raise UserError(f"{f.local} has another schema than {files[0].local}")
    first = schemas[0]
    kept = [first.field(i) for i in range(len(first)) if first.field(i).name not in keys]
    return columns_ddl(pa.schema(kept))


def load(settings: HdfsHiveSettings, req: LoadRequest) -> Summary:
    """Replace one partition with the local files: upload to a new folder, swap, clean up."""
    from hdfs_hive import loading
    from hdfs_hive.partition_spec import parse

    spec = parse(req.partition)
    ds = dataset(settings, req.dataset, req.table)
    if not req.source.exists():
        raise InputMissing(f"input not found: {req.source}")
    files, rejects, hidden = _load_plan(req, spec)
    _quarantine(settings, rejects)
    records_in = len(files) + len(rejects) + hidden
    if rejects:
        summary = Summary(
            records_in=records_in,
            records_out=0,
            records_rejected=len(rejects),
            records_skipped={"hidden": hidden, "not_loaded": len(files)},
            extra={"partition": spec.path, "quarantine": str(settings.quarantine)},
        )
        raise JobFailed(
            f"{len(rejects)} files rejected, see {settings.quarantine}; "
            "the partition was left as it was",
            summary,
        )
    if not files:
        raise UserError(f"no Parquet files in {req.source}: nothing to load into {spec.path}")
    columns = _local_columns(files, spec.keys)
    hdfs = webhdfs.connect(settings)
    catalog = _catalog(settings)
    try:
        catalog.ensure_table(ds.database, ds.table, columns, ds.root, spec.keys)
        done = loading.swap_in(hdfs, catalog, ds, spec, files, settings.workers)
    finally:
        catalog.close()
    moved = done.action != "unchanged"
    import pyarrow.parquet as pq

    return Summary(
        records_in=records_in,
        records_out=len(files) if moved else 0,
        records_skipped={"hidden": hidden, "unchanged": 0 if moved else len(files)},
        extra={
            "unit": "files",
            "action": done.action,
            "table": f"{ds.database}.{ds.table}",
            "partition": spec.path,
            "location": done.location,
            "previous_location": done.previous,
            "files": len(files),
            "bytes": sum(f.size for f in files),
            "rows": sum(pq.ParquetFile(f.local).metadata.num_rows for f in files),
        },
    )
