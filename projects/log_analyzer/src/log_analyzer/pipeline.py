"""One analysis run: plan work units over the inputs, run them (in processes), merge, account."""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from de_common.errors import UserError
from log_analyzer.aggregate import Aggregate
from log_analyzer.blocks import Reading, Reject, aligned_ranges, iter_blocks
from log_analyzer.config import available_cpus
from log_analyzer.filters import Filters
from log_analyzer.formats import BUILTIN, LogFormat, compile_format_string, detect
from log_analyzer.parquet_out import write_parts
from log_analyzer.parsing import ParseOptions, parse_block
from log_analyzer.sources import (
    FINGERPRINT_BYTES,
    Input,
    fingerprint,
    open_source,
    read_head,
    sample_lines,
)
from log_analyzer.state import FileState, Observed, load_state, resume_point, save_state

log = logging.getLogger(__name__)

RANGE_BYTES = 64 << 20  # plain files above this are cut into ranges when workers > 1


@dataclass
class Options:
    """Everything a run needs besides its inputs."""

    format_name: str = "auto"
    format_string: str | None = None
    column_overrides: dict[str, str] = field(default_factory=dict)
    block_size: int = 4 << 20
    max_line: int = 1 << 20
    workers: int = field(default_factory=available_cpus)
    executor: str = "threads"  # threads | processes
    filters: Filters = field(default_factory=Filters)
    strip_query: bool = True
    rejects_path: Path | None = None
    parquet_dir: Path | None = None
    state_path: Path | None = None  # set = incremental mode
    run_id: str = "run"


@dataclass
class Unit:
    """A slice of one input that one worker reads: whole file, a resumed tail or a byte range."""

    index: int
    file_index: int
    source: Input
    fmt: LogFormat
    csv_header: list[str] | None
    start: int
    end: int | None
    first_line: int  # line number of the first line at `start`; 1 for ranges (renumbered later)
    relative_lines: bool
    hold_partial: bool


@dataclass
class UnitResult:
    """What a worker hands back: its aggregate and its counts, rejects spooled to a file."""

    index: int
    agg: Aggregate
    lines: int = 0
    parsed: int = 0
    rejected: int = 0
    filtered: int = 0
    latin1: int = 0
    fallback: int = 0  # lines the fast split set aside for the regex
    end_offset: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rejects_file: str | None = None
    vanished: str | None = None


@dataclass
class RunResult:
    """The merged outcome of a run."""

    agg: Aggregate
    lines: int
    parsed: int
    rejected: int
    filtered: int
    latin1: int
    reasons: Counter[str]
    files: list[dict[str, Any]]
    format: str
    vanished: list[str]
    rejects_path: str | None
    parts_dir: str | None = None
    fallback: int = 0


def resolve_format(opts: Options, sources: list[Input]) -> LogFormat:
    """Forced by flag, compiled from a format string, or detected from the first lines."""
    if opts.format_string:
        return compile_format_string(opts.format_string)
    if opts.format_name != "auto":
        if opts.format_name not in BUILTIN:
            raise UserError(f"unknown format {opts.format_name!r}; known: {', '.join(BUILTIN)}")
        return BUILTIN[opts.format_name]
    for source in sources:
        lines = sample_lines(source)
        if any(s.strip() for s in lines):
            found = detect(lines)
            if found is None:
                raise UserError(
                    f"could not detect the log format of {source.path}; "
                    "force one with --format or --format-string"
                )
            log.info("detected format", extra={"format": found.name, "file": source.path})
            return found
    return BUILTIN["combined"]


def _csv_header(source: Input) -> tuple[list[str], int]:
    with open_source(source) as fh:
        first = fh.readline(1 << 20)
    text = first.decode("utf-8", errors="replace").rstrip("\r\n")
    return next(csv.reader([text]), []), len(first)


def plan(
    opts: Options, sources: list[Input], fmt: LogFormat, entries: list[FileState]
) -> tuple[list[Unit], list[dict[str, Any]]]:
    """Units in file order, with resume points in incremental mode."""
    units: list[Unit] = []
    files: list[dict[str, Any]] = []
    incremental = opts.state_path is not None
    for fi, source in enumerate(sources):
        header: list[str] | None = None
        header_len = 0
        if fmt.kind == "csv":
            if source.is_stdin:  # the header stays in the stream and is rejected as such
                header, header_len = next(csv.reader(sample_lines(source, 1)), []), 0
            else:
                header, header_len = _csv_header(source)
        info: dict[str, Any] = {"path": source.path, "compression": source.compression}
        start, first_line, size = 0, 1, None
        if not source.is_stdin:
            try:
                st = os.stat(source.path)
                head = read_head(source)
            except FileNotFoundError:
                info["event"] = "vanished"
                files.append(info)
                continue
            size = st.st_size if not source.compression else None
            info.update(dev=st.st_dev, ino=st.st_ino, head=head)
            if incremental:
                seen = Observed(source.path, head, st.st_dev, st.st_ino, size)
                resume, _ = resume_point(seen, entries)
                start, first_line = resume.offset, resume.lines + 1
                info["event"] = resume.event
                info["start_offset"] = start
        if header is not None and start < header_len:
            start, first_line = header_len, 2
        info["first_line"] = first_line
        files.append(info)
        hold = incremental and not source.is_stdin
        if source.splittable and size is not None and opts.workers > 1 and size > RANGE_BYTES:
            parts = max(opts.workers * 2, (size - start) // (256 << 20))
            for a, b in aligned_ranges(source.path, start, size, int(parts)):
                rel = a != start
                line = 1 if rel else first_line
                units.append(Unit(len(units), fi, source, fmt, header, a, b, line, rel, hold))
        else:
            units.append(
                Unit(len(units), fi, source, fmt, header, start, None, first_line, False, hold)
            )
    return units, files


def _skip(stream: Any, n: int) -> int:
    if n <= 0:
        return 0
    if hasattr(stream, "seekable") and stream.seekable() and not hasattr(stream, "peek"):
        stream.seek(n)
        return n
    done = 0
    while done < n:
        chunk = stream.read(min(8 << 20, n - done))
        if not chunk:
            break
        done += len(chunk)
    return done


def run_unit(
    unit: Unit,
    opts: Options,
    spool_dir: str,
    parts_dir: str | None,
    on_bytes: Callable[[int], None] | None = None,
) -> UnitResult:
    """Read, parse, filter and aggregate one unit; rejects go to a spool file."""
    agg = Aggregate()
    res = UnitResult(unit.index, agg, end_offset=unit.start)
    popts = ParseOptions(
        unit.fmt, unit.csv_header, opts.column_overrides, opts.strip_query, opts.max_line
    )
    spool_path = os.path.join(spool_dir, f"rejects-{unit.index}.jsonl")
    spool = None
    try:
        stream = open_source(unit.source)
    except FileNotFoundError:
        res.vanished = unit.source.path
        return res
    try:
        if unit.source.splittable:
            stream.seek(unit.start)
        elif _skip(stream, unit.start) < unit.start:
            return res  # shorter than the saved offset: nothing new
        last = unit.start
        for bi, block in enumerate(
            iter_blocks(
                stream,
                Reading(
                    unit.start,
                    unit.end,
                    unit.first_line,
                    opts.block_size,
                    opts.max_line,
                    unit.hold_partial,
                ),
            )
        ):
            parsed = parse_block(block, popts)
            lines = block.n_lines + sum(1 for r in block.rejects)
            res.lines += lines
            res.rejected += len(parsed.rejects)
            res.latin1 += parsed.latin1_lines
            res.fallback += parsed.fallback_lines
            kept = opts.filters.apply(parsed.table)
            res.parsed += parsed.table.num_rows
            res.filtered += parsed.table.num_rows - kept.num_rows
            agg.update(kept)
            if parts_dir is not None and kept.num_rows:
                write_parts(kept, parts_dir, f"part-{opts.run_id}-{unit.index:05d}-{bi:05d}")
            if parsed.rejects:
                if spool is None:
                    spool = open(spool_path, "w", encoding="utf-8")  # noqa: SIM115
                _spool(spool, parsed.rejects, res.reasons)
            if on_bytes is not None:
                on_bytes(block.end_offset - last)
            last = block.end_offset
            res.end_offset = block.end_offset
    except FileNotFoundError:
        res.vanished = unit.source.path
    except (OSError, EOFError, zlib.error) as exc:
        # a truncated .gz, an unreadable file: what was read counts, the rest is named
        log.warning("read failed", extra={"file": unit.source.path, "error": str(exc)})
        res.vanished = f"{unit.source.path}: {exc}"
    finally:
        if not unit.source.is_stdin:
            stream.close()
        if spool is not None:
            spool.close()
            res.rejects_file = spool_path
    return res


def _spool(fh: Any, rejects: list[Reject], reasons: Counter[str]) -> None:
    """One line per reject, as json.dumps({"line", "reason", "text"}) writes it (`_copy_rejects`
    reads it back); a block's rejects share a few reasons, each encoded once."""
    reasons.update(r.reason for r in rejects)
    quoted = {reason: json.dumps(reason) for reason in {r.reason for r in rejects}}
    out = []
    for r in rejects:
        text = json.dumps(r.text.rstrip(b"\r\n").decode("utf-8", errors="backslashreplace"))
        out.append(f'{{"line": {r.line}, "reason": {quoted[r.reason]}, "text": {text}}}\n')
    fh.write("".join(out))


def _execute(
    units: list[Unit], opts: Options, spool: str, parts: str | None, on_bytes: Callable[[int], None]
) -> Iterator[UnitResult]:
    if opts.workers <= 1 or len(units) <= 1 or any(u.source.is_stdin for u in units):
        for u in units:
            yield run_unit(u, opts, spool, parts, on_bytes)
        return
    pool: Executor
    if opts.executor == "threads":
        # Arrow's kernels (the regex above all) release the GIL, so threads share one heap
        pool = ThreadPoolExecutor(max_workers=opts.workers)
    else:
        # spawn, not fork: forking a process that already runs Arrow's thread pools can deadlock
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=opts.workers, mp_context=ctx)
    with pool:
        # Units are submitted a few ahead of the one being merged, not all at once: a finished
        # future keeps its result (a whole unit aggregate) alive until merged, so the window bounds
        # memory whatever the number of units; each is dropped once used.
        window = 2 * opts.workers
        todo = iter(units)
        futures = deque(pool.submit(run_unit, u, opts, spool, parts) for u in islice(todo, window))
        for u in units:
            r = futures.popleft().result()
            for nxt in islice(todo, 1):
                futures.append(pool.submit(run_unit, nxt, opts, spool, parts))
            on_bytes(r.end_offset - u.start)
            yield r


def analyze(
    sources: list[Input], opts: Options, on_bytes: Callable[[int], None] | None = None
) -> RunResult:
    """Run the whole analysis over expanded inputs (`sources.expand`); the state and the Parquet
    parts are committed by `commit` only once the run is accepted."""
    fmt = resolve_format(opts, sources)
    if opts.state_path is not None and any(s.is_stdin for s in sources):
        raise UserError("incremental mode (--state-file) cannot read stdin")
    entries = load_state(opts.state_path) if opts.state_path is not None else []
    units, files = plan(opts, sources, fmt, entries)
    total = Aggregate()
    out = RunResult(total, 0, 0, 0, 0, 0, Counter(), [], fmt.name, [], None)
    out.vanished.extend(f["path"] for f in files if f.get("event") == "vanished")
    base_lines: dict[int, int] = {}
    ends: dict[int, int] = {}
    lines_seen: dict[int, int] = {}
    rejects_fh = None
    if opts.rejects_path is not None:
        opts.rejects_path.parent.mkdir(parents=True, exist_ok=True)
        rejects_fh = open(opts.rejects_path, "w", encoding="utf-8")  # noqa: SIM115
        out.rejects_path = str(opts.rejects_path)
    parts_dir = None
    if opts.parquet_dir is not None:
        opts.parquet_dir.mkdir(parents=True, exist_ok=True)
        for stale in opts.parquet_dir.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        parts_dir = str(opts.parquet_dir / f".tmp-{opts.run_id}")
    try:
        with tempfile.TemporaryDirectory(prefix="log-analyzer-") as spool:
            for unit, res in zip(
                units, _execute(units, opts, spool, parts_dir, on_bytes or _noop), strict=True
            ):
                fi = unit.file_index
                base = base_lines.get(fi, 0) if unit.relative_lines else 0
                out.agg.merge(res.agg)
                out.lines += res.lines
                out.parsed += res.parsed
                out.rejected += res.rejected
                out.filtered += res.filtered
                out.latin1 += res.latin1
                out.fallback += res.fallback
                out.reasons.update(res.reasons)
                if res.vanished:
                    out.vanished.append(res.vanished)
                before = base if unit.relative_lines else unit.first_line - 1
                base_lines[fi] = before + res.lines
                lines_seen[fi] = lines_seen.get(fi, 0) + res.lines
                ends[fi] = max(ends.get(fi, 0), res.end_offset)
                if res.rejects_file and rejects_fh is not None:
                    _copy_rejects(res.rejects_file, rejects_fh, unit.source.path, base)
                if res.rejects_file:
                    os.unlink(res.rejects_file)
    finally:
        if rejects_fh is not None:
            rejects_fh.close()
    for fi, info in enumerate(files):
        info["lines_read"] = lines_seen.get(fi, 0)
        info["end_offset"] = ends.get(fi, info.get("start_offset", 0))
    out.files = files
    out.parts_dir = parts_dir
    return out


def commit(result: RunResult, opts: Options) -> None:
    """Make the run's Parquet parts visible and advance the incremental state."""
    files, parts_dir = result.files, result.parts_dir
    if parts_dir is not None and opts.parquet_dir is not None:
        if opts.state_path is None:
            for old in opts.parquet_dir.glob("date=*/part-*.parquet"):
                old.unlink()
        if os.path.isdir(parts_dir):
            for part in Path(parts_dir).glob("date=*/*.parquet"):
                dest = opts.parquet_dir / part.parent.name / part.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(part, dest)
            shutil.rmtree(parts_dir, ignore_errors=True)
    if opts.state_path is None:
        return
    entries: list[FileState] = []
    for info in files:
        head = info.get("head")
        if not head or info.get("event") == "vanished":
            continue
        end = int(info["end_offset"])
        lines = int(info["first_line"]) - 1 + int(info["lines_read"])
        fp_len = min(len(head), FINGERPRINT_BYTES, max(end, 0))
        if fp_len == 0:
            continue
        entries.append(
            FileState(
                fingerprint(head[:fp_len]),
                fp_len,
                int(info["dev"]),
                int(info["ino"]),
                end,
                lines,
                info["path"],
            )
        )
    save_state(opts.state_path, entries)


def _copy_rejects(spool: str, out: Any, path: str, base: int) -> None:
    # spool lines are {"line": N, "reason": ..., "text": ...} as json.dumps wrote them: prefix the
    # file and renumber without decoding and encoding every reject again
    file = json.dumps(path)
    with open(spool, encoding="utf-8") as fh:
        for line in fh:
            number, _, rest = line.partition(", ")
            number = number.removeprefix('{"line": ')
            out.write(f'{{"file": {file}, "line": {int(number) + base}, {rest}')


def _noop(_: int) -> None:
    return None
