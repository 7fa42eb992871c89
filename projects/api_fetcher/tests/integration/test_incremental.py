"""Incremental runs fetch only what changed since the saved cursor; backfill fetches a range again
without moving it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from api_fetcher.demo_api import DemoApi

pytestmark = pytest.mark.integration


OFFSET = "{type: offset, limit: 100, total_path: total}"


def test_the_second_run_fetches_only_changes_and_the_cursor_moves(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=500)
    settings = kit.settings(kit.orders(server.url, "/open/offset/orders", OFFSET))
    first = kit.fetch(settings)
    state = json.loads((kit.tmp / "state" / "s.json").read_text())
    assert state["endpoints"]["orders"]["cursor"] == "2024-01-01T08:19:00Z"  # order 500's minute
    assert state["last_success"]
    server.orders.grow(new=20, changed=5)
    second = kit.fetch(settings)
    assert first.records_out == 500
    # 25 changed or new, plus the boundary record the inclusive filter sends again.
    assert (second.records_in, second.records_out, second.records_skipped["duplicate"]) == (
        26,
        25,
        1,
    )
    assert second.extra["updated"] == 5
    rows = kit.jsonl()
    assert len({r["id"] for r in rows}) == 520 and len(rows) == 525  # 5 changed: a second version


def test_backfill_fetches_a_range_and_leaves_the_cursor(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=300)
    sources = kit.orders(server.url, "/open/offset/orders", OFFSET)
    res = kit.cli("run", "--sources", str(sources), "--sink", "jsonl", "--json")
    assert res.returncode == 0, res.stderr
    before = json.loads((kit.tmp / "state" / "s.json").read_text())["endpoints"]["orders"]["cursor"]
    res = kit.cli(
        "backfill", "s", "--from", "2024-01-01T01:00:00Z", "--to", "2024-01-01T02:00:00Z",
        "--sources", str(sources), "--sink", "jsonl", "--json",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    summary = kit.summary(res)
    assert summary["records_in"] == 60  # one order a minute
    assert summary["records_skipped"]["duplicate"] == 60  # already stored by the first run
    after = json.loads((kit.tmp / "state" / "s.json").read_text())["endpoints"]["orders"]["cursor"]
    assert after == before


def test_backfill_needs_a_time_filter(kit: Any, api: Callable[..., DemoApi]) -> None:
    server = api(records=10)
    sources = kit.orders(server.url, "/open/offset/orders", OFFSET)
    sources.write_text(sources.read_text().replace(", end_param: updated_before", ""))
    res = kit.cli("backfill", "s", "--from", "a", "--to", "b", "--sources", str(sources))
    assert res.returncode == 2
    assert "has no time filter" in res.stderr.strip().splitlines()[-1]


def test_state_command_shows_the_cursor(kit: Any, api: Callable[..., DemoApi]) -> None:
    server = api(records=10)
    kit.fetch(kit.settings(kit.orders(server.url, "/open/offset/orders", OFFSET)))
    res = kit.cli("state", "--json")
    assert res.returncode == 0, res.stderr
    assert (
        json.loads(res.stdout)["state"]["s"]["endpoints"]["orders"]["cursor"]
        == "2024-01-01T00:09:00Z"
    )
