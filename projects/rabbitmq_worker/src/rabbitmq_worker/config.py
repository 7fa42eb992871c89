"""Settings: defaults < TOML (--config) < .env < RABBITMQ_WORKER_* environment < CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from de_common.config import Settings, settings_config


class RabbitmqWorkerSettings(Settings):
    """Every knob of a run; each is also RABBITMQ_WORKER_<FIELD> in the environment."""

    model_config = settings_config(env_prefix="RABBITMQ_WORKER_")

    url: SecretStr = Field(
        default=SecretStr("amqp://guest:guest@127.0.0.1:5672/%2F"),
        description="AMQP URL of the broker (user and password included, so it is a secret).",
    )
    management_url: str | None = Field(
        default=None,
        description="RabbitMQ management API for `status`; default http://<amqp host>:15672.",
    )
    prefix: str = Field(
        default="tasks",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Name of the exchange and the stem of every queue (<prefix>.work, ...).",
    )
    delivery_limit: int = Field(
        default=10,
        ge=1,
        description="Quorum queue x-delivery-limit: a message redelivered more (a crash loop) is parked.",
    )
    retry_delays_ms: list[int] = Field(
        default=[1_000, 10_000, 60_000],
        description="One retry tier per delay (TTL of its queue); a task failing once more is parked.",
    )
    prefetch: int = Field(default=64, ge=1, le=65_535, description="Unacked deliveries per worker.")
    concurrency: int = Field(default=4, ge=1, le=256, description="Worker threads running tasks.")
    heartbeat_s: int = Field(
        default=30, ge=0, description="AMQP heartbeat; it keeps flowing while tasks run."
    )
    connect_timeout_s: float = Field(default=5.0, gt=0, description="Socket connect timeout.")
    reconnect_timeout_s: float = Field(
        default=120.0,
        ge=0,
        description="Keep reconnecting (with backoff) this long after losing the broker, then fail.",
    )
    confirm_window: int = Field(
        default=2_000,
        ge=1,
        description="Unconfirmed messages the publisher may have in flight (async confirms).",
    )
    database_url: SecretStr = Field(
        default=SecretStr("sqlite:///rabbitmq_worker.db"),
        description="Where task effects and processed message ids go: sqlite:///PATH or postgresql://.",
    )
    quarantine: Path = Field(
        default=Path("rejects.jsonl"),
        description="Where publish writes lines it could not publish (invalid, returned), with the reason.",
    )

    @field_validator("retry_delays_ms")
    @classmethod
    def _positive_delays(cls, delays: list[int]) -> list[int]:
        if any(d <= 0 for d in delays):
            raise ValueError("retry delays must be positive milliseconds")
        return delays
