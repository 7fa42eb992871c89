"""The SQLAlchemy engine: pooling, secrets, real transactions on SQLite, clear connect errors."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from csv_to_postgres.config import CsvToPostgresSettings
from de_common.errors import ServiceUnavailable, UserError


def database_url(settings: CsvToPostgresSettings) -> URL:
    """The URL with the separate password (if any) applied."""
    try:
        url = make_url(settings.database_url.get_secret_value())
    except sa.exc.ArgumentError:
        raise UserError(
            "invalid setting CSV_TO_POSTGRES_DATABASE_URL: not a database URL"
        ) from None
    if url.get_backend_name() == "postgresql":
        # COPY FROM STDIN goes through psycopg2's copy_expert; SQLAlchemy 2.1 defaults to psycopg 3.
        url = url.set(drivername="postgresql+psycopg2")
    if settings.password is not None:
        url = url.set(password=settings.password.get_secret_value())
    return url


def safe_url(url: URL) -> str:
    """For logs and messages: never the password."""
    return url.render_as_string(hide_password=True)


def make_engine(settings: CsvToPostgresSettings) -> Engine:
    """One engine per process; its pool hands one connection to each file being loaded."""
    url = database_url(settings)
    kwargs: dict[str, Any] = {"pool_pre_ping": settings.pool_pre_ping}
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, **kwargs)
        _sqlite_transactions(engine)
        return engine
    kwargs.update(
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_recycle=settings.pool_recycle_s,
    )
    if url.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {
            "connect_timeout": settings.connect_timeout_s,
            "application_name": "csv_to_postgres",
        }
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise UserError(f"unsupported database URL {safe_url(url)}: {exc}") from None
    if url.get_backend_name() == "postgresql":
        _postgres_session(engine, settings.pg_temp_buffers)
    return engine


def _postgres_session(engine: Engine, temp_buffers: str) -> None:
    """temp_buffers can only change before a session first touches a temp table: on connect."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET temp_buffers = %s", (temp_buffers,))
        dbapi_conn.commit()


def _sqlite_transactions(engine: Engine) -> None:
    """pysqlite commits DDL on its own; take over BEGIN so CREATE/ALTER are transactional too."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def connect(engine: Engine) -> Connection:
    """A pooled connection, or ServiceUnavailable naming the server (password hidden)."""
    try:
        return engine.connect()
    except sa.exc.OperationalError as exc:
        url = engine.url
        address = f"{url.host or 'localhost'}:{url.port or ''}" if url.host else safe_url(url)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else ""
        raise ServiceUnavailable(url.get_backend_name(), address, reason) from None


def is_postgres(conn: Connection) -> bool:
    """True when COPY and the PostgreSQL merge statements apply."""
    return conn.dialect.name == "postgresql"
