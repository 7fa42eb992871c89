"""S3 and Kinesis: one `moto_server` (a real HTTP server for the AWS APIs) from a tool venv."""

from __future__ import annotations

from de_services.jvm import tool_venv
from de_services.probes import http_ready, http_url
from de_services.runtime import Runtime
from de_services.service import DockerSpec, Service

VENV = "moto"


def _provision(rt: Runtime) -> None:
    tool_venv(rt, VENV)


def _start(rt: Runtime) -> None:
    folder = tool_venv(rt, VENV)
    rt.spawn(
        [str(folder / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(rt.port())],
        cwd=rt.state_dir,
    )


SERVICE = Service(
    name="moto",
    env_var="DE_S3_ENDPOINT",
    ports={"port": 25000},
    url=http_url,
    start=_start,
    # The dashboard page, not /moto-api/data.json: that one serialises every model instance ever
    # created (36 MB, 2 s on a used server) and answers 500 once per key of a deleted bucket.
    ready=http_ready("/moto-api/"),
    provision=_provision,
    startup_timeout=60.0,
    docker=DockerSpec(
        image="motoserver/moto:latest",
        port=5000,
        url="http://{host}:{port}",
        wait_log="Running on",
    ),
)
