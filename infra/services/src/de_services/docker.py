"""The Docker fallback: run a service's image through testcontainers when a Docker engine answers.

Containers live until the Python process ends (testcontainers' reaper removes them); one per service.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from typing import Any

from de_services.service import NotInstalled, Service, ServiceError

_RUNNING: dict[str, tuple[Any, str]] = {}


def engine_answers() -> bool:
    """True if `docker info` reaches an engine within a few seconds."""
    if shutil.which("docker") is None:
        return False
    try:
        proc = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def start(service: Service) -> str:
    """Start (once per process) the service's container and return its URL."""
    if service.name in _RUNNING:
        return _RUNNING[service.name][1]
    spec = service.docker
    if spec is None:
        raise NotInstalled(f"{service.name}: no Docker image defined")
    if not engine_answers():
        raise NotInstalled("no Docker engine answers")
    try:
        containers = importlib.import_module("testcontainers.core.container")
        waiting = importlib.import_module("testcontainers.core.waiting_utils")
    except ImportError as exc:
        raise NotInstalled("testcontainers is not installed (pip install testcontainers)") from exc
    container = containers.DockerContainer(spec.image).with_exposed_ports(spec.port)
    for key, value in spec.env.items():
        container = container.with_env(key, value)
    if spec.command:
        container = container.with_command(spec.command)
    try:
        container.start()
        if spec.wait_log:
            waiting.wait_for_logs(container, spec.wait_log, timeout=120)
        host = container.get_container_host_ip()
        port = container.get_exposed_port(spec.port)
    except Exception as exc:
        raise ServiceError(f"{service.name}: container {spec.image} failed: {exc}") from exc
    url = spec.url.format(host=host, port=port)
    _RUNNING[service.name] = (container, url)
    return url
