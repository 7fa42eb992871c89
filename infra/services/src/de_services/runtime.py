"""Where a service lives: its ports (from the environment), state and cache folders, process helpers.

`spawn()` and `run()` log to the service's own log file and record the pids `down()` must stop.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from de_services.service import NotInstalled, Service, ServiceError

# Files the launcher ships with its code: the Maven pom (Kafka, HDFS jars) and the HDFS launcher.
ASSETS = Path(__file__).parent / "assets"


def state_root() -> Path:
    """Where every service keeps data, logs and pid records."""
    env = os.environ.get("DE_STATE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "de-showcase" / "state"


def cache_root() -> Path:
    """Where downloaded jars and tool venvs live (shared by every state folder)."""
    env = os.environ.get("DE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "de-showcase"


def infra_dir() -> Path | None:
    """The repository's infra/ folder (alert rules, dashboards): $DE_INFRA_DIR, else found walking
    up from cwd or from here; None for a launcher installed outside a checkout."""
    env = os.environ.get("DE_INFRA_DIR")
    if env:
        return Path(env)
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            candidate = folder / "infra"
            if (candidate / "prometheus").is_dir():
                return candidate
    return None


def port_env_var(service: str, port_name: str) -> str:
    """The env var overriding one port: DE_<SERVICE>_<PORTNAME>."""
    return f"DE_{service.upper()}_{port_name.upper()}"


@dataclass
class Runtime:
    """What a service's callables get: resolved ports, folders and process helpers."""

    service: Service
    state_dir: Path
    cache_dir: Path
    infra_dir: Path | None
    ports: dict[str, int]
    pids: list[int] = field(default_factory=list)

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"{self.service.name}.log"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    def port(self, name: str = "port") -> int:
        return self.ports[name]

    def spawn(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start a long-running process in its own session, output to the log; its pid is recorded."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env} if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        self.pids.append(proc.pid)
        return proc

    def run(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 120.0,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run a short command to completion; output is appended to the log; failure -> ServiceError."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            proc = subprocess.run(
                list(argv),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                env={**os.environ, **env} if env is not None else None,
                cwd=cwd,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise NotInstalled(f"{self.service.name}: {argv[0]} not found") from exc
        except subprocess.TimeoutExpired as exc:
            raise ServiceError(
                f"{self.service.name}: {' '.join(argv[:2])} timed out after {timeout:.0f}s"
            ) from exc
        with self.log_file.open("a") as log:
            log.write(f"$ {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit {proc.returncode}"
            raise ServiceError(f"{self.service.name}: {' '.join(argv[:2])} failed: {last}")
        return proc


def _int_env(var: str, default: int) -> int:
    raw = os.environ.get(var, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ServiceError(f"{var}={raw!r} is not a number") from exc


def runtime(service: Service) -> Runtime:
    """The Runtime for a service, ports resolved from the environment."""
    ports: dict[str, int] = {}
    offset = _int_env("DE_PORT_OFFSET", 0)
    for port_name, default in service.ports.items():
        ports[port_name] = _int_env(port_env_var(service.name, port_name), default + offset)
    return Runtime(
        service=service,
        state_dir=state_root() / service.name,
        cache_dir=cache_root(),
        infra_dir=infra_dir(),
        ports=ports,
    )
