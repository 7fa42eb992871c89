"""Settings: defaults < TOML (--config) < .env < MONITORING_* environment < CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from de_common.config import Settings, settings_config


class MonitoringSettings(Settings):
    """Every knob of the exporter and the jobs; each is also MONITORING_<FIELD> in the environment."""

    model_config = settings_config(env_prefix="MONITORING_")

    checks: Path = Field(
        default=Path("checks.yml"), description="The checks file (YAML): targets to measure."
    )
    listen_addr: str = Field(default="127.0.0.1", description="Address the exporter listens on.")
    port: int = Field(default=9465, ge=1, le=65535, description="Port of the exporter's /metrics.")
    interval_s: float = Field(
        default=15.0, gt=0, le=3600, description="Seconds between two rounds of checks."
    )
    root: Path = Field(
        default=Path("."),
        description="Repository root: projects/, infra/grafana/dashboards, infra/prometheus/rules.",
    )
    quarantine: Path = Field(
        default=Path("uncovered-metrics.jsonl"),
        description="Where `coverage` writes each metric without a panel or alert, with the reason.",
    )
    # The threshold checks (`check kafka-lag`, `check parking-lot`): one measurement, exit 1 over.
    kafka_bootstrap: str | None = Field(
        default=None, description="Threshold checks: Kafka bootstrap servers (host:port,...)."
    )
    rabbitmq_management_url: str | None = Field(
        default=None,
        description="Threshold checks: RabbitMQ management API URL (http://host:15672).",
    )
    rabbitmq_vhost: str = Field(default="/", description="Threshold checks: RabbitMQ vhost.")
    rabbitmq_user: str = Field(default="guest", description="Threshold checks: RabbitMQ API user.")
    # None, not "guest": a default secret would be redacted from every log line as a password.
    rabbitmq_password: SecretStr | None = Field(
        default=None,
        description="Threshold checks: RabbitMQ API password, guest when unset (env or config only).",
    )
    check_timeout_s: float = Field(
        default=5.0, gt=0, le=300, description="Threshold checks: seconds to wait for an answer."
    )
    # The demo seeds a small scenario in each service given here, then measures it from outside.
    demo_postgres_url: SecretStr | None = Field(
        default=None, description="Demo: PostgreSQL URL (a table is created and left stale)."
    )
    demo_kafka_bootstrap: str | None = Field(
        default=None, description="Demo: Kafka bootstrap (a topic, a lagging group and a DLQ)."
    )
    demo_rabbitmq_management_url: str | None = Field(
        default=None, description="Demo: RabbitMQ management API URL (a queue and a DLQ filled)."
    )
    demo_s3_endpoint: str | None = Field(
        default=None, description="Demo: S3 endpoint (a bucket with a prefix of objects)."
    )
    demo_hdfs_url: str | None = Field(
        default=None, description="Demo: WebHDFS URL (a partitioned folder)."
    )
