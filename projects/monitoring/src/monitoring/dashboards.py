"""Grafana dashboards as code: the pipeline-health overview and one dashboard per project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitoring.discovery import Metric

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}


@dataclass(frozen=True)
class Panel:
    """One panel: a title, its PromQL, a unit, a legend and a type."""

    title: str
    expr: str
    unit: str = "short"
    legend: str = ""
    kind: str = "timeseries"


def render(uid: str, title: str, panels: list[Panel], tags: list[str]) -> dict[str, Any]:
    """The dashboard JSON Grafana provisions (schema 39), two panels per row."""
    body: list[dict[str, Any]] = []
    for i, panel in enumerate(panels):
        body.append(
            {
                "id": i + 1,
                "type": panel.kind,
                "title": panel.title,
                "datasource": DATASOURCE,
                "gridPos": {"x": 12 * (i % 2), "y": 8 * (i // 2), "w": 12, "h": 8},
                "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
                "targets": [
                    {
                        "refId": "A",
                        "expr": panel.expr,
                        "legendFormat": panel.legend,
                        "datasource": DATASOURCE,
                    }
                ],
            }
        )
    return {
        "uid": uid,
        "title": title,
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "tags": ["de-showcase", *tags],
        "templating": {"list": []},
        "panels": body,
    }


def job_panels(project: str) -> list[Panel]:
    """What every batch job reports through de_common's run contract."""
    sel = f'project="{project}"'
    return [
        Panel("Records by outcome (last run totals)", f"sum by (outcome) (de_records_total{{{sel}}})", legend="{{outcome}}"),
        Panel("Runs by status", f"sum by (status) (de_job_runs_total{{{sel}}})", legend="{{status}}"),
        Panel("Time since last success", f"time() - de_job_last_success_timestamp_seconds{{{sel}}}", "s", kind="stat"),
        Panel("Run duration (mean)", f"sum(de_job_duration_seconds_sum{{{sel}}}) / sum(de_job_duration_seconds_count{{{sel}}})", "s"),
        Panel("Run duration (p95 bucket estimate)", f"histogram_quantile(0.95, sum by (le) (de_job_duration_seconds_bucket{{{sel}}}))", "s"),
    ]  # fmt: skip


def metric_panel(metric: Metric) -> Panel:
    """A first panel for a project's own metric, by its type (edit the JSON to refine it)."""
    if metric.kind.startswith("Histogram"):
        base = metric.samples[0].removesuffix("_bucket")
        return Panel(
            f"{base} p95", f"histogram_quantile(0.95, sum by (le) (rate({base}_bucket[5m])))", "s"
        )
    if metric.kind.startswith("Summary"):
        base = metric.samples[0].removesuffix("_sum")
        return Panel(f"{base} mean", f"rate({base}_sum[5m]) / rate({base}_count[5m])")
    if metric.kind.startswith("Counter"):
        return Panel(f"{metric.samples[0]}", f"sum without (instance) ({metric.samples[0]})")
    return Panel(metric.samples[0], f"sum without (instance) ({metric.samples[0]})")  # fmt: skip


def project_dashboard(project: str, own: list[Metric]) -> dict[str, Any]:
    panels = job_panels(project) + [metric_panel(m) for m in own]
    return render(f"de-project-{project}", f"de-showcase: {project}", panels, [project])


def health_panels() -> list[Panel]:
    """The exporter's view from outside: targets up, lag, queues, freshness against SLA."""
    return [
        Panel("Checks up", "min by (check, kind) (pipeline_check_up)", legend="{{check}}"),
        Panel("Check duration", "max by (check) (pipeline_check_duration_seconds)", "s", "{{check}}"),
        Panel("Kafka consumer lag by group and topic", "sum by (group, topic) (pipeline_kafka_consumer_lag)", legend="{{group}} {{topic}}"),
        Panel("Kafka topic sizes (dead-letter topics)", "sum by (topic, role) (pipeline_kafka_topic_messages)", legend="{{topic}} {{role}}"),
        Panel("RabbitMQ ready by queue", "sum by (queue, role) (pipeline_rabbitmq_queue_messages_ready)", legend="{{queue}} {{role}}"),
        Panel("RabbitMQ unacked by queue", "sum by (queue) (pipeline_rabbitmq_queue_messages_unacked)", legend="{{queue}}"),
        Panel("RabbitMQ consumers by queue", "sum by (queue) (pipeline_rabbitmq_queue_consumers)", legend="{{queue}}"),
        Panel("Data age (tables, S3 prefixes, HDFS folders)", "time() - max by (kind, target) (pipeline_data_last_update_timestamp_seconds)", "s", "{{kind}} {{target}}"),
        Panel("Data age / SLA (over 1 is stale)", "(time() - max by (check, kind, target) (pipeline_data_last_update_timestamp_seconds)) / on (check, kind, target) max by (check, kind, target) (pipeline_data_freshness_sla_seconds)", "percentunit", "{{target}}"),
        Panel("Rows, objects, partitions", "max by (kind, target) (pipeline_data_items)", legend="{{kind}} {{target}}"),
    ]  # fmt: skip


def overview() -> dict[str, Any]:
    """Every pipeline at a glance: health from outside plus each job's last success and status."""
    panels = [
        Panel("Time since each project's last success", "time() - max by (project) (de_job_last_success_timestamp_seconds)", "s", "{{project}}", "bargauge"),
        Panel("Job success SLA per project", "max by (project) (pipeline_job_success_sla_seconds)", "s", "{{project}}", "bargauge"),
        Panel("Last run failed", "max by (project) (de_job_runs_total{status=\"failed\"})", legend="{{project}}", kind="stat"),
        Panel("Alerts firing", "sum by (alertname) (ALERTS{alertstate=\"firing\"}) or vector(0)", legend="{{alertname}}", kind="stat"),
        *health_panels(),
    ]  # fmt: skip
    return render("de-overview", "de-showcase: pipeline health overview", panels, ["overview"])
