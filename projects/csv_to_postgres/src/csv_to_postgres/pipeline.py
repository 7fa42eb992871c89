"""Load one file: hash check, one transaction around create/evolve/COPY/merge/rejects/audit."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine

from csv_to_postgres import pgsql, tables
from csv_to_postgres.audit import Audit, Earlier, content_hash
from csv_to_postgres.batches import Batch, Plan, produce
from csv_to_postgres.chunks import ChunkReader
from csv_to_postgres.columns import TableSpec
from csv_to_postgres.config import CsvToPostgresSettings
from csv_to_postgres.contract import compare, resolve
from csv_to_postgres.dedupe import KeyTracker
from csv_to_postgres.engine import is_postgres
from csv_to_postgres.identity import identify, not_held
from csv_to_postgres.loaders import Loader, Outcome, PostgresLoader, SqlLoader
from csv_to_postgres.rejects import Reject, write_csv
from csv_to_postgres.sample import Sample, read_sample
from csv_to_postgres.targets import Target, planned_spec
from de_common.errors import JobError
from de_common.inputs import Input, open_input

log = logging.getLogger(__name__)
REJECTS_CAP = 1_000_000  # beyond this the file is not worth holding in memory: fail early


@dataclass
class FileResult:
    """The balance sheet of one file: rows_read = inserted + updated + rejected + duplicates."""

    file: str
    table: str
    status: str = "pending"  # done | skipped | failed
    load_id: str | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    duplicates: int = 0
    already_loaded: int = 0  # rows of the earlier load of the same content (skipped files)
    blank_lines: int = 0
    seconds: float = 0.0
    message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.inserted + self.updated + self.rejected + self.duplicates

    @property
    def rolled_back(self) -> int:
        """Good rows of a failed file: read and valid, but its transaction was rolled back."""
        if self.status != "failed":
            return 0
        return max(0, self.rows_read - self.rejected - self.duplicates)

    def fail(self, message: str) -> None:
        """Nothing of this file was committed: no row counts as inserted or updated."""
        self.status, self.message = "failed", message
        self.inserted = self.updated = 0

    def as_dict(self) -> dict[str, Any]:
        """The file's entry in the summary's `files`."""
        counts = {"already_loaded": self.already_loaded, "rolled_back": self.rolled_back}
        return {
            "file": self.file,
            "table": self.table,
            "status": self.status,
            "load_id": self.load_id,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "updated": self.updated,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            **{k: v for k, v in counts.items() if v},
            "blank_lines": self.blank_lines,
            "seconds": self.seconds,
            **({"message": self.message} if self.message else {}),
            **self.extra,
        }


@dataclass
class FileLoad:
    """One file's load: what is read, where it goes, with which settings, and its result."""

    source: Input
    target: Target
    settings: CsvToPostgresSettings
    result: FileResult
    force: bool = False  # load even when the same content was loaded before
    on_rows: Callable[[int], None] | None = None  # progress
    # The job's verdict on the counts before commit: raising rolls the file back.
    accept: Callable[[FileResult], None] | None = None


@dataclass(frozen=True)
class _Content:
    """What the audit knows a file by: its size at once, its sha256 once the thread has it."""

    size: int
    hashing: Future[str]

    @property
    def digest(self) -> str:
        digest = self.hashing.result()
        log.debug("hashed", extra={"sha256": digest})
        return digest


@dataclass
class _Attempt:
    """What the transaction of one load works with."""

    job: FileLoad
    conn: Connection
    audit: Audit
    content: _Content
    load_id: str
    sample: Sample
    rejects: list[Reject] = field(default_factory=list)

    @property
    def result(self) -> FileResult:
        return self.job.result

    @property
    def settings(self) -> CsvToPostgresSettings:
        return self.job.settings


def load_file(engine: Engine, job: FileLoad) -> FileResult:
    """Load one file exactly once (unless forced); everything or nothing reaches the table.

    `job.result` holds the counts so far when this raises."""
    started = time.monotonic()
    try:
        _load(engine, job)
    finally:
        job.result.seconds = round(time.monotonic() - started, 3)
    return job.result


def _load(engine: Engine, job: FileLoad) -> None:
    # hashlib releases the GIL: hash on a thread while sampling, connecting and, unless this
    # table had a load of a file of this very size, while loading
    with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
        content = _Content(
            os.path.getsize(job.source.path), pool.submit(content_hash, job.source.path)
        )
        sample = read_sample(job.source, job.settings)
        log.debug(
            "sampled",
            extra={"delimiter": sample.dialect.delimiter, "encoding": sample.dialect.encoding},
        )
        conn = engine.connect()
        try:
            Audit(conn, job.target.schema).ensure()
        except BaseException:
            conn.close()
            raise
        with conn:
            _load_on(conn, job, content, sample)


def _load_on(conn: Connection, job: FileLoad, content: _Content, sample: Sample) -> None:
    target, result = job.target, job.result
    audit = Audit(conn, target.schema)
    earlier = None if job.force else _still_loaded(conn, audit, job, content)
    conn.rollback()
    if earlier:
        log.info(
            "already loaded, skipping", extra={"file": result.file, "load_id": earlier.load_id}
        )
        _skip(result, earlier, f"same content already loaded by {earlier.load_id}")
        return
    audit.abandon_stale(target.table)
    load_id = audit.start(target.table, job.source.path, content.size, job.settings.mode)
    result.load_id = load_id
    attempt = _Attempt(job, conn, audit, content, load_id, sample)
    try:
        with conn.begin():
            result.status = _load_in_transaction(attempt)
        log.debug("committed", extra={"load_id": load_id})
        # a killed run's backend may outlive its client for a moment: check again now
        audit.abandon_stale(target.table)
    except Exception as exc:
        conn.rollback()
        _record_failure(attempt, exc)
        raise
    finally:
        if job.settings.rejects_csv and attempt.rejects:
            write_csv(job.settings.rejects_csv, attempt.rejects)


def _still_loaded(
    conn: Connection, audit: Audit, job: FileLoad, content: _Content
) -> Earlier | None:
    """The earlier load of the same content that the target still holds, if any. One whose
    table was dropped, re-created or truncated since does not count: the file loads again.
    Without an earlier load of a file of this size there is none, and no need to wait for
    the hash."""
    target = job.target
    if not audit.loaded_size_before(target.table, content.size):
        return None
    earlier = audit.done_before(target.table, content.digest)
    if earlier is None:
        return None
    reason = not_held(conn, target.table, target.schema, earlier)
    if reason is None:
        return earlier
    job.result.message = f"same content was loaded by {earlier.load_id}, but {reason}: loaded again"
    log.info("loading again", extra={"file": job.result.file, "reason": reason})
    return None


def _skip(result: FileResult, earlier: Earlier, message: str) -> None:
    result.status, result.message = "skipped", message
    result.already_loaded = earlier.rows_read


def _record_failure(a: _Attempt, exc: Exception) -> None:
    """The audit row says failed, with the counts so far; the rejects are kept for inspection."""
    r = a.result
    with a.conn.begin():
        a.audit.finish(
            a.load_id,
            "failed",
            " ".join(str(exc).split())[:500],
            content_hash=a.content.digest,
            rows_read=r.rows_read,
            rejected=r.rejected,
            duplicates=r.duplicates,
        )
        if a.rejects:
            a.audit.add_rejects(a.load_id, a.job.target.table, a.rejects)


def _load_in_transaction(a: _Attempt) -> str:
    pg = is_postgres(a.conn)
    if pg and _loaded_meanwhile(a):
        return "skipped"
    spec = _prepare_table(a)
    outcome = _stream(a, spec, pg)
    _settle(a, outcome)
    return "done"


def _loaded_meanwhile(a: _Attempt) -> bool:
    """Serialise with loaders of the same content; True when one of them finished it first."""
    target = a.job.target
    cur = pgsql.cursor(a.conn)
    # Same content loaded concurrently: the second waits here (same content, same size), then
    # sees the first's `done`. Text without a zone offset means UTC, for COPY exactly as for the
    # pandas path.
    cur.execute("SET LOCAL TIME ZONE 'UTC'")
    pgsql.advisory_lock(cur, f"file:{target.schema}.{target.table}:{a.content.size}")
    earlier = None if a.job.force else _still_loaded(a.conn, a.audit, a.job, a.content)
    if earlier is not None:
        message = "loaded concurrently by another process"
        a.audit.finish(a.load_id, "skipped", message, content_hash=a.content.digest)
        _skip(a.result, earlier, message)
        return True
    if not tables.exists(a.conn, target.table, target.schema):
        # First load of a new table: concurrent first loads wait here for the CREATE to commit.
        pgsql.advisory_lock(cur, f"create:{target.schema}.{target.table}")
    return False


def _prepare_table(a: _Attempt) -> TableSpec:
    """The live table, else created (from the model or the sample); evolved if allowed."""
    target, settings, sample = a.job.target, a.settings, a.sample
    spec = tables.existing_spec(a.conn, target.table, target.schema)
    if spec is None:
        spec = planned_spec(target, sample, settings)
        tables.create(a.conn, spec)
        a.result.extra["created_table"] = True
    drift = compare(spec, sample.rows, sample.rules)
    plan = resolve(spec, drift, settings.on_schema_change)
    if plan:
        before = identify(a.conn, target.table, target.schema)
        spec = tables.evolve(a.conn, spec, plan)
        after = identify(a.conn, target.table, target.schema)
        if before is not None and after is not None and before != after:
            a.audit.carry_forward(target.table, before, after)  # a widened column rewrote it
        a.result.extra["schema_evolved"] = plan.describe()
        log.info("table evolved", extra={"table": spec.name, "change": plan.describe()})
    return spec


def _stream(a: _Attempt, spec: TableSpec, pg: bool) -> Outcome:
    """Every chunk parsed, checked and written through the loader; the merge at the end."""
    result, settings, dialect, names = a.result, a.settings, a.sample.dialect, a.sample.names
    columns = [n for n in names if spec.column(n) is not None]
    loader_cls: type[Loader] = PostgresLoader if pg else SqlLoader
    kwargs: dict[str, Any] = {} if pg else {"batch_rows": settings.executemany_batch}
    loader = loader_cls(a.conn, spec, columns, settings.mode, a.load_id, **kwargs)

    def on_batch(batch: Batch) -> None:
        result.extra["chunks"] = result.extra.get("chunks", 0) + 1
        result.extra["chunks_verbatim"] = result.extra.get("chunks_verbatim", 0) + batch.extra.get(
            "verbatim", 0
        )
        result.rows_read += batch.rows_read
        result.blank_lines += batch.blank
        a.rejects.extend(batch.rejects)
        result.rejected += len(batch.rejects)
        if result.rejected > REJECTS_CAP:
            raise JobError(f"{result.file}: more than {REJECTS_CAP} rejected rows, stopping")
        if a.job.on_rows is not None:
            a.job.on_rows(batch.rows_read)

    # Original bytes may go to COPY only where COPY reads them exactly as we validated them:
    # COPY's CSV rules are the parser's (an empty unquoted field NULL, "" an empty string).
    verbatim = pg and dialect.quote == '"'
    loader.copy_format = pgsql.CopyFormat(dialect.delimiter)
    plan = Plan(
        names,
        columns,
        spec,
        a.sample.rules,
        dialect,
        result.file,
        encode_csv=pg,
        verbatim_copy=verbatim,
    )
    with open_input(a.job.source) as fh:
        reader = ChunkReader(fh, dialect, settings.chunk_bytes)
        batches = produce(iter(reader), plan, KeyTracker(spec.primary_key))
        log.debug("streaming", extra={"columns": len(columns), "mode": settings.mode})
        outcome = loader.run(batches, on_batch)
        log.debug("merged", extra={"inserted": outcome.inserted, "updated": outcome.updated})
    return outcome


def _settle(a: _Attempt, outcome: Outcome) -> None:
    """Count, check the balance, ask the job's verdict, then write rejects and the audit `done`."""
    result = a.result
    a.rejects.extend(
        Reject(
            result.file,
            line,
            None,
            "duplicate key: an earlier row with this key was kept",
            "duplicate",
        )
        for line in outcome.duplicate_lines
    )
    result.duplicates = len(outcome.duplicate_lines)
    result.inserted, result.updated = outcome.inserted, outcome.updated
    if outcome.unchanged is not None:
        result.extra["unchanged"] = outcome.unchanged
    if outcome.replaced_rows is not None:
        result.extra["replaced_rows"] = outcome.replaced_rows
    if not result.balanced:
        raise JobError(
            f"{result.file}: rows do not balance: read {result.rows_read} != inserted "
            f"{result.inserted} + updated {result.updated} + rejected {result.rejected} + "
            f"duplicates {result.duplicates}"
        )
    if a.job.accept is not None:
        a.job.accept(result)
    if a.rejects:
        a.audit.add_rejects(a.load_id, a.job.target.table, a.rejects)
    target = a.job.target
    a.audit.finish(
        a.load_id,
        "done",
        None,
        identify(a.conn, target.table, target.schema),
        content_hash=a.content.digest,
        rows_read=result.rows_read,
        inserted=result.inserted,
        updated=result.updated,
        rejected=result.rejected,
        duplicates=result.duplicates,
    )
