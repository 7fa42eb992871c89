"""Durable task effects and the processed-message ledger, in one transaction per task.

The ledger row (message_id) and the task's effect commit together, so a redelivery (after a crash
between commit and ack, or a broker restart) finds its id and does nothing a second time.
SQLite (a file; no server) or PostgreSQL, through their DB-API drivers.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

from de_common.errors import ServiceUnavailable, UserError

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS processed_messages (
        message_id TEXT PRIMARY KEY, task TEXT NOT NULL, records INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS readings (
        sensor TEXT NOT NULL, ts TEXT NOT NULL, value DOUBLE PRECISION, message_id TEXT NOT NULL,
        PRIMARY KEY (sensor, ts))""",
    # Not idempotent on its own (it adds): exactly what the ledger has to protect.
    """CREATE TABLE IF NOT EXISTS sensor_totals (
        sensor TEXT PRIMARY KEY, readings INTEGER NOT NULL, value_sum DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS rejected_readings (
        message_id TEXT NOT NULL, position INTEGER NOT NULL, reason TEXT NOT NULL,
        record TEXT NOT NULL, PRIMARY KEY (message_id, position))""",
)


@dataclass
class Tx:
    """One open transaction: `execute` with `?` placeholders on either database."""

    cursor: Any
    postgres: bool

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it touched."""
        self.cursor.execute(sql.replace("?", "%s") if self.postgres else sql, tuple(params))
        return int(self.cursor.rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cursor.executemany(sql.replace("?", "%s") if self.postgres else sql, rows)


class Store:
    """A connection per thread to one database; `apply_once` is the whole idempotency story."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith(("postgresql://", "postgres://"))
        if not self.postgres and not url.startswith("sqlite:///"):
            raise UserError(
                "invalid setting RABBITMQ_WORKER_DATABASE_URL: use sqlite:///PATH or postgresql://..."
            )
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _open(self) -> Any:
        if self.postgres:
            try:
                return psycopg2.connect(self.url, connect_timeout=5)
            except psycopg2.OperationalError as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "refused"
                raise ServiceUnavailable("postgresql", _pg_address(self.url), reason) from None
        path = Path(self.url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode with explicit BEGIN IMMEDIATE: writers queue on the lock up front
        # instead of deadlocking on a read-to-write upgrade. WAL lets `status` read meanwhile.
        conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def ensure_schema(self) -> None:
        """Create the tables if they are missing (idempotent)."""
        self.transaction(lambda tx: [tx.execute(sql) for sql in SCHEMA])

    def transaction(self, work: Callable[[Tx], Any]) -> Any:
        """Run `work` in one transaction: committed if it returns, rolled back if it raises."""
        conn = self._connection()
        cursor = conn.cursor()
        if not self.postgres:
            cursor.execute("BEGIN IMMEDIATE")
        try:
            result = work(Tx(cursor, self.postgres))
        except BaseException:
            conn.rollback() if self.postgres else cursor.execute("ROLLBACK")
            raise
        conn.commit() if self.postgres else cursor.execute("COMMIT")
        return result

    def apply_once(self, message_id: str, task: str, effect: Callable[[Tx], int]) -> bool:
        """Apply `effect` and record `message_id` atomically; False (nothing done) if seen before."""

        def work(tx: Tx) -> bool:
            claimed = tx.execute(
                "INSERT INTO processed_messages (message_id, task, records) VALUES (?, ?, 0) "
                "ON CONFLICT (message_id) DO NOTHING",
                (message_id, task),
            )
            if claimed == 0:
                return False
            records = effect(tx)
            tx.execute(
                "UPDATE processed_messages SET records = ? WHERE message_id = ?",
                (records, message_id),
            )
            return True

        return bool(self.transaction(work))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query (tests, demo and status)."""
        conn = self._connection()
        cursor = conn.cursor()
        cursor.execute(sql.replace("?", "%s") if self.postgres else sql, tuple(params))
        rows = [tuple(r) for r in cursor.fetchall()]
        if self.postgres:
            conn.rollback()
        return rows

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


def _pg_address(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"
