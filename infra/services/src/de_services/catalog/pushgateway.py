"""Prometheus Pushgateway from Debian's `prometheus-pushgateway`, persistence in the state folder."""

from __future__ import annotations

from de_services.probes import executable, http_ready, http_url, needs
from de_services.runtime import Runtime
from de_services.service import DockerSpec, Service


def _binary() -> str:
    return executable(
        "pushgateway",
        "prometheus-pushgateway",
        "pushgateway",
        install="apt-get install prometheus-pushgateway",
    )


def _start(rt: Runtime) -> None:
    rt.data_dir.mkdir(parents=True, exist_ok=True)
    rt.spawn(
        [
            _binary(),
            f"--web.listen-address=127.0.0.1:{rt.port()}",
            f"--persistence.file={rt.data_dir / 'pushgateway.data'}",
            "--persistence.interval=30s",
            # Lets tests wipe what they pushed (PUT /api/v1/admin/wipe).
            "--web.enable-admin-api",
        ],
        cwd=rt.state_dir,
    )


SERVICE = Service(
    name="pushgateway",
    env_var="DE_PUSHGATEWAY_URL",
    ports={"port": 29091},
    url=http_url,
    start=_start,
    ready=http_ready("/-/ready"),
    missing=needs(_binary),
    startup_timeout=30.0,
    docker=DockerSpec(
        image="prom/pushgateway:v1.11.0",
        port=9091,
        url="http://{host}:{port}",
        wait_log="Listening on",
    ),
)
