"""The one module that talks to HiveServer2 (PyHive): DDL, partitions and queries.

Values always travel as PyHive parameters (pyformat; the driver quotes and escapes them);
identifiers cannot be parameters, so they pass `identifiers.identifier` (a strict pattern) and are
backquoted. A refused connection is `ServiceUnavailable`; an error answer is `JobError` with the
server's first line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pyhive import exc as hive_exc
from pyhive import hive
from thrift.Thrift import TException
from thrift.transport.TTransport import TTransportException

from de_common.errors import JobError, ServiceUnavailable, UserError
from hdfs_hive.config import HdfsHiveSettings
from hdfs_hive.identifiers import identifier, table_name
from hdfs_hive.partition_spec import PartitionSpec

if TYPE_CHECKING:
    import pandas as pd

Params = Mapping[str, object]

# PyHive logs every statement with its parameter values filled in, at INFO: values stay out of logs.
logging.getLogger("pyhive").setLevel(logging.WARNING)


def _server_message(exc: BaseException) -> str:
    """The first line of HiveServer2's error text (its Java stack trace is not for people)."""
    status = getattr(exc.args[0], "status", None) if exc.args else None
    text = getattr(status, "errorMessage", None) or str(exc)
    first = next((line for line in str(text).splitlines() if line.strip()), type(exc).__name__)
    return " ".join(first.split())[:400]


@dataclass
class Catalog:
    """One HiveServer2 session."""

    url: str
    connection: Any

    @contextmanager
    def _mapped(self) -> Iterator[None]:
        try:
            yield
        except TTransportException as exc:
            raise ServiceUnavailable("hive", self.url, str(exc) or type(exc).__name__) from exc
        except hive_exc.OperationalError as exc:
            raise JobError(f"hive: {_server_message(exc)}") from exc
        except (hive_exc.Error, TException) as exc:
            raise JobError(f"hive: {_server_message(exc)}") from exc

    def execute(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run one statement; its rows (empty for DDL)."""
        with self._mapped():
            cursor = self.connection.cursor()
            try:
                cursor.execute(sql, dict(params) if params else None)
                return list(cursor.fetchall()) if cursor.description else []
            finally:
                cursor.close()

    def frame(self, sql: str, params: Params | None = None) -> pd.DataFrame:
        """Run a query; its rows as a pandas DataFrame with the result's column names."""
        # Imported here: pandas takes seconds to import on a busy box, and `put` never needs it.
        import pandas as pd

        with self._mapped():
            cursor = self.connection.cursor()
            try:
                cursor.execute(sql, dict(params) if params else None)
                names = [d[0].split(".")[-1] for d in cursor.description or []]
                return pd.DataFrame.from_records(list(cursor.fetchall()), columns=names)
            finally:
                cursor.close()

    def close(self) -> None:
        with self._mapped():
            self.connection.close()

    # --- tables and partitions ------------------------------------------------------------

    def ensure_table(
        self,
        database: str,
        table: str,
        columns: str,
        location: str,
        partition_keys: tuple[str, ...] = ("dt",),
    ) -> None:
        """The database and an EXTERNAL Parquet table partitioned by dt (and more) over `location`."""
        keys = ", ".join(f"{identifier(k, 'partition key')} STRING" for k in partition_keys)
        self.execute(f"CREATE DATABASE IF NOT EXISTS {identifier(database, 'database')}")
        self.execute(
            f"CREATE EXTERNAL TABLE IF NOT EXISTS {table_name(database, table)} ({columns}) "
            f"PARTITIONED BY ({keys}) STORED AS PARQUET LOCATION %(location)s",
            {"location": location},
        )

    def partitions(self, database: str, table: str) -> list[str]:
        """The dt values registered for the table."""
        rows = self.execute(f"SHOW PARTITIONS {table_name(database, table)}")
        return sorted(str(r[0]).partition("dt=")[2] for r in rows)

    def add_partitions(self, database: str, table: str, locations: dict[str, str]) -> None:
        """ALTER TABLE ADD IF NOT EXISTS PARTITION ... LOCATION ..., all in one statement."""
        if not locations:
            return
        params: dict[str, object] = {}
        specs = []
        for n, (dt, location) in enumerate(sorted(locations.items())):
            params[f"dt{n}"], params[f"loc{n}"] = dt, location
            specs.append(f"PARTITION (dt=%(dt{n})s) LOCATION %(loc{n})s")
        self.execute(
            f"ALTER TABLE {table_name(database, table)} ADD IF NOT EXISTS {' '.join(specs)}", params
        )

    def repair(self, database: str, table: str) -> None:
        """MSCK REPAIR TABLE: the server lists the table folder and adds the dt= folders it finds."""
        self.execute(f"MSCK REPAIR TABLE {table_name(database, table)}")

    def drop_partition(self, database: str, table: str, dt: str) -> None:
        """Forget one partition (external table: the files stay until we delete them)."""
        self.execute(
            f"ALTER TABLE {table_name(database, table)} DROP IF EXISTS PARTITION (dt=%(dt)s)",
            {"dt": dt},
        )

    def partition_location(self, database: str, table: str, dt: str) -> str | None:
        """The partition's LOCATION as a path (scheme and authority removed), None if absent."""
        if dt not in self.partitions(database, table):
            return None
        rows = self.execute(
            f"DESCRIBE FORMATTED {table_name(database, table)} PARTITION (dt=%(dt)s)", {"dt": dt}
        )
        # The partition's own Location comes before the table's in this output.
        found = next((str(r[1]) for r in rows if r[0] and str(r[0]).strip() == "Location"), None)
        return urlsplit(found).path if found else None

    def set_location(self, database: str, table: str, dt: str, location: str) -> None:
        """Point one partition at another folder: one metastore update, atomic for readers."""
        self.execute(
            f"ALTER TABLE {table_name(database, table)} PARTITION (dt=%(dt)s) "
            "SET LOCATION %(location)s",
            {"dt": dt, "location": location},
        )

    # --- partitions by full spec (dt=D/hour=H) ----------------------------------------------

    def location_of(self, database: str, table: str, spec: PartitionSpec) -> str | None:
        """The LOCATION path of the partition `spec`, None when it is not registered."""
        where, params = _spec(spec)
        name = table_name(database, table)
        if not self.execute(f"SHOW PARTITIONS {name} PARTITION ({where})", params):
            return None
        rows = self.execute(f"DESCRIBE FORMATTED {name} PARTITION ({where})", params)
        found = next((str(r[1]) for r in rows if r[0] and str(r[0]).strip() == "Location"), None)
        return urlsplit(found).path if found else None

    def add_partition(self, database: str, table: str, spec: PartitionSpec, location: str) -> None:
        """Register one partition at `location` (no-op when it already exists)."""
        where, params = _spec(spec)
        self.execute(
            f"ALTER TABLE {table_name(database, table)} ADD IF NOT EXISTS PARTITION ({where}) "
            "LOCATION %(location)s",
            {**params, "location": location},
        )

    def move_partition(self, database: str, table: str, spec: PartitionSpec, location: str) -> None:
        """Point partition `spec` at `location`: one metastore update, atomic for readers."""
        where, params = _spec(spec)
        self.execute(
            f"ALTER TABLE {table_name(database, table)} PARTITION ({where}) "
            "SET LOCATION %(location)s",
            {**params, "location": location},
        )


def _spec(spec: PartitionSpec) -> tuple[str, dict[str, object]]:
    """`k`=%(p0)s, ... and its parameters: keys validated identifiers, values parameters."""
    params: dict[str, object] = {}
    parts = []
    for n, (key, value) in enumerate(spec.pairs):
        params[f"p{n}"] = value
        parts.append(f"{identifier(key, 'partition key')}=%(p{n})s")
    return ", ".join(parts), params


def connect(settings: HdfsHiveSettings) -> Catalog:
    """A session with HiveServer2 at hive_url (auth NONE)."""
    url = settings.hive_url
    parts = urlsplit(url)
    if parts.scheme != "hive" or not parts.hostname:
        raise UserError(f"invalid hive_url {url!r}: expected hive://HOST:PORT/DATABASE")
    database = parts.path.strip("/") or "default"
    try:
        connection = hive.connect(
            host=parts.hostname,
            port=parts.port or 10000,
            username=settings.hdfs_user,
            database=database,
            auth="NONE",
        )
    except (TTransportException, OSError) as exc:
        raise ServiceUnavailable("hive", url, str(exc) or type(exc).__name__) from exc
    except (hive_exc.Error, TException) as exc:
        raise ServiceUnavailable("hive", url, _server_message(exc)) from exc
    return Catalog(url, connection)
