"""SIGKILL mid-task, a crash loop hitting the delivery limit, and broker restarts during a publish
run and a work run: every confirmed message has its effect exactly once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rabbitmq_worker import samples
from rabbitmq_worker.tasks import _reading_problem

from de_services.testing import PrivateService, fault_env

from .conftest import (
    cli_env,
    drain,
    finish,
    processed,
    run_cli,
    start_cli,
    store,
    wait_for,
    write_tasks,
)

pytestmark = pytest.mark.integration

GOOD = {"sensor": "s1", "ts": "2026-11-01T00:00:00+00:00", "value": 2.0}


def _batches(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"m-{i}",
            "task": "load_readings",
            "args": {"records": [{**GOOD, "ts": f"2026-11-01T{i:04d}"}]},
        }
        for i in range(n)
    ]


def _assert_once(tmp: Path, ids: set[str]) -> None:
    s = store(tmp)
    assert {r[0] for r in s.query("SELECT message_id FROM processed_messages")} == ids
    # sensor_totals adds on every application: exactly one per message means no double effect.
    assert s.query("SELECT readings, value_sum FROM sensor_totals") == [(len(ids), 2.0 * len(ids))]


@pytest.mark.parametrize("point", ["task.after_commit", "task.before_commit"])
def test_sigkill_mid_task_redelivers_and_applies_once(
    rabbitmq_vhost: str, tmp_path: Path, point: str
) -> None:
    env = cli_env(rabbitmq_vhost, tmp_path)
    run_cli(["publish", str(write_tasks(tmp_path / "t.jsonl", _batches(10)))], env, tmp_path)

    killed = start_cli(["work", "--concurrency", "1"], {**env, **fault_env(point, 4)}, tmp_path)
    code, _ = finish(killed, timeout=60)
    assert code == -9
    after_kill = processed(tmp_path)
    assert after_kill == (4 if point == "task.after_commit" else 3)

    work = run_cli(["work", "--idle-timeout", "1.5"], env, tmp_path)
    assert work["redelivered"] >= 1
    if point == "task.after_commit":
        # The 4th committed but was never acked: its redelivery is recognised, not re-applied.
        assert work["records_skipped"].get("duplicate", 0) >= 1
    assert work["records_out"] + work["records_skipped"].get("duplicate", 0) == work["records_in"]
    _assert_once(tmp_path, {f"m-{i}" for i in range(10)})
    assert drain(rabbitmq_vhost, "tasks.work") == []


def test_a_task_that_kills_every_worker_is_parked_by_the_delivery_limit(
    rabbitmq_vhost: str, tmp_path: Path
) -> None:
    env = cli_env(rabbitmq_vhost, tmp_path, delivery_limit="2")
    run_cli(["publish", str(write_tasks(tmp_path / "t.jsonl", _batches(1)))], env, tmp_path)
    for _ in range(3):  # delivered 3 times, killed each time
        code, _ = finish(
            start_cli(["work"], {**env, **fault_env("task.before_commit")}, tmp_path), 60
        )
        assert code == -9
    work = run_cli(["work", "--idle-timeout", "1.5"], env, tmp_path)
    assert work["records_in"] == 0
    parked = drain(rabbitmq_vhost, "tasks.parked")
    assert [p.message_id for p, _ in parked] == ["m-0"]
    assert parked[0][0].headers["x-death"][0]["queue"] == "tasks.work"
    assert processed(tmp_path) == 0


def _expected_valid(tasks: list[Any]) -> int:
    return sum(1 for t in tasks for r in t.args["records"] if _reading_problem(r) is None)


def test_broker_restart_during_a_publish_run_loses_and_doubles_nothing(
    private_service: Callable[[str], PrivateService], tmp_path: Path
) -> None:
    broker = private_service("rabbitmq")
    env = cli_env(broker.url, tmp_path, reconnect_timeout_s="90", confirm_window="200")
    ready, release = tmp_path / "paused", tmp_path / "go"
    count = 3000
    pause = fault_env("publish.after_confirm", 5, pause=True, ready=ready, release=release)
    pub = start_cli(
        ["publish", "--generate", str(count), "--task", "load_readings"], {**env, **pause}, tmp_path
    )
    wait_for(ready.exists, 60, "the publisher to pause mid-run")
    broker.restart()
    release.touch()
    code, summary = finish(pub, timeout=180)
    assert code == 0, summary
    assert summary["records_out"] == count and summary["records_rejected"] == 0
    assert summary["reconnects"] >= 1 and summary["resent_after_reconnect"] > 0

    work = run_cli(["work", "--idle-timeout", "2", "--concurrency", "4"], env, tmp_path)
    # Resent messages may have been stored twice: the duplicates are recognised by id.
    assert work["records_out"] == count
    assert work["records_in"] == count + work["records_skipped"].get("duplicate", 0)
    tasks = list(samples.generate(samples.Generated(count, "load_readings")))
    s = store(tmp_path)
    ids = {r[0] for r in s.query("SELECT message_id FROM processed_messages")}
    assert ids == {t.message_id for t in tasks}
    assert s.query("SELECT SUM(readings) FROM sensor_totals") == [(_expected_valid(tasks),)]


def test_broker_restart_during_a_work_run_loses_and_doubles_nothing(
    private_service: Callable[[str], PrivateService], tmp_path: Path
) -> None:
    broker = private_service("rabbitmq")
    env = cli_env(broker.url, tmp_path, reconnect_timeout_s="90")
    count = 1500
    pub = run_cli(["publish", "--generate", str(count), "--task", "load_readings"], env, tmp_path)
    assert pub["records_out"] == count

    worker = start_cli(["work", "--idle-timeout", "3", "--concurrency", "4"], env, tmp_path)
    wait_for(lambda: processed(tmp_path) >= 200, 120, "the worker to be busy")
    broker.restart()
    code, work = finish(worker, timeout=240)
    assert code == 0, work
    assert work["reconnects"] >= 1
    tasks = list(samples.generate(samples.Generated(count, "load_readings")))
    s = store(tmp_path)
    ids = {r[0] for r in s.query("SELECT message_id FROM processed_messages")}
    assert ids == {t.message_id for t in tasks}
    assert s.query("SELECT SUM(readings) FROM sensor_totals") == [(_expected_valid(tasks),)]
    # Whatever was unacked when the broker went down came back and was recognised.
    assert work["records_out"] + work["records_skipped"].get("duplicate", 0) <= work["records_in"]
    assert work["records_out"] <= count
    assert drain(broker.url, "tasks.work") == []
