"""infra/compose.yaml and the Prometheus/Grafana assets: valid for their own tools, same ports as
the native launcher. (No Docker engine runs here, so the containers themselves are not started.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from de_services import registry, runtime
from de_services.testing import service_missing

pytestmark = pytest.mark.integration

INFRA = Path(__file__).resolve().parents[3]
COMPOSE = INFRA / "compose.yaml"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        service_missing(f"{name} not installed (apt-get install {name})")
    return path


def _compose_config() -> str:
    proc = subprocess.run(
        [_tool("docker-compose"), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_docker_compose_accepts_the_file() -> None:
    proc = subprocess.run(
        [_tool("docker-compose"), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_every_service_has_a_healthcheck() -> None:
    rendered = _compose_config()
    services = ("\n" + rendered).split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    blocks = [b for b in re.split(r"\n  (?=\S)", "\n" + services) if b.strip()]
    names = [b.split(":", 1)[0] for b in blocks]
    assert set(names) >= {
        "postgres",
        "rabbitmq",
        "kafka",
        "namenode",
        "datanode",
        "hive",
        "minio",
        "prometheus",
        "pushgateway",
        "grafana",
    }
    for block in blocks:
        assert "healthcheck:" in block, block.split(":", 1)[0]


# The native services' client-facing ports, which compose publishes on the same host ports.
CLIENT_PORTS = {
    "postgres": ("port",),
    "rabbitmq": ("amqp_port",),
    "kafka": ("port",),
    "moto": ("port",),
    "prometheus": ("port",),
    "pushgateway": ("port",),
    "hdfs": ("http", "rpc", "datanode_http"),
    "hive": ("port",),
}


def test_compose_publishes_the_native_ports_on_loopback_only() -> None:
    rendered = _compose_config()
    known = registry.services()
    published = set(re.findall(r"127\.0\.0\.1:(\d+):\d+", rendered))
    for name, port_names in CLIENT_PORTS.items():
        for port_name in port_names:
            assert str(known[name].ports[port_name]) in published, (name, port_name)
    ports_lines = re.findall(r"^    - (.+:\d+/tcp)$", rendered, flags=re.MULTILINE)
    assert ports_lines and all(p.startswith("127.0.0.1:") for p in ports_lines), ports_lines


def test_prometheus_config_and_rules_are_valid() -> None:
    promtool = _tool("promtool")
    config = subprocess.run(
        [
            promtool,
            "check",
            "config",
            "--syntax-only",
            str(INFRA / "prometheus" / "prometheus.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert config.returncode == 0, config.stdout + config.stderr
    rules = sorted((INFRA / "prometheus" / "rules").glob("*.yml"))
    assert rules
    checked = subprocess.run(
        [promtool, "check", "rules", *map(str, rules)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_native_prometheus_config_is_valid(tmp_path: Path) -> None:
    from de_services.catalog import prometheus

    rt = runtime.runtime(registry.get("prometheus"))
    path = tmp_path / "prometheus.yml"
    path.write_text(json.dumps(prometheus.config(rt)))
    proc = subprocess.run(
        [_tool("promtool"), "check", "config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout + proc.stderr


def test_grafana_dashboards_use_the_provisioned_datasource() -> None:
    datasource = (INFRA / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    assert "uid: prometheus" in datasource and "url: http://prometheus:9090" in datasource
    dashboards = sorted((INFRA / "grafana" / "dashboards").glob("*.json"))
    assert dashboards
    for path in dashboards:
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"] and dashboard["panels"]
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] == "prometheus"
            assert all(t["expr"] for t in panel["targets"])
