"""A target that goes away mid-run: its check reports down within its timeout, the others and the
scrape carry on, and it comes back on its own when the service does."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg2
import pytest
from promkit import Exporter, Prometheus

pytestmark = pytest.mark.integration


def check_up(served: Exporter, check: str) -> float | None:
    for line in served.metrics().splitlines():
        if line.startswith(f'pipeline_check_up{{check="{check}"'):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_postgres_stopped_and_started_under_a_running_exporter(
    private_service: Callable[[str], Any],
    exporter: Callable[[dict[str, Any]], Exporter],
    prometheus: Callable[[list[str], str | None], Prometheus],
    pg_database: str,
) -> None:
    db = private_service("postgres")
    for dsn in (db.url, pg_database):
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS loads (updated_at timestamptz)")
            cur.execute("INSERT INTO loads VALUES (now())")
        conn.close()
    tables = [{"table": "loads", "sla_s": 3600}]
    served = exporter({"timeout_s": 2, "checks": [
        {"name": "private-db", "kind": "postgres", "dsn": db.url, "tables": tables},
        {"name": "shared-db", "kind": "postgres", "dsn": pg_database, "tables": tables},
    ]})  # fmt: skip
    prom = prometheus([served.target], None)
    prom.wait_value('pipeline_check_up{check="private-db"}', 1)
    prom.wait_value('pipeline_check_up{check="shared-db"}', 1)

    db.stop()
    stopped = time.monotonic()
    prom.wait_value('pipeline_check_up{check="private-db"}', 0, timeout=30)
    # Down is seen within a round (1 s) plus the 2 s timeout plus a scrape (1 s), with slack.
    assert time.monotonic() - stopped < 15
    assert prom.value('pipeline_check_up{check="shared-db"}') == 1
    assert prom.value('up{job="exporter"}') == 1
    assert check_up(served, "private-db") == 0
    assert any("private-db (postgres) down" in line["msg"] for line in served.log_lines())

    db.start()
    prom.wait_value('pipeline_check_up{check="private-db"}', 1, timeout=60)
    prom.wait_value('pipeline_data_items{check="private-db"}', 1)
    assert served.proc.poll() is None  # the exporter never went down
