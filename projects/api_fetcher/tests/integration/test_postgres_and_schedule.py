"""The PostgreSQL sink upserts on the primary key; `schedule` runs sources on their intervals
without overlapping runs of one source."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from typing import Any

import psycopg2
import pytest
from api_fetcher.demo_api import DemoApi

pytestmark = pytest.mark.integration


def source(base: str, interval: int = 3600, name: str = "s") -> str:
    return f"""
sources:
  - name: {name}
    base_url: {base}
    interval_s: {interval}
    endpoints:
      - name: orders
        path: /open/cursor/orders
        records_path: items
        primary_key: id
        incremental: {{cursor_field: updated_at, param: updated_since}}
        pagination: {{type: cursor, size_param: limit, size: 50}}
"""


def test_postgres_upserts_changes_and_skips_what_it_holds(
    kit: Any, api: Callable[..., DemoApi], pg_database: str
) -> None:
    server = api(records=300)
    settings = kit.settings(
        kit.sources(source(server.url)), sink="postgres", database_url=pg_database
    )
    first = kit.fetch(settings)
    server.orders.grow(new=10, changed=7)
    second = kit.fetch(settings)
    assert first.records_out == 300
    assert (second.records_out, second.extra["updated"], second.records_skipped["duplicate"]) == (
        17,
        7,
        1,
    )
    conn = psycopg2.connect(pg_database)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*), count(DISTINCT id), sum((_record->>'version')::int) FROM s_orders"
            )
            assert cur.fetchone() == (310, 310, 7)
    finally:
        conn.close()


def test_an_unreachable_database_is_one_error_line(kit: Any, api: Callable[..., DemoApi]) -> None:
    server = api(records=10)
    sources = kit.sources(source(server.url))
    url = "postgresql://nobody:hunter2-secret@127.0.0.1:1/none"
    res = kit.cli(
        "run",
        "--sources",
        str(sources),
        "--sink",
        "postgres",
        env={"API_FETCHER_DATABASE_URL": url},
    )
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: postgres unreachable at 127.0.0.1:1/none")
    assert "hunter2-secret" not in res.stderr + res.stdout


def test_schedule_skips_ticks_while_a_source_still_runs(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    # One run takes ~2 s (20 pages at 0.1 s); the interval is 1 s.
    server = api(records=1000, latency_s=0.1)
    sources = kit.sources(source(server.url, interval=1))
    res = kit.cli("schedule", "--sources", str(sources), "--sink", "jsonl", "--runs", "2", "--json")
    assert res.returncode == 0, res.stderr
    summary = kit.summary(res)
    assert summary["runs"] == {"s": 2}
    assert summary["overlaps_skipped"]["s"] >= 1
    spans = sorted((s["start"], s["end"]) for s in summary["spans"])
    assert spans[0][1] <= spans[1][0]  # the second run began after the first had ended
    assert summary["records_out"] == 1000  # the second run found nothing new


def test_schedule_stops_cleanly_on_sigterm(kit: Any, api: Callable[..., DemoApi]) -> None:
    server = api(records=50)
    sources = kit.sources(source(server.url, interval=1))
    proc = kit.popen("schedule", "--sources", str(sources), "--sink", "jsonl", "--json")
    deadline = time.monotonic() + 30
    while server.log.paths["/open/cursor/orders"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)  # at least two scheduled runs
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["stopped"] is True and summary["runs"]["s"] >= 2
    assert summary["records_out"] == 50
