"""Prometheus Pushgateway from Debian's `prometheus-pushgateway`, persistence in the state folder."""

from __future__ import annotations

from de_common.services.base import DockerSpec, NotInstalled, Runtime, Service, http_ok, which


def _binary() -> str:
    path = which("prometheus-pushgateway") or which("pushgateway")
    if path is None:
        raise NotInstalled("pushgateway: apt-get install prometheus-pushgateway")
    return path


def _missing(rt: Runtime) -> str | None:
    try:
        _binary()
    except NotInstalled as exc:
        return str(exc)
    return None


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


def _ready(rt: Runtime) -> bool:
    return http_ok(f"http://127.0.0.1:{rt.port()}/-/ready")


def _url(rt: Runtime) -> str:
    return f"http://127.0.0.1:{rt.port()}"


SERVICE = Service(
    name="pushgateway",
    env_var="DE_PUSHGATEWAY_URL",
    ports={"port": 29091},
    url=_url,
    start=_start,
    ready=_ready,
    missing=_missing,
    startup_timeout=30.0,
    docker=DockerSpec(
        image="prom/pushgateway:v1.11.0",
        port=9091,
        url="http://{host}:{port}",
        wait_log="Listening on",
    ),
)
