"""The load-audit table (one row per file load) and the rejects table."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from csv_to_postgres.config import CsvToPostgresSettings
from csv_to_postgres.engine import database
from csv_to_postgres.headers import sanitize
from csv_to_postgres.identity import TableIdentity
from csv_to_postgres.rejects import Reject

AUDIT_TABLE = "c2p_loads"
REJECTS_TABLE = "c2p_rejects"
_LOCK_META = 0x43325000  # advisory lock id while creating the meta tables


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def content_hash(path: str) -> str:
    """sha256 of the bytes on disk: the identity the audit table uses for "same file"."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class Earlier(NamedTuple):
    """An earlier successful load of the same content into a table of the same name."""

    load_id: str
    rows_read: int
    stored: int  # rows it inserted or updated
    oid: int | None  # the table's identity then (PostgreSQL), see identity.py
    storage: str | None


def _later_columns() -> list[sa.Column[Any]]:
    """Added after the first release: ensure() adds them to an older audit table."""
    return [
        sa.Column("target_oid", sa.BigInteger),
        sa.Column("target_storage", sa.Text),
        sa.Column("content_bytes", sa.BigInteger),
    ]


def meta_tables(schema: str | None) -> tuple[sa.Table, sa.Table]:
    """The audit and rejects tables (in the target schema)."""
    md = sa.MetaData(schema=schema)
    loads = sa.Table(
        AUDIT_TABLE,
        md,
        sa.Column("load_id", sa.String(32), primary_key=True),
        sa.Column("target_table", sa.Text, nullable=False),
        sa.Column("file_path", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_read", sa.BigInteger),
        sa.Column("inserted", sa.BigInteger),
        sa.Column("updated", sa.BigInteger),
        sa.Column("rejected", sa.BigInteger),
        sa.Column("duplicates", sa.BigInteger),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("backend_pid", sa.Integer),
        sa.Column("message", sa.Text),
        *_later_columns(),
        sa.Index("ix_c2p_loads_hash", "target_table", "content_hash", "status"),
    )
    rejects = sa.Table(
        REJECTS_TABLE,
        md,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("load_id", sa.String(32), nullable=False, index=True),
        sa.Column("target_table", sa.Text, nullable=False),
        sa.Column("file_path", sa.Text, nullable=False),
        sa.Column("line", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text),
    )
    return loads, rejects


@dataclass
class Audit:
    """Audit operations bound to one connection."""

    conn: Connection
    schema: str | None = None

    def __post_init__(self) -> None:
        self.loads, self.rejects = meta_tables(self.schema)

    def ensure(self) -> None:
        """Create the meta tables once (concurrent loaders serialise on an advisory lock)."""
        with self.conn.begin():
            if self.conn.dialect.name == "postgresql":
                self.conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_META)))
            self.loads.metadata.create_all(self.conn, checkfirst=True)
            have = {c["name"] for c in sa.inspect(self.conn).get_columns(AUDIT_TABLE, self.schema)}
            prep = self.conn.dialect.identifier_preparer
            for col in _later_columns():
                if col.name not in have:
                    type_sql = col.type.compile(dialect=self.conn.dialect)
                    self.conn.exec_driver_sql(
                        f"ALTER TABLE {prep.format_table(self.loads)} "
                        f"ADD COLUMN {prep.quote(col.name)} {type_sql}"
                    )

    def loaded_size_before(self, table: str, size: int) -> bool:
        """Whether a successful load into this table read a file of this size (or of a size
        not recorded): only then can the same content have been loaded before."""
        c = self.loads.c
        q = sa.select(c.load_id).where(
            c.target_table == table,
            c.status == "done",
            sa.or_(c.content_bytes == size, c.content_bytes.is_(None)),
        )
        return self.conn.execute(q.limit(1)).first() is not None

    def done_before(self, table: str, content_hash: str) -> Earlier | None:
        """The newest successful load of the same content into a table of this name, if any
        (whether that table still holds it is identity.not_held's question)."""
        c = self.loads.c
        q = (
            sa.select(
                c.load_id,
                c.rows_read,
                sa.func.coalesce(c.inserted, 0) + sa.func.coalesce(c.updated, 0),
                c.target_oid,
                c.target_storage,
            )
            .where(c.target_table == table, c.content_hash == content_hash, c.status == "done")
            .order_by(c.finished_at.desc())
        )
        row = self.conn.execute(q.limit(1)).first()
        if row is None:
            return None
        oid = int(row[3]) if row[3] is not None else None
        return Earlier(str(row[0]), int(row[1] or 0), int(row[2] or 0), oid, row[4])

    def carry_forward(self, table: str, before: TableIdentity, after: TableIdentity) -> None:
        """The loader rewrote the table itself (a widened column): the loads it held before,
        it still holds (inside the load transaction)."""
        c = self.loads.c
        self.conn.execute(
            self.loads.update()
            .where(
                c.target_table == table,
                c.status == "done",
                c.target_oid == before.oid,
                c.target_storage == before.storage,
            )
            .values(target_oid=after.oid, target_storage=after.storage)
        )

    def abandon_stale(self, table: str) -> int:
        """Mark `running` rows whose loader is gone (killed) as abandoned."""
        c = self.loads.c
        cond = sa.and_(c.target_table == table, c.status == "running")
        if self.conn.dialect.name == "postgresql":
            alive = sa.select(sa.column("pid", sa.Integer)).select_from(
                sa.table("pg_stat_activity")
            )
            cond = sa.and_(cond, sa.or_(c.backend_pid.is_(None), c.backend_pid.not_in(alive)))
        with self.conn.begin():
            result = self.conn.execute(
                self.loads.update().where(cond).values(status="abandoned", finished_at=_now())
            )
        return int(result.rowcount or 0)

    def start(self, table: str, path: str, size: int, mode: str) -> str:
        """A committed `running` row: visible in `status` while the load transaction is open.
        Its content hash is written when the load ends (the file is hashed while it loads)."""
        load_id = uuid.uuid4().hex
        pid = None
        with self.conn.begin():
            if self.conn.dialect.name == "postgresql":
                pid = self.conn.execute(sa.select(sa.func.pg_backend_pid())).scalar()
            self.conn.execute(
                self.loads.insert().values(
                    load_id=load_id,
                    target_table=table,
                    file_path=path,
                    content_hash="",
                    content_bytes=size,
                    mode=mode,
                    status="running",
                    started_at=_now(),
                    backend_pid=pid,
                )
            )
        return load_id

    def finish(
        self,
        load_id: str,
        status: str,
        message: str | None = None,
        target: TableIdentity | None = None,
        content_hash: str | None = None,
        **counts: int,
    ) -> None:
        """Set the outcome; called inside the load transaction for `done`, with the identity of
        the table the rows went into and the file's hash."""
        values: dict[str, object] = dict(counts)
        if target is not None:
            values.update(target_oid=target.oid, target_storage=target.storage)
        if content_hash is not None:
            values["content_hash"] = content_hash
        self.conn.execute(
            self.loads.update()
            .where(self.loads.c.load_id == load_id)
            .values(status=status, finished_at=_now(), message=message, **values)
        )

    def add_rejects(self, load_id: str, table: str, rejects: Sequence[Reject]) -> None:
        """Insert rejects in batches (inside the load transaction)."""
        rows = [
            {
                "load_id": load_id,
                "target_table": table,
                "file_path": r.file,
                "line": r.line,
                "kind": r.kind,
                "reason": r.reason,
                "raw": r.raw,
            }
            for r in rejects
        ]
        for start in range(0, len(rows), 5000):
            self.conn.execute(self.rejects.insert(), rows[start : start + 5000])

    def history(self, table: str | None, limit: int) -> list[dict[str, Any]]:
        """The newest loads first."""
        q = sa.select(self.loads).order_by(self.loads.c.started_at.desc()).limit(limit)
        if table:
            q = q.where(self.loads.c.target_table == table)
        return [dict(r._mapping) for r in self.conn.execute(q)]


def load_history(
    settings: CsvToPostgresSettings, table: str | None, limit: int
) -> list[dict[str, Any]]:
    """What `status` shows: the newest loads first, of one table or all."""
    with database(settings) as engine, engine.connect() as conn:
        audit = Audit(conn, settings.db_schema)
        audit.ensure()
        return audit.history(sanitize(table, 1) if table else None, limit)
