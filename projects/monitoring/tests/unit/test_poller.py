"""The poller: checks run concurrently, each bounded by its own timeout, failures reported."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from monitoring.checks import CheckFailed, Sample
from monitoring.exporter import HealthCollector
from monitoring.poller import Poller
from monitoring.series import DATA_ITEMS


@dataclass
class Timed:
    """A check that answers after `delay` seconds (an in-process stand-in for a slow target)."""

    name: str
    delay: float
    timeout_s: float
    fail: str = ""
    kind: str = "test"
    calls: int = 0
    release: threading.Event = field(default_factory=threading.Event)

    def run(self) -> list[Sample]:
        self.calls += 1
        self.release.wait(self.delay)
        if self.fail:
            raise CheckFailed(self.fail)
        return [Sample(DATA_ITEMS, (self.name, self.kind, "t"), 42.0)]

    def close(self) -> None:
        self.release.set()


def test_a_hung_target_costs_only_its_own_timeout() -> None:
    fast = Timed("fast", 0.0, 5.0)
    hung = Timed("hung", 60.0, 0.5)
    broken = Timed("broken", 0.0, 5.0, fail="connection refused")
    poller = Poller([fast, hung, broken])
    try:
        began = time.monotonic()
        outcomes = poller.run_round()
        took = time.monotonic() - began
        assert took < 2.0  # the round ends at the longest timeout among the slow ones, not 60 s
        assert outcomes["fast"].up and outcomes["fast"].samples[0].value == 42.0
        assert not outcomes["hung"].up and "0.5s timeout" in outcomes["hung"].reason
        assert not outcomes["broken"].up and outcomes["broken"].reason == "connection refused"
        # The next round does not start the hung check again while it still runs.
        again = poller.run_round()
        assert hung.calls == 1 and fast.calls == 2
        assert "still running" in again["hung"].reason
    finally:
        poller.close()


def test_checks_run_concurrently() -> None:
    checks = [Timed(f"c{i}", 0.4, 5.0) for i in range(10)]
    poller = Poller(list(checks))
    try:
        began = time.monotonic()
        outcomes = poller.run_round()
        assert time.monotonic() - began < 2.0  # ten 0.4 s checks one after another take 4 s
        assert all(o.up for o in outcomes.values())
    finally:
        poller.close()


def test_the_collector_renders_up_and_samples_and_slas() -> None:
    poller = Poller([Timed("ok", 0.0, 1.0), Timed("bad", 0.0, 1.0, fail="boom")])
    try:
        poller.run_round()
        families = {f.name: f for f in HealthCollector(poller, {"spark_etl": 3600.0}).collect()}
    finally:
        poller.close()
    up = {s.labels["check"]: s.value for s in families["pipeline_check_up"].samples}
    assert up == {"ok": 1.0, "bad": 0.0}
    items = families["pipeline_data_items"].samples
    assert [(s.labels["check"], s.value) for s in items] == [("ok", 42.0)]
    (sla,) = families["pipeline_job_success_sla_seconds"].samples
    assert sla.labels == {"project": "spark_etl"} and sla.value == 3600.0


def test_the_exposition_serves_the_last_rendering_plain_and_gzipped() -> None:
    import gzip
    import socket
    import urllib.error
    import urllib.request

    from monitoring.exposition import Exposition, serve
    from prometheus_client import CollectorRegistry

    poller = Poller([Timed("ok", 0.0, 1.0)])
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HealthCollector(poller, {}))
    exposition = Exposition(registry)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = serve(exposition, "127.0.0.1", port)
    try:
        exposition.refresh()  # before any round: families, no samples
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert 'pipeline_check_up{check="ok"' not in resp.read().decode()
        poller.run_round()
        with urllib.request.urlopen(url, timeout=10) as resp:  # not rendered again yet
            assert 'pipeline_check_up{check="ok"' not in resp.read().decode()
        exposition.refresh()
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.headers["Content-Encoding"] == "gzip"
            assert (
                'pipeline_check_up{check="ok",kind="test"} 1.0'
                in gzip.decompress(resp.read()).decode()
            )
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=10)
            raise AssertionError("expected 404")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
    finally:
        server.shutdown()
        poller.close()


def test_an_answer_just_past_the_deadline_counts_as_down_not_as_the_last_value() -> None:
    late = Timed("late", 0.6, 0.5)
    poller = Poller([late])
    try:
        poller.run_round()
        time.sleep(0.3)  # the answer arrives after its deadline
        outcome = poller.snapshot()["late"]
        assert not outcome.up and "timeout" in outcome.reason and outcome.samples == []
    finally:
        poller.close()
