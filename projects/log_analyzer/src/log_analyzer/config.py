"""Settings: defaults < TOML (--config) < .env < LOG_ANALYZER_* environment < CLI flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from de_common.config import Settings, settings_config
from log_analyzer.formats import FORMAT_NAMES

MAX_WORKERS = 64


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, which is how DuckDB counts its default
    threads; it honours taskset and cpusets), at most MAX_WORKERS."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity call on this platform (macOS, Windows)
        n = os.cpu_count() or 1
    return max(1, min(n, MAX_WORKERS))


class LogAnalyzerSettings(Settings):
    """Every knob of a run; each is also LOG_ANALYZER_<NAME> in the environment and a flag."""

    model_config = settings_config(env_prefix="LOG_ANALYZER_")

    format: str = Field(
        default="auto",
        description=f"Log format, one of {', '.join(FORMAT_NAMES)}; auto detects it from the "
        "first lines.",
    )
    format_string: str | None = Field(
        default=None,
        description="Nginx log_format ($var) or Apache LogFormat (%x) string; overrides format.",
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="CSV/JSON column mapping FIELD=COLUMN, e.g. time=when (repeat the flag).",
    )
    workers: int = Field(
        default_factory=available_cpus,
        ge=1,
        le=MAX_WORKERS,
        description="Parallel workers over files and byte ranges; default: the CPUs this process "
        "may use (its CPU affinity).",
    )
    executor: Literal["threads", "processes"] = Field(
        default="threads",
        description="threads (Arrow releases the GIL, one heap) or spawned processes.",
    )
    block_size_mb: int = Field(default=4, ge=1, le=256, description="MiB read per block.")
    max_line_bytes: int = Field(
        default=1 << 20, ge=1024, description="A longer line is skipped and rejected."
    )
    top_n: int = Field(default=10, ge=1, le=10_000, description="Rows in each top list.")
    granularity: Literal["auto", "minute", "hour"] = Field(
        default="auto",
        description="Timeline buckets; auto is minutes up to two days, hours beyond.",
    )
    strip_query: bool = Field(
        default=True, description="Drop query strings from paths before counting them."
    )
    rejects_file: Path = Field(
        default=Path("rejects.jsonl"), description="JSON lines file naming every rejected line."
    )
    max_reject_rate: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Fail (exit 1) above this share rejected, 0..1."
    )
    state_file: Path | None = Field(
        default=None,
        description="Incremental state file: read only what is new since the last run.",
    )

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in FORMAT_NAMES:
            raise ValueError(f"unknown format {value!r}; known: {', '.join(FORMAT_NAMES)}")
        return value
