"""The launcher's shared Prometheus scrapes a running exporter through `register_target` (file-based
service discovery), and its generated config loads the pipeline-health rules."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from promkit import Exporter, http_json, wait_until

from de_services.catalog import prometheus as shared
from de_services.testing import unique_name

pytestmark = pytest.mark.integration


def test_the_shared_prometheus_scrapes_a_registered_exporter(
    prometheus_url: str, exporter: Callable[[dict[str, Any]], Exporter], pg_database: str
) -> None:
    import psycopg2

    with psycopg2.connect(pg_database) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE loads (updated_at timestamptz)")
        cur.execute("INSERT INTO loads VALUES (now()), (now())")
    conn.close()
    name = unique_name("monitoring")
    served = exporter({"checks": [
        {"name": name, "kind": "postgres", "dsn": pg_database, "tables": [{"table": "loads"}]},
    ]})  # fmt: skip
    job = unique_name("exporter")
    shared.register_target(job, [served.target])
    try:

        def items() -> list[Any]:
            q = urllib.parse.urlencode(
                {"query": f'pipeline_data_items{{check="{name}",job="{job}"}}'}
            )
            return list(http_json(f"{prometheus_url}/api/v1/query?{q}")["data"]["result"])

        (sample,) = wait_until("the shared Prometheus to scrape the exporter", items, timeout=30)
        assert float(sample["value"][1]) == 2
    finally:
        shared.unregister_target(job)
    config = http_json(f"{prometheus_url}/api/v1/status/config")["data"]["yaml"]
    assert "infra/prometheus/rules/*.yml" in config
