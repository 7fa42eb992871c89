from __future__ import annotations

import time
import urllib.request

import pytest

from de_common.errors import ServiceUnavailable
from de_common.metrics import job_metrics, push, serve


def sample(jm, name: str, **labels: str) -> float | None:
    return jm.registry.get_sample_value(name, {"project": "p", **labels})


def test_counts_by_outcome_and_duration():
    jm = job_metrics("p")
    jm.count("ok", 5)
    jm.count("rejected")
    jm.count("duplicate", 0)
    with jm.timed():
        time.sleep(0.01)
    assert sample(jm, "de_records_total", outcome="ok") == 5
    assert sample(jm, "de_records_total", outcome="rejected") == 1
    assert sample(jm, "de_records_total", outcome="duplicate") is None
    assert sample(jm, "de_job_duration_seconds_count") == 1
    assert sample(jm, "de_job_duration_seconds_sum") >= 0.01


def test_duration_observed_even_on_failure():
    jm = job_metrics("p")
    with pytest.raises(RuntimeError), jm.timed():
        raise RuntimeError("boom")
    assert sample(jm, "de_job_duration_seconds_count") == 1


def test_last_success_is_now():
    jm = job_metrics("p")
    jm.mark_success()
    assert abs(sample(jm, "de_job_last_success_timestamp_seconds") - time.time()) < 5


def test_two_jobs_do_not_share_a_registry():
    a, b = job_metrics("p"), job_metrics("p")
    a.count("ok", 2)
    assert sample(b, "de_records_total", outcome="ok") is None


def test_serve_exposes_metrics_over_http():
    jm = job_metrics("p")
    jm.count("ok", 3)
    server, _thread = serve(0, jm.registry)
    try:
        port = server.server_address[1]
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()
    assert 'de_records_total{outcome="ok",project="p"} 3.0' in body


def test_push_to_unreachable_gateway_is_service_unavailable():
    jm = job_metrics("p")
    with pytest.raises(
        ServiceUnavailable, match=r"pushgateway unreachable at http://127\.0\.0\.1:9"
    ):
        push("http://127.0.0.1:9", "job", jm.registry)
