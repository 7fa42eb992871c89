"""Settings: defaults < TOML (--config) < .env < CSV_TO_POSTGRES_* environment < CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from de_common.config import Settings, settings_config

Mode = Literal["append", "upsert", "replace"]
SchemaChange = Literal["fail", "evolve"]
ModelName = Literal["airlines", "airports", "customers", "flights", "planes", "weather"]


class RegexRule(BaseModel):
    """Replace `pattern` by `replace` in one column (or every text column when column is '*')."""

    column: str = Field(
        default="*", description="Column the rule applies to ('*': every text one)."
    )
    pattern: str = Field(description="Python regular expression.")
    replace: str = Field(default="", description="Replacement (backreferences allowed).")


class Cleaning(BaseModel):
    """The cleaning rules applied before type coercion. The defaults never change data that
    `psql \\copy` would load: text is kept as written (an empty unquoted field is NULL, `""` an
    empty string), null tokens apply to typed columns only, where they cannot be values."""

    strip: bool = Field(
        default=False,
        description="Also trim surrounding whitespace from text (typed columns are always trimmed).",
    )
    null_values: list[str] = Field(
        default_factory=lambda: ["", "NA", "N/A", "n/a", "NULL", "null", "None", "NaN", "nan", "-"],
        description="Values that become NULL in typed columns (numbers, dates, booleans), except "
        "what the type reads as a value (NaN in a float column); text keeps them.",
    )
    column_null_values: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Column -> values that become NULL in that column, text columns included "
        "(replaces null_values there).",
    )
    true_values: list[str] = Field(
        default_factory=lambda: ["true", "t", "yes", "y", "1"], description="Tokens read as true."
    )
    false_values: list[str] = Field(
        default_factory=lambda: ["false", "f", "no", "n", "0"], description="Tokens read as false."
    )
    thousands: str | None = Field(
        default=None,
        description="Thousands separator, removed only between groups of three digits (default: "
        "',' where the decimal mark is '.', '.' where it is ','; '' for none).",
    )
    decimal: str | None = Field(
        default=None,
        description="Decimal mark of every number column (default: detected per column from the "
        "sample; without evidence ',' in a ';'-delimited file, else '.').",
    )
    column_decimal: dict[str, str] = Field(
        default_factory=dict,
        description="Column -> decimal mark, overriding `decimal` and detection for that column.",
    )
    date_formats: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Column -> strptime formats tried in order; other dates must be ISO 8601.",
    )
    lowercase: list[str] = Field(default_factory=list, description="Columns to lowercase.")
    regex: list[RegexRule] = Field(default_factory=list, description="Regex replace rules.")

    def number_format(self, column: str) -> tuple[str, str]:
        """(thousands separator, decimal mark) of one column."""
        mark = self.column_decimal.get(column) or self.decimal or "."
        if self.thousands is not None and self.thousands != mark:
            return self.thousands, mark
        return ("." if mark == "," else ","), mark

    @field_validator("thousands")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 1:
            raise ValueError("must be one character (or empty: none)")
        return value

    @field_validator("decimal")
    @classmethod
    def _mark(cls, value: str | None) -> str | None:
        if value is not None and value not in (".", ","):
            raise ValueError("a decimal mark is '.' or ','")
        return value

    @field_validator("column_decimal")
    @classmethod
    def _marks(cls, value: dict[str, str]) -> dict[str, str]:
        if any(mark not in (".", ",") for mark in value.values()):
            raise ValueError("a decimal mark is '.' or ','")
        return value


class CsvToPostgresSettings(Settings):
    """Everything the loader can be told, each also as CSV_TO_POSTGRES_<NAME>."""

    model_config = settings_config(env_prefix="CSV_TO_POSTGRES_")

    # A URL may carry a password, so the whole URL is a secret; `password` overrides the URL's.
    database_url: SecretStr = Field(
        default=SecretStr("sqlite:///csv_to_postgres.sqlite"),
        description="Any SQLAlchemy URL; postgresql:// loads through psycopg2 and COPY.",
    )
    password: SecretStr | None = Field(
        default=None, description="Database password; overrides the one in the URL."
    )
    db_schema: str | None = Field(
        default=None, description="Schema of the target, audit and rejects tables."
    )
    pool_size: int = Field(
        default=5, ge=1, description="Pooled connections kept open (one per file being loaded)."
    )
    max_overflow: int = Field(
        default=5, ge=0, description="Connections opened beyond the pool size when needed."
    )
    pool_pre_ping: bool = Field(
        default=True, description="Test a pooled connection before use (survives restarts)."
    )
    parallel: int = Field(
        default=1, ge=1, description="Files loaded at once, each on its own pooled connection."
    )
    pool_recycle_s: int = Field(default=1800, description="Replace connections older than this.")
    connect_timeout_s: int = Field(
        default=5, ge=1, description="Seconds to wait for the server before giving up."
    )
    pg_temp_buffers: str = Field(
        default="256MB",
        description="temp_buffers set on connect, so TEMP staging tables stay in memory.",
    )

    table: str | None = Field(
        default=None, description="Target table (default: the model's table or the file's name)."
    )
    model: ModelName | None = Field(
        default=None, description="Load through a shipped ORM model (its table and types)."
    )
    mode: Mode = Field(
        default="append", description="Append new rows, upsert on the key, or replace the table."
    )
    on_schema_change: SchemaChange = Field(
        default="fail", description="When the file and the table differ: fail, or evolve the table."
    )
    chunk_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="Bytes of whole records parsed at a time."
    )
    executemany_batch: int = Field(
        default=5000, ge=1, description="Rows per executemany on databases other than PostgreSQL."
    )
    sample_rows: int = Field(
        default=10_000, ge=10, description="Rows sampled for type inference and the contract check."
    )
    max_reject_rate: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="Share of rejected rows above which a file fails and nothing of it is loaded.",
    )
    rejects_csv: Path | None = Field(
        default=None, description="Also append rejected rows to this CSV file."
    )
    delimiter: str | None = Field(default=None, description="Field delimiter (default: detected).")
    quote: str | None = Field(default=None, description="Quote character (default: detected).")
    encoding: str | None = Field(default=None, description="File encoding (default: detected).")
    header_map: dict[str, str] = Field(
        default_factory=dict, description="Rename a source header to a column: SOURCE=COLUMN."
    )
    primary_key: list[str] = Field(
        default_factory=list,
        description="Key columns of an inferred table (repeat the flag or separate with commas).",
    )
    cleaning: Cleaning = Field(
        default_factory=Cleaning, description="Cleaning rules applied before type coercion."
    )

    @field_validator("primary_key", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        """`--primary-key a,b` and `--primary-key a --primary-key b` name the same key."""
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
        return value
