"""Settings for kafka_ingest (env prefix KAFKA_INGEST_)."""

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

    bootstrap: str = Field(default="127.0.0.1:29092", min_length=1)
    topic: str = Field(default="events", min_length=1)
    dlq_topic: str | None = None
    group_id: str = Field(default="kafka-ingest", min_length=1)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # SASL/PLAIN when a username is set; the password is a secret and never logged.
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None

    # Producer: the idempotent producer needs acks=all; batching is what buys throughput.
    acks: Literal["all", "1", "0"] = "all"
    compression: Compression = "lz4"
    linger_ms: int = Field(default=10, ge=0, le=60_000)
    batch_bytes: int = Field(default=262_144, ge=1, le=1_000_000_000)
    queue_max_messages: int = Field(default=500_000, ge=1)
    delivery_timeout_ms: int = Field(default=120_000, ge=1)

    # Consumer: a batch is cut at batch_size records or batch_timeout_s, whichever comes first.
    batch_size: int = Field(default=10_000, ge=1, le=1_000_000)
    batch_timeout_s: float = Field(default=1.0, gt=0)
    # A killed member's partitions move on after this long; Kafka's 45 s default is slow to recover.
    session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    sink: list[SinkName] = Field(default_factory=lambda: list[SinkName](["parquet"]))
    output_dir: Path = Path("data/events")
    postgres_url: SecretStr | None = None
    postgres_table: str = Field(default="events", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

    # Asyncio variant: concurrency of the enrichment stage and the bound of its queue.
    enrich_concurrency: int = Field(default=64, ge=1, le=10_000)
    enrich_queue_size: int = Field(default=1_000, ge=1)
    enrich_latency_ms: float = Field(default=0.0, ge=0)

    metrics_port: int | None = Field(default=None, ge=1, le=65_535)
    pushgateway_url: str | None = None

    def dlq(self) -> str:
        """The dead-letter topic: explicit, or the source topic with a .dlq suffix."""
        return self.dlq_topic or f"{self.topic}.dlq"
