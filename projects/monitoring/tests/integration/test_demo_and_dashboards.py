"""The demo end to end, then every dashboard panel's PromQL against a real Prometheus that scraped
the demo's pushed job metrics and the exporter watching the demo's targets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from monitoring import coverage, demo
from promkit import REPO, Exporter, Prometheus, wait_until

pytestmark = pytest.mark.integration

# Dashboards whose every panel must return data after the demo: the demo is the monitoring
# project's run, so other projects' own panels get data only from those projects' runs.
MUST_HAVE_DATA = ("overview.json", "project-monitoring.json", "pipelines.json")
VARIABLES = {"$project": ".*", "$__rate_interval": "1m", "$__interval": "1m", "$__range": "5m"}


def grafana_to_promql(expr: str) -> str:
    for var, value in VARIABLES.items():
        expr = expr.replace(var, value)
    return expr


def test_demo_then_every_panel_query_returns_data(
    prometheus: Callable[[list[str], str | None], Prometheus],
    exporter: Callable[[dict[str, Any]], Exporter],
    pg_database: str,
    kafka_bootstrap: str,
    rabbitmq_management_url: str,
    s3_endpoint: str,
    hdfs_url: str,
    pushgateway_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    urllib.request.urlopen(
        urllib.request.Request(f"{pushgateway_url}/metrics/job/monitoring", method="DELETE"),
        timeout=10,
    ).close()
    env = {
        **os.environ,
        "MONITORING_PUSHGATEWAY_URL": pushgateway_url,
        "MONITORING_DEMO_POSTGRES_URL": pg_database,
        "MONITORING_DEMO_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "MONITORING_DEMO_RABBITMQ_MANAGEMENT_URL": rabbitmq_management_url,
        "MONITORING_DEMO_S3_ENDPOINT": s3_endpoint,
        "MONITORING_DEMO_HDFS_URL": hdfs_url,
    }
    for attempt in range(2):  # twice: a rerun of the demo finds the same state
        res = subprocess.run(
            [sys.executable, "-m", "monitoring", "demo", "--json"], capture_output=True, text=True,
            env=env, cwd=tmp_path, timeout=180, check=False,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        summary = json.loads(res.stdout)
        assert (summary["records_in"], summary["records_out"]) == (5, 5), (attempt, summary)
        checks = summary["checks"]
        lags = [
            s["value"]
            for s in checks["demo-kafka"]["samples"]
            if s["series"] == "pipeline_kafka_consumer_lag"
        ]
        assert lags == [demo.LAG] * 3
        rows = [
            s["value"]
            for s in checks["demo-postgres"]["samples"]
            if s["series"] == "pipeline_data_items"
        ]
        assert rows == [100]

    # Then a run that fails: the gateway keeps the demo's last success beside the failed status.
    failed = subprocess.run(
        [sys.executable, "-m", "monitoring", "probe", "--checks", str(tmp_path / "missing.yml"), "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert failed.returncode == 2 and json.loads(failed.stdout)["status"] == "failed"

    served = exporter(
        {"checks": [
            {"name": "demo-postgres", "kind": "postgres", "dsn": pg_database,
             "tables": [{"table": demo.TABLE, "sla_s": 3600}]},
            {"name": "demo-kafka", "kind": "kafka", "bootstrap": kafka_bootstrap, "groups": [demo.GROUP],
             "topics": [demo.TOPIC], "dead_letter_topics": [f"{demo.TOPIC}.dlq"]},
            {"name": "demo-rabbitmq", "kind": "rabbitmq", "management_url": rabbitmq_management_url,
             "queues": r"monitoring-demo\..*"},
            {"name": "demo-s3", "kind": "s3", "bucket": demo.BUCKET, "endpoint": s3_endpoint,
             "prefixes": [{"prefix": "raw/events/"}]},
            {"name": "demo-hdfs", "kind": "hdfs", "webhdfs_url": hdfs_url, "folders": [{"path": demo.FOLDER}]},
        ], "job_success_sla_s": {"monitoring": 3600}}
    )  # fmt: skip
    prom = prometheus([served.target], pushgateway_url)
    prom.wait_value('min(pipeline_check_up{check=~"demo-.*"})', 1)
    prom.wait_value('count(pipeline_check_up{check=~"demo-.*"})', 5)
    prom.wait_value('de_job_runs_total{project="monitoring",status="failed"}', 1)
    assert prom.value('de_job_last_success_timestamp_seconds{project="monitoring"}') is not None
    # rate() needs two samples of each pushed series: a few scrapes at 1 s.
    wait_until(
        "5 scrapes of the gateway",
        lambda: (prom.value('count_over_time(up{job="pushgateway"}[1m])') or 0) >= 5,
    )

    empty: list[str] = []
    others: dict[str, int] = {}
    for path in coverage.dashboard_files(REPO):
        queries = coverage.panel_queries(json.loads(path.read_text()), path.name)
        for query in queries:
            expr = grafana_to_promql(query.expr)
            result = prom.query(expr)  # Prometheus accepts every query of every dashboard
            if path.name in MUST_HAVE_DATA:
                if not result:
                    empty.append(f"{query.where}: {expr}")
            elif result:
                others[path.name] = others.get(path.name, 0) + 1
    assert not empty, "panels without data after the demo:\n" + "\n".join(empty)
    print("other projects' panels with data from runs seen on the gateway:", others)
