"""Threshold checks for a scheduler: one measurement by the exporter's own checks, over or not."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from de_common.config import env_name
from de_common.errors import UserError
from monitoring import checkfile
from monitoring.checkfile import ChecksFile, KafkaSpec, RabbitSpec
from monitoring.checks import CheckFailed, Sample
from monitoring.config import MonitoringSettings
from monitoring.series import KAFKA_LAG, RABBIT_CONSUMERS, RABBIT_READY, RABBIT_UNACKED


@dataclass(frozen=True)
class Verdict:
    """What a threshold check prints; `error` set means failed (over, unmeasurable, unreachable)."""

    check: str
    threshold: int
    target: dict[str, Any]
    value: int | None = None
    measured: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def state(self) -> dict[str, Any]:
        """status, error (when failed), value, threshold, the target, then what was measured."""
        data: dict[str, Any] = {
            "check": self.check,
            "status": "ok" if self.error is None else "failed",
        }
        if self.error is not None:
            data["error"] = self.error
        data.update(value=self.value, threshold=self.threshold, **self.target, **self.measured)
        return data


def _required(settings: MonitoringSettings, name: str) -> str:
    value = getattr(settings, name)
    if not value:
        flag = "--" + name.replace("_", "-")
        raise UserError(f"set {env_name(type(settings), name)} or {flag}")
    return str(value)


def _measure(spec: KafkaSpec | RabbitSpec, timeout_s: float) -> list[Sample]:
    """Run the check the checks file would build for this spec, once (the exporter's code path)."""
    (check,) = checkfile.build(ChecksFile(timeout_s=timeout_s, checks=[spec]))
    try:
        return check.run()
    finally:
        check.close()


def kafka_lag(settings: MonitoringSettings, group: str, topic: str | None, max_lag: int) -> Verdict:
    """Total lag of `group` (on `topic` only, when given) against `max_lag`; per partition too."""
    bootstrap = _required(settings, "kafka_bootstrap")
    target = {"bootstrap": bootstrap, "group": group, "topic": topic}
    # With a topic, its partitions count from the low watermark until the group commits there.
    spec = KafkaSpec(
        kind="kafka", name="kafka-lag", bootstrap=bootstrap, groups=[group],
        topics=[topic] if topic else [],
    )  # fmt: skip
    try:
        samples = _measure(spec, settings.check_timeout_s)
    except CheckFailed as exc:
        return Verdict("kafka-lag", max_lag, target, error=str(exc))
    lags = [
        (s.labels[2], int(s.labels[3]), int(s.value))
        for s in samples
        if s.series == KAFKA_LAG and (topic is None or s.labels[2] == topic)
    ]
    measured = {"partitions": [{"topic": t, "partition": p, "lag": lag} for t, p, lag in lags]}
    if not lags:
        hint = "" if topic else " (give --topic to measure it from the topic's start)"
        error = f"kafka {bootstrap}: group {group} has no committed offsets{hint}"
        return Verdict("kafka-lag", max_lag, target, None, measured, error)
    value = sum(lag for _, _, lag in lags)
    on = f" on {topic}" if topic else ""
    over = f"kafka lag of group {group}{on} is {value}, over the threshold {max_lag}"
    return Verdict("kafka-lag", max_lag, target, value, measured, over if value > max_lag else None)


def parking_lot(settings: MonitoringSettings, queue: str, max_messages: int) -> Verdict:
    """Messages in `queue` (ready + unacked) against `max_messages`; the queue must exist."""
    url = _required(settings, "rabbitmq_management_url")
    vhost = settings.rabbitmq_vhost
    target = {"management_url": url, "vhost": vhost, "queue": queue}
    secret = settings.rabbitmq_password
    # Unset: the checks file's own default (RabbitMQ's guest).
    password = (
        RabbitSpec.model_fields["password"].default if secret is None else secret.get_secret_value()
    )
    spec = RabbitSpec(
        kind="rabbitmq", name="parking-lot", management_url=url, vhost=vhost,
        user=settings.rabbitmq_user, password=password, queues=re.escape(queue),
    )  # fmt: skip
    try:
        samples = _measure(spec, settings.check_timeout_s)
    except CheckFailed as exc:
        return Verdict("parking-lot", max_messages, target, error=f"rabbitmq {exc}")
    by_series = {s.series.name: s for s in samples}
    if RABBIT_READY.name not in by_series:
        error = f"rabbitmq {url}: queue {queue} does not exist in vhost {vhost}"
        return Verdict("parking-lot", max_messages, target, error=error)
    ready = int(by_series[RABBIT_READY.name].value)
    unacked = int(by_series[RABBIT_UNACKED.name].value)
    measured = {
        "role": by_series[RABBIT_READY.name].labels[3],
        "messages_ready": ready,
        "messages_unacked": unacked,
        "consumers": int(by_series[RABBIT_CONSUMERS.name].value),
    }
    value = ready + unacked
    over = f"queue {queue} holds {value} messages, over the threshold {max_messages}"
    verdict = over if value > max_messages else None
    return Verdict("parking-lot", max_messages, target, value, measured, verdict)
