"""Where a file goes and the table it needs there: a shipped model's, or one inferred from a
sample; `schema` prints that table's CREATE TABLE."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from csv_to_postgres.columns import TableSpec, ddl, spec_from_table
from csv_to_postgres.config import CsvToPostgresSettings
from csv_to_postgres.datasets import model_table
from csv_to_postgres.headers import sanitize
from csv_to_postgres.inference import infer
from csv_to_postgres.sample import Sample, csv_inputs, read_sample
from de_common.errors import UserError


@dataclass(frozen=True)
class Target:
    """Where a file goes."""

    table: str
    model: str | None = None
    schema: str | None = None


def resolve_target(settings: CsvToPostgresSettings, path: str) -> Target:
    """--table names any table; else the --model's table; else the file's name up to its first dot."""
    name = settings.table or settings.model or Path(path).name.split(".")[0]
    return Target(sanitize(name, 1), settings.model, settings.db_schema)


def planned_spec(
    target: Target, sample: Sample | None, settings: CsvToPostgresSettings
) -> TableSpec:
    """The table a load would create: the model's, else one typed from the sample."""
    if target.model:
        spec = spec_from_table(model_table(target.model), target.model)
        spec.name, spec.schema = target.table, target.schema
        return spec
    if sample is None:
        raise UserError("give a CSV file or --model")
    pk = [sanitize(k, 1) for k in settings.primary_key]
    missing = [k for k in pk if k not in sample.rows.column_names]
    if missing:
        raise UserError(f"primary key column(s) not in the file: {', '.join(missing)}")
    return infer(target.table, sample.rows, sample.rules, pk, target.schema)


def schema_ddl(settings: CsvToPostgresSettings, file: str | None, dialect: str) -> str:
    """CREATE TABLE for --model, or inferred from a sample of the CSV file, in `dialect`
    (postgresql or sqlite)."""
    sample = read_sample(csv_inputs([file])[0], settings) if file and not settings.model else None
    spec = planned_spec(resolve_target(settings, file or ""), sample, settings)
    sql_dialect: sa.engine.Dialect = (
        postgresql.dialect()  # type: ignore[no-untyped-call]
        if dialect == "postgresql"
        else sqlite.dialect()
    )
    return ddl(spec, sql_dialect)
