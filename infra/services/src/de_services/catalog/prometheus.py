"""Prometheus from Debian's `prometheus` with a generated config and file-based scrape targets.

The config scrapes Prometheus itself, the Pushgateway (honor_labels, so pushed job/instance labels
survive) and every target registered with `register_target()` /
`python -m de_services register-target JOB HOST:PORT [label=value...]`: one JSON file per job
under `<state>/prometheus/targets/`, picked up within `SD_REFRESH` seconds without a restart. Alert
rules: every `infra/prometheus/rules/*.yml`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from de_services.catalog import pushgateway
from de_services.probes import executable, http_ready, http_url, needs
from de_services.runtime import Runtime, runtime, state_root
from de_services.service import DockerSpec, Service, ServiceError

SCRAPE_INTERVAL = "2s"
SD_REFRESH = "2s"


def _binary() -> str:
    return executable("prometheus", "prometheus", install="apt-get install prometheus")


def targets_dir() -> Path:
    """Where registered scrape targets live (one <job>.json each)."""
    return state_root() / "prometheus" / "targets"


def config(rt: Runtime) -> dict[str, object]:
    """The generated prometheus.yml (JSON is valid YAML)."""
    gateway = runtime(pushgateway.SERVICE).port()
    rules = []
    if rt.infra_dir is not None:
        rules.append(str(rt.infra_dir / "prometheus" / "rules" / "*.yml"))
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": rules,
        "scrape_configs": [
            {
                "job_name": "prometheus",
                "static_configs": [{"targets": [f"127.0.0.1:{rt.port()}"]}],
            },
            {
                "job_name": "pushgateway",
                "honor_labels": True,
                "static_configs": [{"targets": [f"127.0.0.1:{gateway}"]}],
            },
            {
                "job_name": "registered",
                "file_sd_configs": [
                    {"files": [str(targets_dir() / "*.json")], "refresh_interval": SD_REFRESH}
                ],
            },
        ],
    }


def _start(rt: Runtime) -> None:
    rt.data_dir.mkdir(parents=True, exist_ok=True)
    targets_dir().mkdir(parents=True, exist_ok=True)
    config_file = rt.state_dir / "prometheus.yml"
    config_file.write_text(json.dumps(config(rt), indent=2) + "\n")
    rt.spawn(
        [
            _binary(),
            f"--config.file={config_file}",
            f"--storage.tsdb.path={rt.data_dir}",
            "--storage.tsdb.retention.time=2d",
            f"--web.listen-address=127.0.0.1:{rt.port()}",
            "--web.enable-lifecycle",
            "--web.enable-admin-api",
        ],
        cwd=rt.state_dir,
    )


def register_target(
    job: str, targets: Sequence[str], labels: Mapping[str, str] | None = None
) -> Path:
    """Make Prometheus scrape `targets` (host:port) under `job`; effective within SD_REFRESH."""
    if not job or "/" in job or job.startswith("."):
        raise ServiceError(f"invalid job name {job!r}")
    folder = targets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{job}.json"
    entry = {"targets": list(targets), "labels": {"job": job, **(labels or {})}}
    # Write then rename, so Prometheus never reads half a file.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([entry], indent=2) + "\n")
    os.replace(tmp, path)
    return path


def unregister_target(job: str) -> bool:
    """Stop scraping `job`; True if it was registered."""
    path = targets_dir() / f"{job}.json"
    if path.exists():
        path.unlink()
        return True
    return False


def _cmd_register(args: Sequence[str]) -> int:
    if len(args) < 2:
        print(
            "usage: python -m de_services register-target JOB HOST:PORT[,HOST:PORT] "
            "[label=value...]",
            file=sys.stderr,
        )
        return 2
    job, targets, *pairs = args
    labels = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    path = register_target(job, targets.split(","), labels)
    print(f"registered {job} -> {targets} ({path})", file=sys.stderr)
    return 0


def _cmd_unregister(args: Sequence[str]) -> int:
    if len(args) != 1:
        print("usage: python -m de_services unregister-target JOB", file=sys.stderr)
        return 2
    found = unregister_target(args[0])
    print(f"{args[0]}: {'unregistered' if found else 'was not registered'}", file=sys.stderr)
    return 0


SERVICE = Service(
    name="prometheus",
    env_var="DE_PROMETHEUS_URL",
    ports={"port": 29090},
    url=http_url,
    start=_start,
    ready=http_ready("/-/ready"),
    missing=needs(_binary),
    startup_timeout=60.0,
    commands={"register-target": _cmd_register, "unregister-target": _cmd_unregister},
    docker=DockerSpec(
        image="prom/prometheus:v2.55.1",
        port=9090,
        url="http://{host}:{port}",
        wait_log="Server is ready to receive web requests",
    ),
)
