"""PostgreSQL through SQLAlchemy: one table per endpoint (`<source>_<endpoint>`), the primary key's
fields as text columns, the record as JSONB. A write is one transaction of
`INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE digest differs`: new keys are inserted, changed
records updated, unchanged ones left alone and counted as duplicates.

SQLAlchemy's and psycopg2's errors are mapped here and nowhere else: a server out of reach is
`ServiceUnavailable`, a bad URL `UserError`, anything the server refused `JobError`; never the
password.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import URL, make_url

from api_fetcher.config import ApiFetcherSettings
from api_fetcher.records import Record
from api_fetcher.sinks import Sink, WriteResult, collapse
from api_fetcher.spec import Endpoint
from de_common.config import env_name
from de_common.errors import JobError, ServiceUnavailable, UserError

_ROWS_PER_STATEMENT = 1000


def _url(settings: ApiFetcherSettings) -> URL:
    var = env_name(ApiFetcherSettings, "database_url")
    if settings.database_url is None:
        raise UserError(f"the postgres sink needs a database URL: set {var}")
    try:
        url = make_url(settings.database_url.get_secret_value())
    except sa.exc.ArgumentError:
        raise UserError(f"invalid setting {var}: not a database URL") from None
    if url.get_backend_name() != "postgresql":
        raise UserError(f"invalid setting {var}: the postgres sink needs a postgresql:// URL")
    return url.set(drivername="postgresql+psycopg2")


def _first(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0]


class PostgresDestination:
    def __init__(self, settings: ApiFetcherSettings) -> None:
        self.url = _url(settings)
        self.address = f"{self.url.host or 'localhost'}:{self.url.port or 5432}/{self.url.database}"
        self.engine = sa.create_engine(
            self.url,
            pool_size=settings.concurrency,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10, "application_name": "api_fetcher"},
        )
        with self.errors("connecting"), self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    @contextmanager
    def errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except sa.exc.OperationalError as exc:
            if exc.connection_invalidated or "connect" in _first(exc).lower():
                raise ServiceUnavailable("postgres", self.address, _first(exc)) from None
            raise JobError(f"postgres sink failed {action}: {_first(exc)}") from None
        except sa.exc.DBAPIError as exc:
            raise JobError(f"postgres sink refused {action}: {_first(exc)}") from None

    def open(self, source: str, endpoint: Endpoint) -> Sink:
        table = table_for(source, endpoint)
        with self.errors(f"creating {table.name}"), self.engine.begin() as conn:
            table.metadata.create_all(conn)
        return PostgresSink(self, table)

    def close(self) -> None:
        self.engine.dispose()


def table_for(source: str, endpoint: Endpoint) -> sa.Table:
    """`<source>_<endpoint>`: the key fields, the record, its digest and cursor, when fetched."""
    metadata = sa.MetaData()
    keys = [sa.Column(name, sa.Text, primary_key=True) for name in endpoint.primary_key]
    return sa.Table(
        f"{source}_{endpoint.name}".lower(),
        metadata,
        *keys,
        sa.Column("_record", JSONB, nullable=False),
        sa.Column("_digest", sa.Text, nullable=False),
        sa.Column("_cursor", sa.Text),
        sa.Column("_fetched_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


class PostgresSink:
    def __init__(self, dest: PostgresDestination, table: sa.Table) -> None:
        self.dest = dest
        self.table = table
        self.key_names = [c.name for c in table.primary_key.columns]

    def _rows(self, records: Sequence[Record]) -> list[dict[str, Any]]:
        rows = []
        for r in records:
            row: dict[str, Any] = dict(zip(self.key_names, r.key, strict=True))
            cursor = None if r.cursor is None else str(r.cursor)
            rows.append({**row, "_record": r.data, "_digest": r.digest, "_cursor": cursor})
        return rows

    def write(self, records: Sequence[Record]) -> WriteResult:
        kept, repeated = collapse(records)
        result = WriteResult(duplicates=repeated)
        if not kept:
            return result
        t = self.table
        with self.dest.errors(f"writing {t.name}"), self.dest.engine.begin() as conn:
            for start in range(0, len(kept), _ROWS_PER_STATEMENT):
                rows = self._rows(kept[start : start + _ROWS_PER_STATEMENT])
                stmt = insert(t).values(rows)
                upsert: Any = stmt.on_conflict_do_update(
                    index_elements=self.key_names,
                    set_={
                        "_record": stmt.excluded._record,
                        "_digest": stmt.excluded._digest,
                        "_cursor": stmt.excluded._cursor,
                        "_fetched_at": sa.func.now(),
                    },
                    where=t.c._digest != stmt.excluded._digest,
                ).returning(sa.literal_column("xmax = 0").label("inserted"))
                flags = [bool(row.inserted) for row in conn.execute(upsert)]
                result.written += len(flags)
                result.updated += flags.count(False)
                result.duplicates += len(rows) - len(flags)
        return result

    def close(self) -> None:
        return None
