"""Which table a load went into, and whether that table still holds it: what the content-hash
skip is tied to. A name alone is not enough: a table dropped and created again, or truncated,
has the same name and none of the rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from csv_to_postgres import pgsql, tables
from csv_to_postgres.engine import is_postgres

if TYPE_CHECKING:
    from csv_to_postgres.audit import Earlier

# Up to this much heap, the skip also counts the table's rows (a sequential scan of at most this).
COUNT_LIMIT_BYTES = 256 << 20


@dataclass(frozen=True)
class TableIdentity:
    """A table as the audit records it: on PostgreSQL its OID and its storage (relfilenodes);
    elsewhere nothing but its existence."""

    oid: int | None = None
    storage: str | None = None
    heap_bytes: int = 0


def identify(conn: Connection, table: str, schema: str | None) -> TableIdentity | None:
    """The table's identity now, or None when it does not exist."""
    if is_postgres(conn):
        found = pgsql.storage(pgsql.cursor(conn), pgsql.table_id(table, schema))
        return TableIdentity(*found) if found is not None else None
    return TableIdentity() if tables.exists(conn, table, schema) else None


def _count(conn: Connection, table: str, schema: str | None) -> int:
    query = sa.select(sa.func.count()).select_from(sa.table(table, schema=schema))
    return int(conn.execute(query).scalar() or 0)


def not_held(conn: Connection, table: str, schema: str | None, earlier: Earlier) -> str | None:
    """Why the table no longer holds what `earlier` loaded into it, or None when it does.

    PostgreSQL: the same OID (not dropped and created again), the same storage (not truncated
    or rewritten), and, when the table is small enough to count cheaply, at least as many rows
    as that load stored. Other databases have no identity that survives honestly (SQLite reuses
    root pages and rowids), so there the count alone decides."""
    now = identify(conn, table, schema)
    if now is None:
        return "the table no longer exists"
    if now.oid is not None:
        if earlier.oid is None:
            return "that load recorded no table identity (an older version wrote it)"
        if earlier.oid != now.oid:
            return "the table was dropped and created again since"
        if earlier.storage != now.storage:
            return "the table was truncated or rewritten since"
        if now.heap_bytes > COUNT_LIMIT_BYTES:
            return None
    rows = _count(conn, table, schema)
    if rows < earlier.stored:
        return f"the table holds {rows} rows, fewer than the {earlier.stored} that load stored"
    return None
