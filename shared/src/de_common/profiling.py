"""Where a job's time and memory go, on demand for any command: `--profile FILE` (cProfile) and
`--trace-memory` (tracemalloc), both given before the command (`<project> --profile p.prof load ...`).

The figures go to the log, never into the summary, so a profiled run prints the same summary.
"""

from __future__ import annotations

import cProfile
import io
import logging
import pstats
import resource
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("de_common.profiling")


@dataclass(frozen=True)
class ProfileOptions:
    cprofile_to: Path | None = None
    trace_memory: bool = False

    @property
    def wanted(self) -> bool:
        return self.cprofile_to is not None or self.trace_memory


def top_functions(stats: pstats.Stats, limit: int = 12) -> str:
    """The `limit` functions with the most cumulative time, as pstats prints them."""
    buffer = io.StringIO()
    stats.stream = buffer  # type: ignore[attr-defined]
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(limit)
    return buffer.getvalue()


@contextmanager
def profiled(options: ProfileOptions) -> Iterator[None]:
    """Run the block under cProfile and/or tracemalloc; log what they found when it ends."""
    if not options.wanted:
        yield
        return
    profiler = cProfile.Profile() if options.cprofile_to else None
    if options.trace_memory:
        tracemalloc.start(10)  # frames per allocation: enough to see whose call allocated
    if profiler:
        profiler.enable()
    try:
        yield
    finally:
        if profiler:
            profiler.disable()
            _report_cpu(profiler, options.cprofile_to)
        if options.trace_memory:
            _report_memory()


def _report_cpu(profiler: cProfile.Profile, path: Path | None) -> None:
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(path)
    stats = pstats.Stats(str(path))
    log.info(
        "cpu profile written",
        extra={
            "path": str(path),
            "top": top_functions(stats),
            "read_with": f"python -m pstats {path}",
        },
    )


def _report_memory() -> None:
    snapshot = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sites = [
        f"{stat.size / 2**20:.1f} MiB in {stat.count} blocks at {stat.traceback[0]}"
        for stat in snapshot.statistics("lineno")[:8]
    ]
    # ru_maxrss is KiB on Linux: the whole process, native buffers (Arrow, librdkafka) included,
    # which tracemalloc (Python allocations only) does not see.
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log.info(
        "memory traced",
        extra={
            "python_peak_mib": round(peak / 2**20, 2),
            "python_current_mib": round(current / 2**20, 2),
            "process_peak_rss_mib": round(rss_mib, 1),
            "largest_sites": sites,
        },
    )
