"""hdfs-hive: put, load, ls, register, query, compact, retention, generate, demo (and config)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from de_common.cli import json_option, make_cli, pass_run
from de_common.errors import UserError
from de_common.flags import setting_flags
from de_common.run import Run, Summary, emit_state
from hdfs_hive import jobs
from hdfs_hive.config import HdfsHiveSettings
from hdfs_hive.telemetry import loader_metrics

if TYPE_CHECKING:
    import pandas as pd

S = HdfsHiveSettings
HDFS_FLAGS = ("hdfs_url", "hdfs_user", "lake_root", "timeout_s")
HIVE_FLAGS = ("hive_url", "database")

cli = make_cli(
    "hdfs_hive",
    HdfsHiveSettings,
    help="A data-lake loader: verified atomic WebHDFS uploads, Hive external tables and "
    "partitions, PyHive queries.",
)

dataset_arg = click.argument("dataset")
table_opt = click.option("--table", help="Hive table name (default: the dataset name).")


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--dataset", help="Upload into <lake_root>/<dataset> (folders keep their dt= layout)."
)
@click.option("--dt", help="Put loose files into this partition (YYYY-MM-DD).")
@click.option("--to", help="Upload into this HDFS folder instead of a dataset.")
@setting_flags(S, *HDFS_FLAGS, "workers", "overwrite", "quarantine", "metrics_port")
@json_option
@pass_run
def put(
    run: Run[HdfsHiveSettings],
    sources: tuple[Path, ...],
    dataset: str | None,
    dt: str | None,
    to: str | None,
    as_json: bool,
) -> None:
    """Upload local files and folders (Parquet, CSV): verified, atomic, parallel; reruns skip."""
    req = jobs.PutRequest(list(sources), dataset=dataset, dt=dt, to=to)
    metrics = loader_metrics(run.metrics)
    run.execute(lambda: jobs.put(run.settings, req, metrics), as_json)


@cli.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--dataset", required=True, help="The dataset: <lake_root>/<dataset>.")
@click.option(
    "--partition",
    required=True,
    help="The partition to replace, e.g. dt=2026-11-30/hour=14 (dt first; hour 00-23).",
)
@table_opt
@setting_flags(S, *HDFS_FLAGS, *HIVE_FLAGS, "workers", "quarantine")
@json_option
@pass_run
def load(
    run: Run[HdfsHiveSettings],
    source: Path,
    dataset: str,
    partition: str,
    table: str | None,
    as_json: bool,
) -> None:
    """Replace one partition (e.g. an hour) with a local Parquet folder, atomically for readers."""
    req = jobs.LoadRequest(source, dataset, partition, table)
    run.execute(lambda: jobs.load(run.settings, req), as_json)


@cli.command("ls")
@click.argument("dataset", required=False)
@setting_flags(S, *HDFS_FLAGS)
@json_option
@pass_run
def ls_cmd(run: Run[HdfsHiveSettings], dataset: str | None, as_json: bool) -> None:
    """List the datasets, or one dataset's partitions with their file counts and bytes."""
    emit_state(jobs.listing(run.settings, dataset), as_json)


@cli.command()
@dataset_arg
@table_opt
@setting_flags(S, *HDFS_FLAGS, *HIVE_FLAGS, "register_method", "quarantine")
@json_option
@pass_run
def register(run: Run[HdfsHiveSettings], dataset: str, table: str | None, as_json: bool) -> None:
    """Create the external table (if needed) and register every dt= partition of the dataset."""
    run.execute(lambda: jobs.register(run.settings, dataset, table), as_json)


def _params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--param needs NAME=VALUE, got {item!r}")
        params[key] = value
    return params


def _show(frame: pd.DataFrame) -> None:
    import pandas as pd  # only `query` pays for importing pandas

    table = Table()
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.itertuples(index=False):
        table.add_row(*("NULL" if pd.isna(v) else str(v) for v in row))
    Console().print(table)


@cli.command()
@click.argument("sql", required=False)
@click.option("--param", "-p", "params", multiple=True, help="NAME=VALUE for %(NAME)s; repeatable.")
@click.option("--table", help="Instead of SQL: SELECT * FROM this table ([db.]name).")
@click.option("--dt", help="With --table: only this partition.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True
)
@click.option("--output", type=click.Path(path_type=Path), help="Write the rows as CSV here.")
@setting_flags(S, *HIVE_FLAGS)
@json_option
@pass_run
def query(
    run: Run[HdfsHiveSettings],
    sql: str | None,
    params: tuple[str, ...],
    table: str | None,
    dt: str | None,
    limit: int,
    fmt: str,
    output: Path | None,
    as_json: bool,
) -> None:
    """Run a HiveQL query (values as %(name)s parameters) and print or save the rows."""
    if fmt == "csv" and output is None:
        raise UserError("--format csv needs --output FILE")
    req = jobs.QueryRequest(sql=sql, params=_params(params), table=table, dt=dt, limit=limit)
    holder: list[pd.DataFrame] = []

    def render(_: Summary) -> None:
        if fmt == "table" and holder:
            _show(holder[0])

    run.execute(lambda: jobs.query(run.settings, req, output, holder), as_json, render)


@cli.command()
@dataset_arg
@click.option("--dt", required=True, help="The partition to compact (YYYY-MM-DD).")
@table_opt
@setting_flags(S, *HDFS_FLAGS, *HIVE_FLAGS, "compact_target_mb", "compact_min_files")
@json_option
@pass_run
def compact(
    run: Run[HdfsHiveSettings], dataset: str, dt: str, table: str | None, as_json: bool
) -> None:
    """Merge a partition's small files into few large ones; readers never see a partial state."""
    run.execute(lambda: jobs.compact(run.settings, dataset, dt, table), as_json)


@cli.command()
@dataset_arg
@click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Today's date (default: UTC today)."
)
@table_opt
@setting_flags(S, *HDFS_FLAGS, *HIVE_FLAGS, "retention_days")
@json_option
@pass_run
def retention(
    run: Run[HdfsHiveSettings], dataset: str, as_of: object, table: str | None, as_json: bool
) -> None:
    """Drop partitions older than retention_days, from Hive and HDFS together."""
    day: date | None = as_of.date() if hasattr(as_of, "date") else None
    run.execute(lambda: jobs.sweep(run.settings, dataset, day, table), as_json)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--days", type=click.IntRange(min=1), default=3, show_default=True)
@click.option(
    "--files", type=click.IntRange(min=0), default=4, show_default=True, help="Small files per day."
)
@click.option(
    "--rows",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Rows per small file.",
)
@click.option("--large-files", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--large-rows", type=click.IntRange(min=1), default=1_000_000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@json_option
@pass_run
def generate(
    run: Run[HdfsHiveSettings],
    folder: Path,
    days: int,
    files: int,
    rows: int,
    large_files: int,
    large_rows: int,
    seed: int,
    as_json: bool,
) -> None:
    """Write production-shaped sample events as Parquet in dt= folders (no service needed)."""
    from hdfs_hive import sample  # pyarrow and numpy: only this command needs them at once

    shape = sample.Shape(days, files, rows, large_files, large_rows, seed=seed)
    run.execute(lambda: jobs.generate(folder, shape), as_json)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), help="Folder (default: a temp folder).")
@json_option
@pass_run
def demo(run: Run[HdfsHiveSettings], out: Path | None, as_json: bool) -> None:
    """Generate sample events, put them, register them, compact a day, count them in Hive."""
    folder = out or Path(tempfile.mkdtemp(prefix="hdfs_hive-demo-"))
    metrics = loader_metrics(run.metrics)
    run.execute(lambda: jobs.demo(run.settings, folder, metrics), as_json)


def main() -> None:
    """Console script entry point."""
    cli()
