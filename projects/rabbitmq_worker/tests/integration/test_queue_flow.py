"""Publish, work, retry tiers, parking and requeue against the real broker (a vhost per test)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from .conftest import (
    cli,
    drain,
    finish,
    publish_raw,
    run_cli,
    start_cli,
    store,
    wait_for,
    write_tasks,
)

pytestmark = pytest.mark.integration

RECORDS = [
    {"sensor": "s1", "ts": "2026-11-01T00:00:00+00:00", "value": 1.5},
    {"sensor": "s1", "ts": "2026-11-01T00:05:00+00:00", "value": None},
    {"sensor": "s2", "ts": "2026-11-01T00:00:00+00:00", "value": "NaN"},
]


def test_publish_work_status_account_for_every_message(
    rabbitmq_vhost: str, rabbitmq_management_url: str, tmp_path: Path
) -> None:
    env = cli_env_for(rabbitmq_vhost, tmp_path, management_url=rabbitmq_management_url)
    tasks = [
        {"task": "load_readings", "args": {"records": RECORDS}, "id": f"b-{i}"} for i in range(30)
    ]
    data = write_tasks(tmp_path / "tasks.jsonl", tasks)
    with data.open("a") as f:
        f.write("\nnot json\n" + json.dumps({"task": "evil", "args": {}}) + "\n")

    pub = run_cli(["publish", str(data)], env, tmp_path)
    assert (pub["records_in"], pub["records_out"], pub["records_rejected"]) == (33, 30, 2)
    assert pub["records_skipped"] == {"blank": 1}
    rejects = [json.loads(x) for x in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [32, 33]

    # The management API refreshes its queue statistics every few seconds.
    def depth() -> int:
        state = run_cli(["status"], env, tmp_path)
        assert state["source"] == "management"
        return int(state["queues"]["tasks.work"]["messages"])

    wait_for(lambda: depth() == 30, 30, "the depth to show 30")
    state = run_cli(["status"], env, tmp_path)
    assert state["queues"]["tasks.work"]["type"] == "quorum"
    assert state["parked"] == 0

    # Publishing the same file again republishes the same ids: the ledger makes it harmless.
    run_cli(["publish", str(data)], env, tmp_path)
    work = run_cli(["work", "--idle-timeout", "1.5", "--concurrency", "3"], env, tmp_path)
    assert work["records_in"] == 60
    assert work["records_out"] == 30 and work["records_skipped"] == {"duplicate": 30}
    s = store(tmp_path)
    # Two valid s1 readings per batch, 30 batches, each applied once (twice would be 120).
    assert s.query("SELECT readings FROM sensor_totals WHERE sensor = 's1'") == [(2 * 30,)]
    assert s.query("SELECT COUNT(*) FROM rejected_readings") == [(30,)]
    wait_for(lambda: depth() == 0, 30, "the depth to show 0")


def cli_env_for(url: str, tmp: Path, **settings: str) -> dict[str, str]:
    from .conftest import cli_env

    return cli_env(url, tmp, **settings)


def test_retry_tiers_then_parking_keep_the_reasons_and_requeue_brings_them_back(
    rabbitmq_vhost: str, tmp_path: Path
) -> None:
    env = cli_env_for(rabbitmq_vhost, tmp_path)
    tasks = [
        {"id": "flaky", "task": "fail", "args": {"times": 2, "error": "upstream 503"}},
        {"id": "broken", "task": "fail", "args": {"times": 99, "error": "upstream 500"}},
    ]
    run_cli(["publish", str(write_tasks(tmp_path / "t.jsonl", tasks))], env, tmp_path)
    work = run_cli(["work", "--idle-timeout", "2"], env, tmp_path)
    # flaky: fails twice (tiers 0, 1), then succeeds; broken: fails 3 times and is parked.
    assert work["records_out"] == 1 and work["records_rejected"] == 1
    assert work["records_skipped"] == {"retried": 4}

    parked = drain_keep(rabbitmq_vhost, "tasks.parked")
    assert [p.message_id for p, _ in parked] == ["broken"]
    headers = parked[0][0].headers
    assert headers["x-last-error"] == "TransientError: upstream 500"
    assert json.loads(headers["x-errors"]) == [
        f"attempt {n}: TransientError: upstream 500" for n in (1, 2, 3)
    ]
    deaths = {d["queue"]: d for d in headers["x-death"]}
    assert set(deaths) == {"tasks.retry.0", "tasks.retry.1"}
    assert all(d["reason"] == "expired" for d in deaths.values())

    moved = run_cli(["requeue-parked"], env, tmp_path)
    assert moved["records_out"] == 1
    assert drain(rabbitmq_vhost, "tasks.parked") == []
    back = drain(rabbitmq_vhost, "tasks.work")
    assert [(p.message_id, p.headers["x-retries"], p.headers["x-requeued"]) for p, _ in back] == [
        ("broken", 0, 1)
    ]
    assert "x-death" in back[0][0].headers


def drain_keep(url: str, queue: str) -> list[tuple[object, bytes]]:
    """Read a queue's messages without removing them (nacked back after reading)."""
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(url))
    channel = conn.channel()
    out = []
    while True:
        method, props, body = channel.basic_get(queue, auto_ack=False)
        if method is None:
            break
        out.append((props, body))
    conn.close()  # unacked: back in the queue
    return out


def test_invalid_and_non_json_messages_are_parked_once_not_looped(
    rabbitmq_vhost: str, tmp_path: Path
) -> None:
    env = cli_env_for(rabbitmq_vhost, tmp_path)
    run_cli(["publish", str(write_tasks(tmp_path / "t.jsonl", []))], env, tmp_path)
    publish_raw(rabbitmq_vhost, "tasks", "work", b"\x00not json", message_id="bin")
    publish_raw(rabbitmq_vhost, "tasks", "work", b'{"task": "sleep", "args": {"seconds": -1}}')
    work = run_cli(["work", "--idle-timeout", "1.5"], env, tmp_path)
    assert work["records_in"] == 2 and work["records_rejected"] == 2
    assert work["redelivered"] == 0
    parked = drain(rabbitmq_vhost, "tasks.parked")
    reasons = sorted(p.headers["x-last-error"] for p, _ in parked)
    assert reasons[0].startswith("not JSON") and "seconds" in reasons[1]
    assert all("x-retries" not in p.headers for p, _ in parked)


def test_amqp_publish_as_a_third_party_publisher(rabbitmq_vhost: str, tmp_path: Path) -> None:
    env = cli_env_for(rabbitmq_vhost, tmp_path)
    run_cli(["publish", str(write_tasks(tmp_path / "t.jsonl", []))], env, tmp_path)
    body = json.dumps({"task": "load_readings", "args": {"records": RECORDS}})
    for _ in range(2):  # the same body twice, without a message id: one effect
        subprocess.run(
            [
                "amqp-publish",
                "-u",
                rabbitmq_vhost,
                "-e",
                "tasks",
                "-r",
                "work",
                "-p",
                "-C",
                "application/json",
                "-b",
                body,
            ],
            check=True,
            timeout=30,
        )
    work = run_cli(["work", "--idle-timeout", "1.5"], env, tmp_path)
    assert (work["records_out"], work["records_skipped"]) == (1, {"duplicate": 1})
    assert store(tmp_path).query("SELECT COUNT(*) FROM readings") == [(2,)]


def test_a_task_longer_than_the_heartbeat_keeps_its_connection(
    rabbitmq_vhost: str, rabbitmq_management_url: str, tmp_path: Path
) -> None:
    env = cli_env_for(rabbitmq_vhost, tmp_path, heartbeat_s="2")
    run_cli(
        [
            "publish",
            str(
                write_tasks(
                    tmp_path / "t.jsonl",
                    [
                        {"id": "long", "task": "sleep", "args": {"seconds": 7}},
                    ],
                )
            ),
        ],
        env,
        tmp_path,
    )
    proc = start_cli(["work", "--idle-timeout", "1"], env, tmp_path)
    vhost = urllib.parse.quote(urllib.parse.unquote(rabbitmq_vhost.rsplit("/", 1)[1]), safe="")
    # The broker itself reports the heartbeat it negotiated with the worker's connection.
    conns = wait_for_connections(rabbitmq_management_url, vhost)
    assert {c["timeout"] for c in conns} == {2}
    code, work = finish(proc, timeout=60)
    assert code == 0
    assert work["records_out"] == 1 and work["reconnects"] == 0 and work["redelivered"] == 0
    assert work["duration_s"] >= 7


def wait_for_connections(api: str, vhost: str) -> list[dict[str, object]]:
    import base64
    import urllib.request

    token = base64.b64encode(b"guest:guest").decode()
    found: list[dict[str, object]] = []

    def check() -> bool:
        req = urllib.request.Request(
            f"{api}/api/vhosts/{vhost}/connections", headers={"Authorization": f"Basic {token}"}
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            found[:] = json.load(resp)
        return bool(found)

    wait_for(check, 30, "the worker's connection")
    return found


def test_sigterm_finishes_running_tasks_and_requeues_the_rest(
    rabbitmq_vhost: str, tmp_path: Path
) -> None:
    env = cli_env_for(rabbitmq_vhost, tmp_path)
    tasks = [{"id": f"s-{i}", "task": "sleep", "args": {"seconds": 2}} for i in range(6)]
    run_cli(["publish", str(write_tasks(tmp_path / "t.jsonl", tasks))], env, tmp_path)
    proc = start_cli(["work", "--concurrency", "2", "--prefetch", "6"], env, tmp_path)
    time.sleep(3.0)  # two tasks running (or done), four waiting for a thread
    proc.send_signal(signal.SIGTERM)
    code, work = finish(proc, timeout=30)
    assert code == 0, work
    done, requeued = work["records_out"], work["records_skipped"].get("requeued", 0)
    assert done >= 2 and done + requeued == work["records_in"] == 6
    # Nothing lost: what was not finished is back in the queue, ready for the next worker.
    assert len(drain(rabbitmq_vhost, "tasks.work")) == 6 - done


def test_rpc_request_and_reply_with_correlation_ids(rabbitmq_vhost: str, tmp_path: Path) -> None:
    env = cli_env_for(rabbitmq_vhost, tmp_path)
    server = start_cli(["rpc-server", "--max-requests", "2", "--idle-timeout", "30"], env, tmp_path)
    wait_for(lambda: queue_exists(rabbitmq_vhost, "tasks.rpc"), 30, "the rpc server's queue")
    first = run_cli(["rpc-call", "1", "2", "3.5"], env, tmp_path)
    second = run_cli(["rpc-call", "10"], env, tmp_path)
    assert first["reply"] == {"count": 3, "sum": 6.5, "mean": 6.5 / 3}
    assert second["reply"]["mean"] == 10.0
    assert first["correlation_id"] != second["correlation_id"]
    code, served = finish(server, timeout=30)
    assert code == 0 and served["records_in"] == 2


def test_unreachable_broker_is_one_line_and_exit_1(tmp_path: Path) -> None:
    env = cli_env_for("amqp://guest:guest@127.0.0.1:1/%2F", tmp_path)
    data = write_tasks(tmp_path / "t.jsonl", [{"task": "noop", "args": {}}])
    for args in (["publish", str(data)], ["work", "--idle-timeout", "1"], ["requeue-parked"]):
        proc = cli(args, env, tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and "rabbitmq unreachable at 127.0.0.1:1" in last


def test_demo_runs_end_to_end(rabbitmq_url: str, tmp_path: Path) -> None:
    env = cli_env_for(rabbitmq_url, tmp_path)
    demo = run_cli(["demo", "--out", str(tmp_path / "demo")], env, tmp_path)
    assert demo["published"] == 202
    assert demo["records_out"] == 201  # 200 batches + the flaky task after one retry
    assert demo["records_rejected"] == 4  # three hostile messages + the task that always fails
    from rabbitmq_worker.store import Store

    db = Store(f"sqlite:///{tmp_path / 'demo' / 'demo.db'}")
    assert db.query("SELECT COUNT(*) FROM processed_messages") == [(200,)]
    assert db.query("SELECT COUNT(*) FROM readings")[0][0] == demo["readings"] > 0


def test_a_missing_rpc_server_is_a_clear_failure(rabbitmq_vhost: str, tmp_path: Path) -> None:
    proc = cli(["rpc-call", "1"], cli_env_for(rabbitmq_vhost, tmp_path), tmp_path)
    assert proc.returncode == 1
    assert "no RPC server queue" in proc.stderr.strip().splitlines()[-1]


def queue_exists(url: str, queue: str) -> bool:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        conn.channel().queue_declare(queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if conn.is_open:
            conn.close()


def test_the_worker_serves_metrics_while_it_runs(rabbitmq_vhost: str, tmp_path: Path) -> None:
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = cli_env_for(rabbitmq_vhost, tmp_path)
    tasks = [{"id": "slow", "task": "sleep", "args": {"seconds": 3}}]
    run_cli(["publish", str(write_tasks(tmp_path / "t.jsonl", tasks))], env, tmp_path)
    proc = start_cli(["work", "--idle-timeout", "1", "--metrics-port", str(port)], env, tmp_path)
    text = ""

    def in_flight() -> bool:
        nonlocal text
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
                text = resp.read().decode()
        except OSError:
            return False
        return "rabbitmq_worker_in_flight 1.0" in text

    wait_for(in_flight, 30, "the in-flight gauge at 1")
    code, work = finish(proc, timeout=60)
    assert code == 0 and work["records_out"] == 1
    assert 'rabbitmq_worker_task_seconds_count{task="sleep"}' not in text  # not finished yet then
