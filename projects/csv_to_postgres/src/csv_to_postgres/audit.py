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
    """An earlier successful load of the same content into the same table."""

    load_id: str
    rows_read: int


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

    def done_before(self, table: str, content_hash: str) -> Earlier | None:
        """An earlier successful load of the same content into the same table, if any."""
        c = self.loads.c
        q = sa.select(c.load_id, c.rows_read).where(
            c.target_table == table, c.content_hash == content_hash, c.status == "done"
        )
        row = self.conn.execute(q.limit(1)).first()
        return Earlier(str(row[0]), int(row[1] or 0)) if row is not None else None

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

    def start(self, table: str, path: str, content_hash: str, mode: str) -> str:
        """A committed `running` row: visible in `status` while the load transaction is open."""
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
                    content_hash=content_hash,
                    mode=mode,
                    status="running",
                    started_at=_now(),
                    backend_pid=pid,
                )
            )
        return load_id

    def finish(self, load_id: str, status: str, message: str | None = None, **counts: int) -> None:
        """Set the outcome; called inside the load transaction for `done`."""
        self.conn.execute(
            self.loads.update()
            .where(self.loads.c.load_id == load_id)
            .values(status=status, finished_at=_now(), message=message, **counts)
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
