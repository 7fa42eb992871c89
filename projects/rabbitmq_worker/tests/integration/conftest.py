"""Helpers for the integration tests: run the real CLI, read queues and the store back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pika
import pytest
from rabbitmq_worker.store import Store

CLI_TIMEOUT_S = 240


def cli_env(url: str, tmp: Path, **settings: str) -> dict[str, str]:
    """Our settings on top of a clean environment: a broker, a SQLite store, short retry tiers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_WORKER_")}
    env["RABBITMQ_WORKER_URL"] = url
    env["RABBITMQ_WORKER_DATABASE_URL"] = f"sqlite:///{tmp / 'effects.db'}"
    env["RABBITMQ_WORKER_RETRY_DELAYS_MS"] = "[200, 400]"
    env.update({f"RABBITMQ_WORKER_{k.upper()}": v for k, v in settings.items()})
    return env


def cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = CLI_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rabbitmq_worker", *args, "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_cli(args: list[str], env: dict[str, str], cwd: Path, expect: int = 0) -> dict[str, Any]:
    """Run the CLI to the end; its one JSON summary (the exit code checked)."""
    proc = cli(args, env, cwd)
    assert proc.returncode == expect, proc.stdout + proc.stderr[-4000:]
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    return data


def start_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """The CLI in the background (a worker); stdout is its summary, stderr goes to a file."""
    return subprocess.Popen(
        [sys.executable, "-m", "rabbitmq_worker", *args, "--json"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=(cwd / f"stderr-{time.monotonic_ns()}.log").open("w"),
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, dict[str, Any]]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, (json.loads(out) if out.strip() else {})


def store(tmp: Path) -> Store:
    return Store(f"sqlite:///{tmp / 'effects.db'}")


def wait_for(check: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def processed(tmp: Path) -> int:
    """Ledger rows so far (0 before the schema exists)."""
    s = store(tmp)
    try:
        return int(s.query("SELECT COUNT(*) FROM processed_messages")[0][0])
    except Exception:
        return 0
    finally:
        s.close()


def drain(url: str, queue: str) -> list[tuple[Any, bytes]]:
    """Every message in a queue (properties, body), acked."""
    conn = pika.BlockingConnection(pika.URLParameters(url))
    out = []
    channel = conn.channel()
    while True:
        method, props, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        out.append((props, body))
    conn.close()
    return out


def publish_raw(url: str, exchange: str, routing_key: str, body: bytes, **props: Any) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    channel = conn.channel()
    channel.confirm_delivery()
    channel.basic_publish(
        exchange, routing_key, body, pika.BasicProperties(delivery_mode=2, **props), mandatory=True
    )
    conn.close()


def vhost_of(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path[1:])


def write_tasks(path: Path, tasks: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    return path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
