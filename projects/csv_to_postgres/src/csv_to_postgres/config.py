"""Settings: env prefix CSV_TO_POSTGRES_, TOML via --config, CLI flags on top."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from de_common.config import Settings, settings_config

Mode = Literal["append", "upsert", "replace"]
SchemaChange = Literal["fail", "evolve"]


class RegexRule(BaseModel):
    """Replace `pattern` by `replace` in one column (or every text column when column is '*')."""

    column: str = "*"
    pattern: str
    replace: str = ""


class Cleaning(BaseModel):
    """The cleaning rules applied to every value before type coercion."""

    strip: bool = True
    null_values: list[str] = Field(
        default_factory=lambda: ["", "NA", "N/A", "n/a", "NULL", "null", "None", "NaN", "-"]
    )
    true_values: list[str] = Field(default_factory=lambda: ["true", "t", "yes", "y", "1"])
    false_values: list[str] = Field(default_factory=lambda: ["false", "f", "no", "n", "0"])
    thousands: str = ","
    decimal: str = "."
    # column -> strptime formats tried in order; other date columns accept ISO 8601
    date_formats: dict[str, list[str]] = Field(default_factory=dict)
    lowercase: list[str] = Field(default_factory=list)
    regex: list[RegexRule] = Field(default_factory=list)


class CsvToPostgresSettings(Settings):
    """Everything the loader can be told, each also as CSV_TO_POSTGRES_<NAME>."""

    model_config = settings_config(env_prefix="CSV_TO_POSTGRES_")

    # A URL may carry a password, so the whole URL is a secret; `password` overrides the URL's.
    database_url: SecretStr = SecretStr("sqlite:///csv_to_postgres.sqlite")
    password: SecretStr | None = None
    db_schema: str | None = None
    pool_size: int = Field(default=5, ge=1)
    max_overflow: int = Field(default=5, ge=0)
    pool_pre_ping: bool = True
    parallel: int = Field(default=1, ge=1)  # files loaded at once, one pooled connection each
    pool_recycle_s: int = 1800
    connect_timeout_s: int = Field(default=5, ge=1)
    # Staging tables are TEMP: give the session room to keep them in memory (set on connect).
    pg_temp_buffers: str = "256MB"

    mode: Mode = "append"
    schema_change: SchemaChange = "fail"
    chunk_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    executemany_batch: int = Field(default=5000, ge=1)
    sample_rows: int = Field(default=10_000, ge=10)
    max_reject_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    rejects_csv: str | None = None
    delimiter: str | None = None
    quote: str | None = None
    encoding: str | None = None
    header_map: dict[str, str] = Field(default_factory=dict)
    primary_key: list[str] = Field(default_factory=list)
    cleaning: Cleaning = Field(default_factory=Cleaning)
    pushgateway_url: str | None = None
