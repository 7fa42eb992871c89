"""Write batches into the database inside the caller's transaction and merge them.

PostgreSQL: one COPY FROM STDIN stream; append COPYs straight into the target (the transaction is
the staging boundary: nothing is visible or kept unless it commits), upsert COPYs into a temporary
staging table and merges it (UPDATE ... FROM + INSERT of the missing keys under a
SHARE ROW EXCLUSIVE lock on the target), replace COPYs into a new table and swaps it in
by rename. Other databases: the same flow with batched executemany.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from csv_to_postgres import pgsql
from csv_to_postgres.batches import Batch, Callback
from csv_to_postgres.columns import TableSpec, to_table
from csv_to_postgres.config import Mode
from csv_to_postgres.tables import LINE, work_table
from de_common.errors import JobError, UserError
from de_common.faults import fault_point


@dataclass
class Outcome:
    """What the merge did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int | None = None  # of the updated: values identical, row not rewritten
    duplicate_lines: list[int] = field(default_factory=list)
    replaced_rows: int | None = None


def _key_match(a: Any, b: Any, key: list[str]) -> sa.ColumnElement[bool]:
    return sa.and_(*[a.c[k] == b.c[k] for k in key])


def settle_suspects(
    conn: Connection, dest: sa.Table, sus: sa.Table, key: list[str], columns: list[str]
) -> tuple[list[int], int]:
    """Rows whose 64-bit key repeated: a real duplicate (same key already in dest, or an earlier
    suspect) is counted and listed; any other (a hash collision) is moved into dest. First wins."""
    earlier = sus.alias("earlier")
    is_dup = sa.or_(
        sa.exists().where(_key_match(dest, sus, key)),
        sa.exists().where(_key_match(earlier, sus, key), earlier.c[LINE] < sus.c[LINE]),
    )
    found: Any = conn.execute(sa.select(sus.c[LINE]).where(is_dup)).scalars()
    dup_lines: list[int] = [int(x) for x in found]
    moved = conn.execute(
        sa.insert(dest).from_select(
            columns, sa.select(*[sus.c[c] for c in columns]).where(sa.not_(is_dup))
        )
    ).rowcount
    return sorted(dup_lines), int(moved or 0)


class Loader:
    """Shared shape: open work tables, stream batches, merge."""

    def __init__(
        self, conn: Connection, spec: TableSpec, columns: list[str], mode: Mode, load_id: str
    ) -> None:
        self.conn = conn
        self.spec = spec
        self.columns = columns
        self.mode = mode
        self.key = spec.primary_key
        self.tag = load_id[:12]
        self.main_rows = 0
        self.target = to_table(spec)
        self.copy_format = pgsql.PLAIN_CSV  # of the CSV text streamed into COPY
        if mode == "upsert" and not self.key:
            raise UserError(f"upsert needs a primary key on {spec.name} (use --primary-key)")

    def run(self, batches: Iterator[Batch], on_batch: Callback) -> Outcome:
        raise NotImplementedError


class PostgresLoader(Loader):
    """COPY-based loader."""

    def run(self, batches: Iterator[Batch], on_batch: Callback) -> Outcome:
        cur = pgsql.cursor(self.conn)
        schema = self.spec.schema
        if self.mode == "replace":
            pgsql.advisory_lock(cur, f"replace:{schema}.{self.spec.name}")
            new_name = f"{self.spec.name}__c2p_new"
            pgsql.create_like(
                cur, pgsql.table_id(new_name, schema), pgsql.table_id(self.spec.name, schema)
            )
            dest_id = pgsql.table_id(new_name, schema)
            dest = to_table(self.spec, name=new_name)
        elif self.mode == "upsert":
            dest = work_table(self.conn, self.spec, f"c2p_stage_{self.tag}", with_line=False)
            dest_id = pgsql.table_id(dest.name)
        else:
            dest, dest_id = self.target, pgsql.table_id(self.spec.name, schema)
        with tempfile.SpooledTemporaryFile(max_size=32 << 20) as spool:
            reader = _CopyReader(batches, on_batch, spool)
            try:
                pgsql.copy_in(cur, dest_id, self.columns, reader, self.copy_format)
            except Exception as exc:
                if reader.error is not None:
                    raise reader.error from None
                if "duplicate key" in str(exc):
                    raise JobError(
                        f"append to {self.spec.name}: a primary key in the file is already in the "
                        "table (nothing was loaded; use --mode upsert to update existing keys)"
                    ) from None
                raise
            self.main_rows = reader.rows
            outcome = Outcome()
            if reader.suspect_bytes:
                sus = work_table(self.conn, self.spec, f"c2p_sus_{self.tag}", with_line=True)
                spool.seek(0)
                pgsql.copy_in(cur, pgsql.table_id(sus.name), [*self.columns, LINE], spool)
                outcome.duplicate_lines, moved = settle_suspects(
                    self.conn, dest, sus, self.key, self.columns
                )
                self.main_rows += moved
        if self.mode == "upsert":
            merge = pgsql.Merge(
                pgsql.table_id(self.spec.name, schema),
                dest_id,
                self.columns,
                self.key,
                self.main_rows,
            )
            outcome.inserted, outcome.updated, outcome.unchanged = pgsql.upsert(cur, merge)
        else:
            outcome.inserted = self.main_rows
        if self.mode == "replace":
            old = self.conn.execute(sa.select(sa.func.count()).select_from(self.target)).scalar()
            outcome.replaced_rows = int(old or 0)
            pgsql.swap(cur, schema, self.spec.name, f"{self.spec.name}__c2p_new")
        fault_point("load.merge")
        return outcome


class _CopyReader:
    """The file-like object COPY reads: main rows pass through, suspects go to a spool."""

    def __init__(self, batches: Iterator[Batch], on_batch: Callback, spool: Any) -> None:
        self._batches = batches
        self._on_batch = on_batch
        self._spool = spool
        self._buf = memoryview(b"")
        self._pos = 0
        self.sent = 0
        self.rows = 0
        self.suspect_bytes = 0
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            while self._pos >= len(self._buf):
                if self.sent == 1:
                    fault_point("load.copy")  # one chunk is already inside the open COPY
                batch = next(self._batches, None)
                if batch is None:
                    return b""
                self._on_batch(batch)
                if batch.suspects_csv:
                    self._spool.write(batch.suspects_csv)
                    self.suspect_bytes += len(batch.suspects_csv)
                self.rows += batch.main_rows
                self._buf, self._pos = memoryview(batch.main_csv), 0
                self.sent += 1
        except BaseException as exc:
            self.error = exc
            raise
        end = len(self._buf) if size < 0 else min(len(self._buf), self._pos + size)
        out = bytes(self._buf[self._pos : end])
        self._pos = end
        return out


class SqlLoader(Loader):
    """executemany-based loader for SQLite and other SQLAlchemy databases."""

    def __init__(self, *args: Any, batch_rows: int = 5000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_rows = batch_rows
        if self.mode == "upsert" and self.conn.dialect.name not in ("sqlite", "postgresql"):
            raise UserError(
                f"upsert is supported on PostgreSQL and SQLite, not {self.conn.dialect.name}"
            )

    def _insert(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), self.batch_rows):
            self.conn.execute(sa.insert(table), rows[start : start + self.batch_rows])

    def run(self, batches: Iterator[Batch], on_batch: Callback) -> Outcome:
        new_name = f"{self.spec.name}__c2p_new"
        if self.mode == "replace":
            dest = to_table(self.spec, name=new_name)
            dest.create(self.conn)
        elif self.mode == "upsert":
            dest = work_table(self.conn, self.spec, f"c2p_stage_{self.tag}", with_line=False)
        else:
            dest = self.target
        sus = work_table(self.conn, self.spec, f"c2p_sus_{self.tag}", with_line=True)
        any_suspects = False
        for i, batch in enumerate(batches):
            if i == 1:
                fault_point("load.copy")
            on_batch(batch)
            self._insert(dest, batch.main.to_pylist())
            self.main_rows += batch.main.num_rows
            if batch.suspects.num_rows:
                any_suspects = True
                self._insert(sus, batch.suspects.to_pylist())
        outcome = Outcome()
        if any_suspects:
            outcome.duplicate_lines, moved = settle_suspects(
                self.conn, dest, sus, self.key, self.columns
            )
            self.main_rows += moved
        sus.drop(self.conn)
        if self.mode == "upsert":
            outcome.inserted, outcome.updated = self._merge(dest)
            dest.drop(self.conn)
        else:
            outcome.inserted = self.main_rows
        if self.mode == "replace":
            old = self.conn.execute(sa.select(sa.func.count()).select_from(self.target)).scalar()
            outcome.replaced_rows = int(old or 0)
            prep = self.conn.dialect.identifier_preparer
            self.target.drop(self.conn)
            self.conn.exec_driver_sql(
                f"ALTER TABLE {prep.format_table(dest)} RENAME TO {prep.quote(self.spec.name)}"
            )
        fault_point("load.merge")
        return outcome

    def _merge(self, staging: sa.Table) -> tuple[int, int]:
        target = self.target
        existing = self.conn.execute(
            sa.select(sa.func.count())
            .select_from(staging)
            .where(sa.exists().where(_key_match(target, staging, self.key)))
        ).scalar()
        staged = self.conn.execute(sa.select(sa.func.count()).select_from(staging)).scalar()
        select = sa.select(*[staging.c[c] for c in self.columns]).where(sa.true())
        stmt = sqlite.insert(target).from_select(self.columns, select)
        rest = [c for c in self.columns if c not in self.key]
        if rest:
            merge = stmt.on_conflict_do_update(
                index_elements=self.key, set_={c: stmt.excluded[c] for c in rest}
            )
        else:
            merge = stmt.on_conflict_do_nothing(index_elements=self.key)
        self.conn.execute(merge)
        updated = int(existing or 0)
        return int(staged or 0) - updated, updated
