"""Settings for kafka_ingest (env prefix KAFKA_INGEST_); every field is also a flag where it applies."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from de_common.config import Settings, settings_config

Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]
SinkName = Literal["parquet", "postgres"]


class KafkaIngestSettings(Settings):
    """Every knob of the producer, the consumer and the sinks."""

    model_config = settings_config(env_prefix="KAFKA_INGEST_")

    bootstrap: str = Field(
        default="127.0.0.1:29092", min_length=1, description="Kafka bootstrap servers, host:port."
    )
    topic: str = Field(default="events", min_length=1, description="The source topic.")
    dlq_topic: str | None = Field(
        default=None, description="Dead-letter topic (created if missing; default <topic>.dlq)."
    )
    group_id: str = Field(default="kafka-ingest", min_length=1, description="Consumer group id.")
    connect_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds to wait for the broker before 'kafka unreachable'.",
    )
    # SASL/PLAIN when a username is set; the password is a secret and never logged.
    sasl_username: str | None = Field(
        default=None, description="SASL/PLAIN user name (SASL is off while unset)."
    )
    sasl_password: SecretStr | None = Field(
        default=None, description="SASL/PLAIN password (a secret: masked, redacted from logs)."
    )

    # Producer: the idempotent producer needs acks=all; batching is what buys throughput.
    acks: Literal["all", "1", "0"] = Field(
        default="all", description="Producer acks; 'all' turns on enable.idempotence."
    )
    compression: Compression = Field(default="lz4", description="Producer compression.type.")
    linger_ms: int = Field(
        default=10,
        ge=0,
        le=60_000,
        description="Producer linger.ms: wait this long to fill batches.",
    )
    batch_bytes: int = Field(
        default=262_144, ge=1, le=1_000_000_000, description="Producer batch.size in bytes."
    )
    queue_max_messages: int = Field(
        default=500_000,
        ge=1,
        description="Producer's local queue bound; beyond it produce() waits (backpressure).",
    )
    delivery_timeout_ms: int = Field(
        default=120_000,
        ge=1,
        description="How long a message may stay unacknowledged before it counts as undelivered.",
    )

    # Consumer: a batch is cut at batch_size records or batch_timeout_s, whichever comes first.
    batch_size: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Records per consumer batch (per transaction in transform, at most 5000).",
    )
    batch_timeout_s: float = Field(
        default=1.0, gt=0, description="Seconds before a partial consumer batch is written anyway."
    )
    # A killed member's partitions move on after this long; Kafka's 45 s default is slow to recover.
    session_timeout_ms: int = Field(
        default=10_000,
        ge=1_000,
        le=300_000,
        description="Consumer session.timeout.ms: how fast a dead member's partitions move on.",
    )
    sink: list[SinkName] = Field(
        default_factory=lambda: list[SinkName](["parquet"]),
        description="Where batches go, in order (repeat: parquet, postgres).",
    )
    output_dir: Path = Field(default=Path("data/events"), description="Parquet sink root folder.")
    # Parquet rolling (like Kafka Connect's flush.size / rotate.interval.ms): records are buffered
    # per Kafka partition and hour across batches, and a buffer becomes a file when one of these
    # is reached. Offsets are committed only up to the first record still held in a buffer.
    roll_records: int = Field(
        default=1_000_000,
        ge=1,
        description="Parquet: a partition-hour buffer becomes a file at this many records.",
    )
    roll_bytes: int = Field(
        default=128 * 1024 * 1024,
        ge=1,
        description="Parquet: a partition-hour buffer becomes a file at this many bytes "
        "(in memory, before compression).",
    )
    roll_age_s: float = Field(
        default=60.0,
        gt=0,
        description="Parquet: a buffer becomes a file this many seconds after its first record "
        "(bounds how far a restart re-reads).",
    )
    buffer_max_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1,
        description="Parquet: memory all open buffers may hold; beyond it the oldest become files.",
    )
    postgres_url: SecretStr | None = Field(
        default=None, description="PostgreSQL sink URL (a secret: masked, redacted from logs)."
    )
    postgres_table: str = Field(
        default="events",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$",
        description="PostgreSQL sink table (created if missing).",
    )

    # Asyncio variant: concurrency of the enrichment stage and the bound of its queue.
    enrich_concurrency: int = Field(
        default=64, ge=1, le=10_000, description="Enrichment calls in flight (consume --async)."
    )
    enrich_queue_size: int = Field(
        default=1_000,
        ge=1,
        description="Bound of the queue between reader and writer (consume --async).",
    )
    enrich_latency_ms: float = Field(
        default=0.0,
        ge=0,
        description="Latency of the stand-in enrichment call per event (consume --async).",
    )

    def dlq(self) -> str:
        """The dead-letter topic: explicit, or the source topic with a .dlq suffix."""
        return self.dlq_topic or f"{self.topic}.dlq"
