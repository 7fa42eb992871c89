"""What a real server can do wrong: 429 with Retry-After, 500s, slow answers, dropped connections,
truncated and malformed bodies, wrong content types, a server that is not there; and the
per-source rate limit."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from api_fetcher.demo_api import DemoApi, Fault

pytestmark = pytest.mark.integration

PAGED = "{type: page_number, size: 50, total_pages_path: meta.total_pages}"


def test_429_waits_for_retry_after_then_gets_the_page(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=100, retry_after_s=0.6, faults=[Fault("429", page=2)])
    summary = kit.fetch(
        kit.settings(kit.orders(server.url, "/open/page/orders", PAGED), concurrency=1)
    )
    assert summary.records_out == 100 and summary.extra["pages_failed"] == 0
    assert summary.extra["requests"] == {"200": 2, "429": 1}
    assert summary.extra["retries"] == 1
    # Requests: page 1, page 2 (429), page 2 again no sooner than Retry-After.
    assert server.log.times[2] - server.log.times[1] >= 0.6


def test_500s_and_dropped_connections_are_retried(kit: Any, api: Callable[..., DemoApi]) -> None:
    faults = [Fault("500", page=1, times=2), Fault("drop", page=3), Fault("503", page=4)]
    server = api(records=200, faults=faults)
    summary = kit.fetch(kit.settings(kit.orders(server.url, "/open/page/orders", PAGED)))
    assert summary.records_out == 200 and summary.extra["pages_failed"] == 0
    assert summary.extra["retries"] >= 4
    assert server.log.statuses[500] == 2 and server.log.statuses[503] == 1


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("truncate", "truncated body"),
        ("malformed", "body is not JSON"),
        ("html", "unexpected content type 'text/html'"),
    ],
)
def test_a_bad_body_fails_its_page_only(
    kit: Any, api: Callable[..., DemoApi], kind: str, reason: str
) -> None:
    server = api(records=250, faults=[Fault(kind, page=3)])
    settings = kit.settings(kit.orders(server.url, "/open/page/orders", PAGED), max_failed_pages=1)
    summary = kit.fetch(settings)
    assert "failure" not in summary.extra
    assert summary.extra["pages_failed"] == 1
    assert summary.records_out == 200  # the other four pages of 50
    (entry,) = kit.quarantine()
    assert entry["kind"] == "page" and entry["reason"].startswith(reason)
    assert "page=3" in entry["page"]
    # The cursor stays before the gap: the next run fetches page 3's records (and, again, after).
    rerun = kit.fetch(settings)
    assert rerun.records_out == 50 and rerun.extra["pages_failed"] == 0
    assert sorted(r["id"] for r in kit.jsonl()) == list(range(1, 251))


def test_more_failed_pages_than_allowed_fail_the_run_with_the_summary(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=100, faults=[Fault("malformed", page=2)])
    sources = kit.orders(server.url, "/open/page/orders", PAGED)
    res = kit.cli("run", "--sources", str(sources), "--sink", "jsonl", "--json")
    assert res.returncode == 1
    summary = kit.summary(res)
    assert summary["status"] == "failed" and summary["records_out"] == 50
    assert "1 pages failed (max_failed_pages=0)" in summary["error"]
    assert res.stderr.strip().splitlines()[-1].startswith("error: 1 pages failed")
    assert "Traceback" not in res.stderr


def test_a_slow_answer_past_the_timeout_is_a_failed_page(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=100, slow_s=1.5, faults=[Fault("slow", page=2, times=10)])
    settings = kit.settings(
        kit.orders(server.url, "/open/page/orders", PAGED),
        timeout_s=0.3,
        retries=1,
        max_failed_pages=1,
    )
    summary = kit.fetch(settings)
    assert summary.records_out == 50 and summary.extra["pages_failed"] == 1
    assert "no answer within 0.3s" in kit.quarantine()[0]["reason"]


def test_an_unreachable_api_is_one_error_line_and_exit_1(kit: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    sources = kit.orders(f"http://127.0.0.1:{port}", "/open/page/orders", PAGED)
    res = kit.cli("run", "--sources", str(sources), "--retries", "1", "--json")
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert lines[-1].startswith(f"error: s.orders: s unreachable at http://127.0.0.1:{port}")
    assert "Traceback" not in res.stderr
    assert kit.summary(res)["status"] == "failed"


def test_the_rate_limit_paces_every_thread_of_a_source(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=600)
    extra = "    rate_limit: {requests_per_second: 20, burst: 2}"
    settings = kit.settings(
        kit.orders(server.url, "/open/page/orders", PAGED, extra), concurrency=8
    )
    summary = kit.fetch(settings)
    assert summary.records_out == 600
    times = server.log.times
    assert len(times) == 12
    assert times[-1] - times[0] >= (12 - 2) / 20 - 0.02  # burst of 2, then 20 per second
