"""A Prometheus of the tests' own (rules under test, 1 s intervals) and the exporter as a process.

The shared Prometheus (`prometheus_url`) loads infra/prometheus/rules only when it starts and scrapes
every 2 s; these tests need the rules as they are now, `for:` shortened to 0 s so an alert fires
within seconds (promtool's unit tests cover the `for:` timing), so they run Debian's `prometheus`
binary on a free port in a temporary folder and stop exactly that process afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
RULES = REPO / "infra" / "prometheus" / "rules"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(url: str, timeout: float = 10) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def wait_until(what: str, probe: Callable[[], Any], timeout: float = 60, every: float = 0.5) -> Any:
    """Poll until probe() is truthy; its last value (or error) in the failure message."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except Exception as exc:
            last = exc
        time.sleep(every)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


@dataclass
class Prometheus:
    """A running Prometheus of our own."""

    url: str
    proc: subprocess.Popen[bytes]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; raises on a query Prometheus rejects."""
        q = urllib.parse.urlencode({"query": expr})
        body = http_json(f"{self.url}/api/v1/query?{q}")
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def wait_value(self, expr: str, expected: float, timeout: float = 60) -> None:
        wait_until(f"{expr} == {expected}", lambda: self.value(expr) == expected, timeout)

    def firing(self) -> list[dict[str, str]]:
        return [
            a["labels"]
            for a in http_json(f"{self.url}/api/v1/alerts")["data"]["alerts"]
            if a["state"] == "firing"
        ]


def rules_for_tests(folder: Path) -> Path:
    """The repository's rule files with every `for:` set to 0s (evaluation itself unchanged)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in RULES.glob("*.yml"):
        doc = yaml.safe_load(path.read_text())
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                if "for" in rule:
                    rule["for"] = "0s"
        (folder / path.name).write_text(yaml.safe_dump(doc))
    return folder


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[[list[str], str | None], Prometheus]]:
    """Factory: start(exporter targets, pushgateway URL) -> our own Prometheus, stopped after."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is missing: apt-get install prometheus")
    started: list[subprocess.Popen[bytes]] = []

    def start(targets: list[str], pushgateway: str | None) -> Prometheus:
        folder = tmp_path / f"prometheus-{len(started)}"
        rules = rules_for_tests(folder / "rules")
        scrape: list[dict[str, Any]] = [
            {"job_name": "exporter", "static_configs": [{"targets": targets}]}
        ]
        if pushgateway:
            host = urllib.parse.urlsplit(pushgateway).netloc
            scrape.append(
                {
                    "job_name": "pushgateway",
                    "honor_labels": True,
                    "static_configs": [{"targets": [host]}],
                }
            )
        config = {
            "global": {
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "evaluation_interval": "1s",
            },
            "rule_files": [str(rules / "*.yml")],
            "scrape_configs": scrape,
        }
        (folder / "prometheus.yml").write_text(json.dumps(config))
        port = free_port()
        log = (folder / "prometheus.log").open("wb")
        proc = subprocess.Popen(
            [binary, f"--config.file={folder / 'prometheus.yml'}", f"--storage.tsdb.path={folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_until(
            "prometheus ready",
            lambda: urllib.request.urlopen(f"{url}/-/ready", timeout=2).status == 200,
        )
        return Prometheus(url, proc)

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=30)


@dataclass
class Exporter:
    """`monitoring serve` running as a user runs it."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://{self.target}/metrics", timeout=10) as resp:
            return str(resp.read().decode())

    def log_lines(self) -> list[dict[str, Any]]:
        return [
            json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")
        ]


@pytest.fixture
def exporter(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], Exporter]]:
    """Factory: serve(checks file as a dict) -> the exporter, rounds every second; stopped after."""
    started: list[subprocess.Popen[bytes]] = []

    def serve(checks: dict[str, Any]) -> Exporter:
        n = len(started)
        path = tmp_path / f"checks-{n}.yml"
        path.write_text(yaml.safe_dump(checks))
        port = free_port()
        log = tmp_path / f"exporter-{n}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitoring", "--log-format", "json", "serve", "--checks", str(path),
             "--port", str(port), "--interval-s", "1"],
            stdout=subprocess.DEVNULL, stderr=log.open("wb"), cwd=tmp_path, env=os.environ.copy(),
        )  # fmt: skip
        started.append(proc)
        found = Exporter(port, proc, log)
        wait_until("exporter /metrics", lambda: "pipeline_check_up" in found.metrics(), timeout=30)
        return found

    yield serve
    for proc in started:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, "the exporter did not stop cleanly on SIGTERM"


def labels_match(labels: dict[str, str], **want: str) -> bool:
    return all(labels.get(k) == v for k, v in want.items())


def vhost_of(amqp_url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(amqp_url).path.lstrip("/"))


def rabbit_publish(management_url: str, vhost: str, queue: str, count: int) -> None:
    """Declare a queue and publish `count` messages to it through the management API."""
    import base64

    auth = base64.b64encode(b"guest:guest").decode()
    v = urllib.parse.quote(vhost, safe="")

    def call(method: str, path: str, body: dict[str, Any]) -> None:
        req = urllib.request.Request(
            management_url.rstrip("/") + path, data=json.dumps(body).encode(), method=method,
            headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(req, timeout=10):
            pass

    call("PUT", f"/api/queues/{v}/{urllib.parse.quote(queue, safe='')}", {"durable": True})
    for i in range(count):
        body = {
            "properties": {},
            "routing_key": queue,
            "payload": f"m{i}",
            "payload_encoding": "string",
        }
        call("POST", f"/api/exchanges/{v}/amq.default/publish", body)


def metric_names(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M)}
