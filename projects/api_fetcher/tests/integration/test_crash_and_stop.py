"""A fetch SIGKILLed mid-run, then rerun, ends with every record exactly once in each sink; SIGTERM
finishes the pages in flight, saves state and exits 0."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg2
import pytest
from api_fetcher.demo_api import DemoApi

from de_services.testing import fault_env

pytestmark = pytest.mark.integration

RECORDS = 600


def paged(size: int = 50) -> str:
    return f"{{type: page_number, size: {size}, total_pages_path: meta.total_pages}}"


def stored_ids(kit: Any, sink: str, database: str | None) -> list[int]:
    if sink == "jsonl":
        return [r["id"] for r in kit.jsonl()]
    if sink == "parquet":
        return [r["id"] for r in kit.parquet()]
    conn = psycopg2.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM s_orders")
            return [int(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()


CASES = [
    (sink, point)
    for sink in ("jsonl", "parquet", "postgres")
    for point in ("fetch.after_write@3", "sink.before_commit@2", "fetch.after_state@2")
    if not (sink == "postgres" and point.startswith("sink."))  # the file sinks' commit point
]


@pytest.mark.parametrize(("kind", "point"), CASES, ids=[f"{s}-{p}" for s, p in CASES])
def test_sigkill_then_rerun_stores_every_record_exactly_once(
    kit: Any, api: Callable[..., DemoApi], request: pytest.FixtureRequest, kind: str, point: str
) -> None:
    database = str(request.getfixturevalue("pg_database")) if kind == "postgres" else None
    server = api(records=RECORDS, overlap=2, invalid_every=0)
    sources = kit.orders(server.url, "/open/page/orders", paged())
    args = ("run", "--sources", str(sources), "--sink", kind, "--batch-records", "100", "--json")
    env = {"API_FETCHER_DATABASE_URL": database} if database else {}
    name, _, nth = point.partition("@")
    crashed = kit.cli(*args, env={**env, **fault_env(name, int(nth))})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert stored_ids(kit, kind, database)  # some batches were durable before the kill
    rerun = kit.cli(*args, env=env)
    assert rerun.returncode == 0, rerun.stderr
    ids = stored_ids(kit, kind, database)
    assert Counter(ids) == Counter(range(1, RECORDS + 1))  # every record, once
    assert kit.summary(rerun)["records_in"] < RECORDS + 2 * 11  # resumed, not from the start
    assert not list(kit.tmp.rglob("*.tmp"))


def test_sigterm_finishes_in_flight_pages_saves_state_and_exits_0(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=400, latency_s=0.05)
    sources = kit.orders(server.url, "/open/page/orders", paged(10))
    args = (
        "run",
        "--sources",
        str(sources),
        "--sink",
        "jsonl",
        "--concurrency",
        "2",
        "--batch-records",
        "20",
        "--json",
    )
    proc = kit.popen(*args)
    deadline = time.monotonic() + 30
    while sum(server.log.paths.values()) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["status"] == "ok" and summary["stopped"] is True
    assert 0 < summary["records_out"] < 400
    assert "SIGTERM: finishing the pages in flight" in err
    saved = json.loads((kit.tmp / "state" / "s.json").read_text())["endpoints"]["orders"]["cursor"]
    assert saved is not None
    assert len(kit.jsonl()) == summary["records_out"]
    rerun = kit.cli(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert Counter(r["id"] for r in kit.jsonl()) == Counter(range(1, 401))
