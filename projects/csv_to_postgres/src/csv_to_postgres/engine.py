"""The SQLAlchemy engine: pooling, secrets, real transactions on SQLite, and the one place where a
driver's errors become de_common's: unreachable -> ServiceUnavailable, bad URL -> UserError, any
other operational failure of the server -> JobError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext, make_url

from csv_to_postgres.config import CsvToPostgresSettings
from de_common.config import env_name
from de_common.errors import JobError, ServiceUnavailable, UserError


def database_url(settings: CsvToPostgresSettings) -> URL:
    """The URL with the separate password (if any) applied."""
    try:
        url = make_url(settings.database_url.get_secret_value())
    except sa.exc.ArgumentError:
        name = env_name(CsvToPostgresSettings, "database_url")
        raise UserError(f"invalid setting {name}: not a database URL") from None
    if url.get_backend_name() == "postgresql":
        # COPY FROM STDIN goes through psycopg2's copy_expert; SQLAlchemy 2.1 defaults to psycopg 3.
        url = url.set(drivername="postgresql+psycopg2")
    if settings.password is not None:
        url = url.set(password=settings.password.get_secret_value())
    return url


def safe_url(url: URL) -> str:
    """For logs and messages: never the password."""
    return url.render_as_string(hide_password=True)


@contextmanager
def database(settings: CsvToPostgresSettings) -> Iterator[Engine]:
    """An engine for the length of a command, disposed after it; a driver error that escapes it
    (a raw psycopg2 cursor bypasses SQLAlchemy) is translated like every SQLAlchemy one."""
    engine = make_engine(settings)
    try:
        yield engine
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        raise _translate(engine.url, exc, disconnected=exc.pgcode is None) from exc
    finally:
        engine.dispose()


def make_engine(settings: CsvToPostgresSettings) -> Engine:
    """One engine per process; its pool hands one connection to each file being loaded."""
    url = database_url(settings)
    kwargs: dict[str, Any] = {"pool_pre_ping": settings.pool_pre_ping}
    backend = url.get_backend_name()
    if backend != "sqlite":
        kwargs.update(
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_recycle=settings.pool_recycle_s,
        )
    if backend == "postgresql":
        kwargs["connect_args"] = {
            "connect_timeout": settings.connect_timeout_s,
            "application_name": "csv_to_postgres",
        }
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise UserError(f"unsupported database URL {safe_url(url)}: {exc}") from None
    sa.event.listen(engine, "handle_error", _on_error, retval=True)
    if backend == "sqlite":
        _sqlite_transactions(engine)
    elif backend == "postgresql":
        _postgres_session(engine, settings.pg_temp_buffers)
    return engine


def _on_error(ctx: ExceptionContext) -> BaseException | None:
    """Every error SQLAlchemy sees (connecting included): an operational one becomes ours."""
    if ctx.is_pre_ping or not isinstance(ctx.sqlalchemy_exception, sa.exc.OperationalError):
        return None  # pre-ping reconnects on its own; constraint errors etc. stay as they are
    url = ctx.engine.url if ctx.engine is not None else None
    disconnected = ctx.connection is None or ctx.is_disconnect
    return _translate(url, ctx.original_exception, disconnected)


def _translate(url: URL | None, exc: BaseException, disconnected: bool) -> JobError:
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if not disconnected:
        return JobError(f"database error: {reason}")
    if url is None:
        return ServiceUnavailable("database", "?", reason)
    address = f"{url.host}:{url.port or ''}" if url.host else safe_url(url)
    return ServiceUnavailable(url.get_backend_name(), address, reason)


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


def is_postgres(conn: Connection) -> bool:
    """True when COPY and the PostgreSQL merge statements apply."""
    return conn.dialect.name == "postgresql"
