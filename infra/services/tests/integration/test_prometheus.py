"""Prometheus + Pushgateway through the launcher: a registered target is scraped, a push is
visible through a Prometheus query with its own job label (honor_labels), then both go down."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, start_http_server

from de_services.catalog import prometheus

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def services() -> list[str]:
    return ["pushgateway", "prometheus"]


def _query(url: str, promql: str, timeout: float = 30.0) -> list[dict[str, object]]:
    """Poll until the query returns a non-empty vector (scrapes happen every 2 s)."""
    deadline = time.monotonic() + timeout
    while True:
        resp = requests.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5)
        resp.raise_for_status()
        result: list[dict[str, object]] = resp.json()["data"]["result"]
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_scrape_registered_target_and_pushgateway(
    started: dict[str, str], ports: dict[str, int], down_leaves_nothing: Callable[..., list[int]]
) -> None:
    gateway, prom = started["pushgateway"], started["prometheus"]
    assert (gateway, prom) == (
        f"http://127.0.0.1:{ports['DE_PUSHGATEWAY_PORT']}",
        f"http://127.0.0.1:{ports['DE_PROMETHEUS_PORT']}",
    )

    # A real exporter on an ephemeral loopback port, registered as a scrape target.
    exporter_registry = CollectorRegistry()
    Gauge("de_selftest_value", "launcher self test", registry=exporter_registry).set(7)
    server, _thread = start_http_server(0, addr="127.0.0.1", registry=exporter_registry)
    try:
        port = server.server_address[1]
        prometheus.register_target("selftest", [f"127.0.0.1:{port}"], {"team": "infra"})
        scraped = _query(prom, 'de_selftest_value{job="selftest",team="infra"}')
        assert [r["value"][1] for r in scraped] == ["7"]  # type: ignore[index]
    finally:
        server.shutdown()
        assert prometheus.unregister_target("selftest")

    pushed_registry = CollectorRegistry()
    Gauge("de_selftest_pushed", "pushed by a batch job", registry=pushed_registry).set(42)
    push_to_gateway(gateway, job="de_selftest_batch", registry=pushed_registry)
    seen = _query(prom, "de_selftest_pushed")
    assert len(seen) == 1
    assert seen[0]["metric"]["job"] == "de_selftest_batch"  # type: ignore[index]
    assert seen[0]["value"][1] == "42"  # type: ignore[index]

    # The shared alert rules from infra/prometheus/rules are loaded by the native instance too.
    rules = requests.get(f"{prom}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert "ScrapeTargetDown" in [r["name"] for g in rules for r in g["rules"]]

    down_leaves_nothing()


def test_register_target_cli_writes_file_sd(
    state_dir: Path, cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    proc = cli("register-target", "cli_job", "127.0.0.1:9", timeout=60)
    assert proc.returncode == 0, proc.stderr
    written = json.loads((state_dir / "prometheus" / "targets" / "cli_job.json").read_text())
    assert written == [{"targets": ["127.0.0.1:9"], "labels": {"job": "cli_job"}}]
    bad = cli("register-target", "only_job", timeout=60)
    assert bad.returncode == 2 and "usage" in bad.stderr
