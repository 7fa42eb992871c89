"""Settings: defaults < TOML (--config) < .env < API_FETCHER_* environment < CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from de_common.config import Settings, settings_config

SinkName = Literal["jsonl", "parquet", "postgres"]


class ApiFetcherSettings(Settings):
    """Every knob of a run; each is also API_FETCHER_<FIELD> in the environment."""

    model_config = settings_config(env_prefix="API_FETCHER_")

    sources: Path = Field(
        default=Path("sources.yaml"),
        description="The source file (YAML or TOML): base URLs, endpoints, auth, pagination.",
    )
    sink: SinkName = Field(
        default="parquet",
        description="Where records go: jsonl or parquet files partitioned by date, or postgres.",
    )
    output_dir: Path = Field(
        default=Path("data"),
        description="Root folder of the jsonl and parquet sinks: <source>/<endpoint>/date=.../.",
    )
    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL of the postgres sink (upsert on the primary key)."
    )
    state_dir: Path = Field(
        default=Path("state"),
        description="Where the incremental cursor of every endpoint is saved, one file per source.",
    )
    quarantine_dir: Path = Field(
        default=Path("quarantine"),
        description="Invalid records and failed pages with the reason, per source and endpoint.",
    )
    secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Credentials the source file names (API_FETCHER_SECRETS__<NAME>); never logged.",
    )
    concurrency: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Requests in flight per source (a source may lower it).",
    )
    batch_records: int = Field(
        default=10_000,
        ge=1,
        description="Records per durable write; the state is saved after each write.",
    )
    timeout_s: float = Field(
        default=30.0, gt=0, description="Connect and read timeout per request."
    )
    retries: int = Field(
        default=5,
        ge=0,
        le=50,
        description="Retries of a request on connection errors, 5xx and 429.",
    )
    backoff_s: float = Field(
        default=0.5, ge=0, description="Exponential backoff factor between retries (with jitter)."
    )
    backoff_max_s: float = Field(default=30.0, gt=0, description="Longest wait between retries.")
    retry_after_max_s: float = Field(
        default=120.0, ge=0, description="Longest Retry-After honoured; a longer one is capped."
    )
    max_failed_pages: int = Field(
        default=0,
        ge=0,
        description="Pages that may fail (bad body, HTTP error) before the run is marked failed.",
    )
