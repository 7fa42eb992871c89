"""Every series the exporter writes: name, help and label names, in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    """One gauge family the exporter emits."""

    name: str
    help: str
    labels: tuple[str, ...]


CHECK_UP = Series(
    "pipeline_check_up", "1 if the check's last run answered in time.", ("check", "kind")
)
CHECK_DURATION = Series(
    "pipeline_check_duration_seconds", "Wall time of the check's last run.", ("check", "kind")
)
KAFKA_LAG = Series(
    "pipeline_kafka_consumer_lag",
    "High watermark minus the group's committed offset (low watermark when none), per partition.",
    ("check", "group", "topic", "partition"),
)
KAFKA_TOPIC_MESSAGES = Series(
    "pipeline_kafka_topic_messages",
    "Messages retained in a watched topic (high minus low watermark); role dead_letter for DLQs.",
    ("check", "topic", "role"),
)
RABBIT_READY = Series(
    "pipeline_rabbitmq_queue_messages_ready",
    "Messages ready for delivery in a queue; role work, dead_letter or parking_lot.",
    ("check", "vhost", "queue", "role"),
)
RABBIT_UNACKED = Series(
    "pipeline_rabbitmq_queue_messages_unacked",
    "Messages delivered and not yet acknowledged.",
    ("check", "vhost", "queue", "role"),
)
RABBIT_CONSUMERS = Series(
    "pipeline_rabbitmq_queue_consumers",
    "Consumers attached to a queue.",
    ("check", "vhost", "queue", "role"),
)
DATA_LAST_UPDATE = Series(
    "pipeline_data_last_update_timestamp_seconds",
    "Newest data in a table (max of its timestamp column), S3 prefix or HDFS partition folder.",
    ("check", "kind", "target"),
)
DATA_ITEMS = Series(
    "pipeline_data_items",
    "Rows of a table, objects under an S3 prefix, partitions under an HDFS folder.",
    ("check", "kind", "target"),
)
DATA_SLA = Series(
    "pipeline_data_freshness_sla_seconds",
    "How old a target's newest data may be before PipelineDataStale fires.",
    ("check", "kind", "target"),
)
JOB_SLA = Series(
    "pipeline_job_success_sla_seconds",
    "How long ago a project's last successful run may be before JobLastSuccessTooOld fires.",
    ("project",),
)

ALL = (
    CHECK_UP,
    CHECK_DURATION,
    KAFKA_LAG,
    KAFKA_TOPIC_MESSAGES,
    RABBIT_READY,
    RABBIT_UNACKED,
    RABBIT_CONSUMERS,
    DATA_LAST_UPDATE,
    DATA_ITEMS,
    DATA_SLA,
    JOB_SLA,
)
