"""PostgreSQL table freshness (max of a timestamp column) and exact row counts."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2
from psycopg2 import sql

from monitoring.checks import CheckFailed, Sample
from monitoring.series import DATA_ITEMS, DATA_LAST_UPDATE, DATA_SLA


@dataclass(frozen=True)
class Table:
    """A table to watch: `schema.table`, its timestamp column and its freshness SLA."""

    name: str
    column: str
    sla_s: float


@dataclass
class PostgresTables:
    """One connection per round; every table in one read-only transaction under a timeout."""

    name: str
    dsn: str
    tables: list[Table]
    timeout_s: float
    kind: str = "postgres"

    def run(self) -> list[Sample]:
        millis = int(self.timeout_s * 1000)
        try:
            conn = psycopg2.connect(
                self.dsn,
                connect_timeout=max(1, int(self.timeout_s)),
                options=f"-c statement_timeout={millis} -c default_transaction_read_only=on",
                application_name="monitoring",
            )
        except psycopg2.OperationalError as exc:
            raise CheckFailed(f"postgres: {_first_line(exc)}") from None
        try:
            with conn, conn.cursor() as cur:
                return [s for t in self.tables for s in self._table(cur, t)]
        except psycopg2.Error as exc:
            raise CheckFailed(f"postgres: {_first_line(exc)}") from None
        finally:
            conn.close()

    def _table(self, cur: psycopg2.extensions.cursor, table: Table) -> list[Sample]:
        schema, _, name = table.name.rpartition(".")
        ident = sql.Identifier(schema, name) if schema else sql.Identifier(name)
        query = sql.SQL(
            "SELECT count(*), extract(epoch FROM max({col}))::float8 FROM {tbl}"
        ).format(col=sql.Identifier(table.column), tbl=ident)
        cur.execute(query)
        row = cur.fetchone()
        if row is None:
            raise CheckFailed(f"postgres: no answer counting {table.name}")
        rows, newest = row
        labels = (self.name, self.kind, table.name)
        samples = [Sample(DATA_ITEMS, labels, rows), Sample(DATA_SLA, labels, table.sla_s)]
        # An empty table has no newest row: no timestamp rather than a made-up one.
        if newest is not None:
            samples.append(Sample(DATA_LAST_UPDATE, labels, newest))
        return samples

    def close(self) -> None:
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
