"""Retry routing and the topology arguments, as pure functions."""

from __future__ import annotations

import json

from rabbitmq_worker.retries import ERRORS, LAST_ERROR, RETRIES, requeue_headers, route_failure
from rabbitmq_worker.topology import PARKED_KEY, WORK_KEY, Topology

TOPO = Topology("jobs", (100, 1000), delivery_limit=5)


def test_failures_walk_the_tiers_then_park_with_every_reason() -> None:
    headers: dict[str, object] = {"x-death": [{"queue": "jobs.retry.0", "count": 1}]}
    keys = []
    for n in range(3):
        route = route_failure(TOPO, headers, f"boom {n}", permanent=False)
        keys.append(route.routing_key)
        headers = route.headers
    assert keys == ["retry.0", "retry.1", PARKED_KEY]
    assert route.parked
    assert headers[LAST_ERROR] == "boom 2"
    assert json.loads(str(headers[ERRORS])) == [
        "attempt 1: boom 0",
        "attempt 2: boom 1",
        "attempt 3: boom 2",
    ]
    assert headers["x-death"] == [{"queue": "jobs.retry.0", "count": 1}]


def test_a_permanent_error_parks_at_once() -> None:
    route = route_failure(TOPO, None, "bad args", permanent=True)
    assert route.parked and route.routing_key == PARKED_KEY
    assert RETRIES not in route.headers


def test_requeue_restarts_the_counter_and_keeps_history() -> None:
    parked = route_failure(TOPO, {RETRIES: 2}, "x", permanent=False).headers
    back = requeue_headers(parked)
    assert back[RETRIES] == 0 and back["x-requeued"] == 1
    assert back[LAST_ERROR] == "x"


def test_topology_arguments() -> None:
    work = TOPO.work_arguments()
    assert work["x-queue-type"] == "quorum" and work["x-delivery-limit"] == 5
    assert work["x-dead-letter-routing-key"] == PARKED_KEY
    tiers = [TOPO.retry_arguments(i) for i in range(2)]
    assert [t["x-message-ttl"] for t in tiers] == [100, 1000]
    assert {t["x-dead-letter-routing-key"] for t in tiers} == {WORK_KEY}
    assert TOPO.queues == ["jobs.work", "jobs.retry.0", "jobs.retry.1", "jobs.parked"]
