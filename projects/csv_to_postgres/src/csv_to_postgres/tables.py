"""Target tables in the database: reflect, create, evolve, and the temporary work tables."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from csv_to_postgres import pgsql
from csv_to_postgres.columns import TableSpec, sa_type, spec_from_table, to_table
from csv_to_postgres.contract import Drift
from de_common.errors import UserError

LINE = "_line"  # sanitized names never start with "_", so this cannot clash


def exists(conn: Connection, name: str, schema: str | None) -> bool:
    """Whether the table is there (one catalog query; reflecting it takes several)."""
    return bool(sa.inspect(conn).has_table(name, schema=schema))


def reflect(conn: Connection, name: str, schema: str | None) -> sa.Table | None:
    """The live table, or None."""
    if not exists(conn, name, schema):
        return None
    return sa.Table(name, sa.MetaData(), autoload_with=conn, schema=schema)


def existing_spec(conn: Connection, name: str, schema: str | None) -> TableSpec | None:
    """The live table as a TableSpec, or None."""
    table = reflect(conn, name, schema)
    return spec_from_table(table) if table is not None else None


def create(conn: Connection, spec: TableSpec) -> sa.Table:
    """CREATE TABLE inside the current transaction."""
    table = to_table(spec)
    table.create(conn)
    return table


def evolve(conn: Connection, spec: TableSpec, drift: Drift) -> TableSpec:
    """Apply an evolve plan: ADD COLUMN for new ones, widen changed ones; returns the new spec."""
    cols = list(spec.columns)
    pg = conn.dialect.name == "postgresql"
    prep = conn.dialect.identifier_preparer
    qualified = prep.format_table(to_table(spec))
    cur = pgsql.cursor(conn) if pg else None
    for col in drift.new:
        type_sql = sa_type(col).compile(dialect=conn.dialect)
        if cur is not None:
            pgsql.add_column(cur, pgsql.table_id(spec.name, spec.schema), col.name, type_sql)
        else:
            conn.exec_driver_sql(
                f"ALTER TABLE {qualified} ADD COLUMN {prep.quote(col.name)} {type_sql}"
            )
        cols.append(col)
    for col, kind in drift.changed:
        if cur is None:
            raise UserError(
                f"column {col.name} changed type ({col.kind} -> {kind}); only PostgreSQL can "
                "widen a column in place"
            )
        wider = replace(col, kind=kind)
        type_sql = sa_type(wider).compile(dialect=conn.dialect)
        pgsql.widen_column(cur, pgsql.table_id(spec.name, spec.schema), col.name, type_sql)
        cols = [wider if c.name == col.name else c for c in cols]
    return replace(spec, columns=cols)


def work_table(conn: Connection, spec: TableSpec, name: str, with_line: bool) -> sa.Table:
    """A temporary table with the target's columns, no constraints (staging and suspects)."""
    cols: list[sa.Column[Any]] = [sa.Column(c.name, sa_type(c)) for c in spec.columns]
    if with_line:
        cols.append(sa.Column(LINE, sa.BigInteger()))
    if conn.dialect.name == "postgresql":
        table = sa.Table(
            name, sa.MetaData(), *cols, prefixes=["TEMPORARY"], postgresql_on_commit="DROP"
        )
    else:
        table = sa.Table(name, sa.MetaData(), *cols, prefixes=["TEMPORARY"])
    table.create(conn)
    return table
