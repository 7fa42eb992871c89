"""Settings: defaults < TOML (--config) < .env < LOG_ANALYZER_* environment < CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from de_common.config import Settings, settings_config


class LogAnalyzerSettings(Settings):
    """Every knob of a run; each is also LOG_ANALYZER_<NAME> in the environment."""

    model_config = settings_config(env_prefix="LOG_ANALYZER_")

    format: str = "auto"
    format_string: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    workers: int = Field(default=1, ge=1, le=64)
    executor: Literal["threads", "processes"] = "threads"
    block_size_mb: int = Field(default=4, ge=1, le=256)
    max_line_bytes: int = Field(default=1 << 20, ge=1024)
    top_n: int = Field(default=10, ge=1, le=10_000)
    granularity: Literal["auto", "minute", "hour"] = "auto"
    strip_query: bool = True
    rejects_file: Path = Path("rejects.jsonl")
    max_reject_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    state_file: Path | None = None
    pushgateway_url: str | None = None
