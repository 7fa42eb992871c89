"""Load one file: hash check, one transaction around create/evolve/COPY/merge/rejects/audit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.engine import Connection, Engine

from csv_to_postgres import pgsql, tables
from csv_to_postgres.audit import Audit
from csv_to_postgres.batches import Batch, Plan, produce
from csv_to_postgres.chunks import ChunkReader
from csv_to_postgres.columns import TableSpec, spec_from_table
from csv_to_postgres.config import CsvToPostgresSettings
from csv_to_postgres.contract import compare, resolve
from csv_to_postgres.datasets import MODEL_NAMES, model_table
from csv_to_postgres.dedupe import KeyTracker
from csv_to_postgres.dialect import SAMPLE_BYTES, Dialect, detect
from csv_to_postgres.engine import connect, is_postgres
from csv_to_postgres.headers import map_headers, sanitize
from csv_to_postgres.inference import infer
from csv_to_postgres.loaders import Loader, PostgresLoader, SqlLoader
from csv_to_postgres.parsing import parse
from csv_to_postgres.rejects import Reject, write_csv
from csv_to_postgres.sources import content_hash, open_binary
from de_common.errors import JobError, UserError

log = logging.getLogger(__name__)
REJECTS_CAP = 1_000_000  # beyond this the file is not worth holding in memory: fail early


@dataclass
class FileResult:
    """The balance sheet of one file."""

    file: str
    table: str
    status: str
    load_id: str | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    duplicates: int = 0
    blank_lines: int = 0
    seconds: float = 0.0
    message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.inserted + self.updated + self.rejected + self.duplicates


@dataclass
class Target:
    """Where a file goes."""

    table: str
    model: str | None = None
    schema: str | None = None


def resolve_target(table: str | None, model: str | None, schema: str | None, path: Path) -> Target:
    """--model names a demo model; --table names any table; default: the file's stem."""
    if model is not None and model not in MODEL_NAMES:
        raise UserError(f"unknown model {model!r}; have: {', '.join(MODEL_NAMES)}")
    name = table or (model if model else path.name.split(".")[0])
    return Target(sanitize(name, 1), model, schema)


def read_sample(path: Path, settings: CsvToPostgresSettings) -> tuple[Dialect, list[str], pa.Table]:
    """The dialect, the sanitized column names and up to sample_rows rows as strings."""
    with open_binary(path) as fh:
        head = fh.read(SAMPLE_BYTES)
    if not head.strip():
        raise UserError(f"{path}: empty file (no header)")
    dialect = detect(head, settings.encoding, settings.delimiter, settings.quote)
    with open_binary(path) as fh:
        reader = ChunkReader(fh, dialect, min(settings.chunk_bytes, 4 << 20))
        names = map_headers(reader.header, settings.header_map)
        first = next(iter(reader), None)
    if first is None:
        return dialect, names, pa.table({n: pa.array([], pa.string()) for n in names})
    table = parse(first, names, dialect).table.slice(0, settings.sample_rows)
    return dialect, names, table


def _spec_for(
    conn: Connection, target: Target, sample: pa.Table, settings: CsvToPostgresSettings
) -> tuple[TableSpec, bool]:
    """(spec, exists): the live table, else the model, else inferred from the sample."""
    live = tables.existing_spec(conn, target.table, target.schema)
    if live is not None:
        return live, True
    if target.model:
        spec = spec_from_table(model_table(target.model), target.model)
        spec.name, spec.schema = target.table, target.schema
        return spec, False
    pk = [sanitize(k, 1) for k in settings.primary_key]
    missing = [k for k in pk if k not in sample.column_names]
    if missing:
        raise UserError(f"primary key column(s) not in the file: {', '.join(missing)}")
    return infer(target.table, sample, settings.cleaning, pk, target.schema), False


def load_file(
    engine: Engine,
    path: Path,
    target: Target,
    settings: CsvToPostgresSettings,
    *,
    force: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> FileResult:
    """Load one file exactly once (unless forced); everything or nothing reaches the table."""
    started = time.monotonic()
    # hashlib releases the GIL: hash on a thread while connecting and sampling
    with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
        hashing = pool.submit(content_hash, path)
        dialect, names, sample = read_sample(path, settings)
        log.debug("sampled", extra={"delimiter": dialect.delimiter, "encoding": dialect.encoding})
        conn = connect(engine)
        try:
            Audit(conn, target.schema).ensure()
        except BaseException:
            conn.close()
            raise
        digest = hashing.result()
    log.debug("hashed", extra={"file": str(path), "sha256": digest})
    result = FileResult(str(path), target.table, "skipped")
    with conn:
        audit = Audit(conn, target.schema)
        earlier = audit.done_before(target.table, digest)
        conn.rollback()
        if earlier and not force:
            log.info("already loaded, skipping", extra={"file": str(path), "load_id": earlier})
            result.message = f"same content already loaded by {earlier}"
            return result
        audit.abandon_stale(target.table)
        load_id = audit.start(target.table, str(path), digest, settings.mode)
        result.load_id = load_id
        rejects: list[Reject] = []
        try:
            with conn.begin():
                status = _load_in_transaction(
                    conn,
                    audit,
                    path,
                    target,
                    settings,
                    digest,
                    load_id,
                    dialect,
                    names,
                    sample,
                    result,
                    rejects,
                    force,
                    on_rows,
                )
            result.status = status
            log.debug("committed", extra={"load_id": load_id})
            # a killed run's backend may outlive its client for a moment: check again now
            audit.abandon_stale(target.table)
        except Exception as exc:
            conn.rollback()
            message = " ".join(str(exc).split())[:500]
            with conn.begin():
                audit.finish(
                    load_id,
                    "failed",
                    message,
                    rows_read=result.rows_read,
                    rejected=result.rejected,
                    duplicates=result.duplicates,
                )
                if rejects:
                    audit.add_rejects(load_id, target.table, rejects)
            raise
        finally:
            if settings.rejects_csv and rejects:
                write_csv(Path(settings.rejects_csv), rejects)
            result.seconds = round(time.monotonic() - started, 3)
    return result


def _load_in_transaction(
    conn: Connection,
    audit: Audit,
    path: Path,
    target: Target,
    settings: CsvToPostgresSettings,
    digest: str,
    load_id: str,
    dialect: Dialect,
    names: list[str],
    sample: pa.Table,
    result: FileResult,
    rejects: list[Reject],
    force: bool,
    on_rows: Callable[[int], None] | None,
) -> str:
    pg = is_postgres(conn)
    if pg:
        cur = pgsql.cursor(conn)
        # Same content loaded concurrently: the second waits here, then sees the first's `done`.
        # Text without a zone offset means UTC, for COPY exactly as for the pandas path.
        cur.execute("SET LOCAL TIME ZONE 'UTC'")
        pgsql.advisory_lock(cur, f"file:{target.schema}.{target.table}:{digest}")
        if not force and audit.done_before(target.table, digest):
            audit.finish(load_id, "skipped", "loaded concurrently by another process")
            result.message = "loaded concurrently by another process"
            return "skipped"
        if tables.reflect(conn, target.table, target.schema) is None:
            # First load of a new table: concurrent first loads wait here for the CREATE to commit.
            pgsql.advisory_lock(cur, f"create:{target.schema}.{target.table}")
    spec, exists = _spec_for(conn, target, sample, settings)
    if not exists:
        tables.create(conn, spec)
        result.extra["created_table"] = True
    drift = compare(spec, sample, settings.cleaning)
    plan = resolve(spec, drift, settings.schema_change)
    if plan:
        spec = tables.evolve(conn, spec, plan)
        result.extra["schema_evolved"] = plan.describe()
        log.info("table evolved", extra={"table": spec.name, "change": plan.describe()})
    columns = [n for n in names if spec.column(n) is not None]
    loader_cls: type[Loader] = PostgresLoader if pg else SqlLoader
    kwargs: dict[str, Any] = {} if pg else {"batch_rows": settings.executemany_batch}
    loader = loader_cls(conn, spec, columns, settings.mode, load_id, **kwargs)

    def on_batch(batch: Batch) -> None:
        result.extra["chunks"] = result.extra.get("chunks", 0) + 1
        result.extra["chunks_verbatim"] = result.extra.get("chunks_verbatim", 0) + batch.extra.get(
            "verbatim", 0
        )
        result.rows_read += batch.rows_read
        result.blank_lines += batch.blank
        rejects.extend(batch.rejects)
        result.rejected += len(batch.rejects)
        if result.rejected > REJECTS_CAP:
            raise JobError(f"{path}: more than {REJECTS_CAP} rejected rows, stopping")
        if on_rows is not None:
            on_rows(batch.rows_read)

    # Original bytes may go to COPY only where COPY reads them exactly as we validated them.
    verbatim = pg and dialect.quote == '"' and "" in settings.cleaning.null_values
    loader.delimiter = dialect.delimiter
    loader.force_null = verbatim
    plan_ = Plan(
        names,
        columns,
        spec,
        settings.cleaning,
        dialect,
        str(path),
        encode_csv=pg,
        verbatim_copy=verbatim,
    )
    with open_binary(path) as fh:
        reader = ChunkReader(fh, dialect, settings.chunk_bytes)
        batches = produce(chain(reader), plan_, KeyTracker(spec.primary_key))
        log.debug("streaming", extra={"columns": len(columns), "mode": settings.mode})
        outcome = loader.run(batches, on_batch)
        log.debug("merged", extra={"inserted": outcome.inserted, "updated": outcome.updated})
    dups = [
        Reject(
            str(path),
            line,
            None,
            "duplicate key: an earlier row with this key was kept",
            "duplicate",
        )
        for line in outcome.duplicate_lines
    ]
    rejects.extend(dups)
    result.duplicates = len(dups)
    result.inserted, result.updated = outcome.inserted, outcome.updated
    if outcome.unchanged is not None:
        result.extra["unchanged"] = outcome.unchanged
    if outcome.replaced_rows is not None:
        result.extra["replaced_rows"] = outcome.replaced_rows
    if not result.balanced:
        raise JobError(
            f"{path}: rows do not balance: read {result.rows_read} != inserted {result.inserted} + "
            f"updated {result.updated} + rejected {result.rejected} + duplicates {result.duplicates}"
        )
    rate = result.rejected / result.rows_read if result.rows_read else 0.0
    if rate > settings.max_reject_rate:
        raise JobError(
            f"{path}: {result.rejected} of {result.rows_read} rows rejected ({rate:.1%}), above "
            f"--max-reject-rate {settings.max_reject_rate:.1%}; nothing was loaded"
        )
    if rejects:
        audit.add_rejects(load_id, target.table, rejects)
    audit.finish(
        load_id,
        "done",
        None,
        rows_read=result.rows_read,
        inserted=result.inserted,
        updated=result.updated,
        rejected=result.rejected,
        duplicates=result.duplicates,
    )
    return "done"
