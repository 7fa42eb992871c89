"""Every PostgreSQL-specific statement, composed with psycopg2.sql: names are Identifiers,
values are parameters, nothing is pasted into SQL text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any, Protocol

from psycopg2 import sql
from sqlalchemy.engine import Connection

COPY_BUFFER = 1 << 16  # measured: 64 KiB writes keep up with the server best


class Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...


def cursor(conn: Connection) -> Any:
    """A psycopg2 cursor on the SQLAlchemy connection's DBAPI connection (same transaction)."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def table_id(name: str, schema: str | None = None) -> sql.Identifier:
    """A possibly schema-qualified table name as one quoted identifier."""
    return sql.Identifier(schema, name) if schema else sql.Identifier(name)


def _cols(columns: Sequence[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def copy_in(
    cur: Any,
    table: sql.Identifier,
    columns: Sequence[str],
    source: Readable | IO[bytes],
    delimiter: str = ",",
    force_null: bool = False,
) -> None:
    """COPY ... FROM STDIN (CSV) streaming from a file-like object. FORCE_NULL makes a quoted
    empty field NULL as well, matching the loader's own reading of empty fields."""
    options = [sql.SQL("FORMAT csv"), sql.SQL("DELIMITER {}").format(sql.Literal(delimiter))]
    if force_null:
        options.append(sql.SQL("FORCE_NULL ({})").format(_cols(columns)))
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH ({})").format(
        table, _cols(columns), sql.SQL(", ").join(options)
    )
    cur.copy_expert(stmt.as_string(cur), source, size=COPY_BUFFER)


def advisory_lock(cur: Any, key: str) -> None:
    """A transaction-scoped lock on an arbitrary string key."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))


def create_like(cur: Any, new: sql.Identifier, like: sql.Identifier) -> None:
    """The replace target: same columns, defaults, constraints and indexes as the live table."""
    cur.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(new, like))


def upsert(
    cur: Any,
    target: sql.Identifier,
    staging: sql.Identifier,
    columns: Sequence[str],
    key: Sequence[str],
) -> tuple[int, int]:
    """INSERT ... ON CONFLICT (key) DO UPDATE from staging; (inserted, updated)."""
    rest = [c for c in columns if c not in key]
    if rest:
        action = sql.SQL("DO UPDATE SET {}").format(
            sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in rest
            )
        )
    else:
        action = sql.SQL("DO NOTHING")
    # xmax = 0 on the returned row version means it was inserted, not updated
    stmt = sql.SQL(
        "WITH m AS (INSERT INTO {t} ({c}) SELECT {c} FROM {s} ON CONFLICT ({k}) {a} "
        "RETURNING (xmax = 0) AS ins) "
        "SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins) FROM m"
    ).format(t=target, c=_cols(columns), s=staging, k=_cols(key), a=action)
    cur.execute(stmt)
    inserted, updated = cur.fetchone()
    if not rest:  # DO NOTHING returns no row for a conflict: those rows were already there
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(staging))
        updated = cur.fetchone()[0] - inserted
    return int(inserted), int(updated)


def swap(cur: Any, schema: str | None, table: str, new: str) -> None:
    """Atomic replace inside the open transaction: rename old away, new in, drop old."""
    old = f"{table}__c2p_old"
    cur.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(table_id(table, schema), sql.Identifier(old))
    )
    cur.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(table_id(new, schema), sql.Identifier(table))
    )
    cur.execute(sql.SQL("DROP TABLE {}").format(table_id(old, schema)))
    # LIKE named the new indexes after the temporary name: give the primary key its usual one back.
    cur.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
        (table_id(table, schema).as_string(cur),),
    )
    row = cur.fetchone()
    if row and row[0] != f"{table}_pkey":
        cur.execute(
            sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                table_id(table, schema), sql.Identifier(row[0]), sql.Identifier(f"{table}_pkey")
            )
        )


def add_column(cur: Any, table: sql.Identifier, column: str, type_sql: str) -> None:
    """Contract evolve: a new nullable column (type text comes from our own type mapping)."""
    cur.execute(
        sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
            table, sql.Identifier(column), sql.SQL(type_sql)
        )
    )


def widen_column(cur: Any, table: sql.Identifier, column: str, type_sql: str) -> None:
    """Contract evolve: change a column to a wider type, converting the stored values."""
    cur.execute(
        sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}").format(
            table,
            sql.Identifier(column),
            sql.SQL(type_sql),
            sql.Identifier(column),
            sql.SQL(type_sql),
        )
    )
