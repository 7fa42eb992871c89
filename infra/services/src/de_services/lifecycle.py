"""Start, stop and report a service: `up()`, `down()`, `status()`.

`up()` locks the service, reuses a running instance, refuses a port held by something else,
provisions, starts, waits for readiness with a timeout (the log tail on failure) and records the
pids and the listeners on the service's ports; `down()` stops gracefully, then TERM/KILL of exactly
the recorded pids, and waits until no recorded process and no listening port remain.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from de_services.processes import (
    describe,
    listeners,
    log_tail,
    pid_alive,
    port_listening,
    port_open,
    terminate,
)
from de_services.records import read_record, record_path, recorded_pids, write_record
from de_services.runtime import Runtime, port_env_var, runtime
from de_services.service import NotInstalled, PortInUse, Service, ServiceError


@contextlib.contextmanager
def _locked(rt: Runtime) -> Iterator[None]:
    """Serialise up/down of one service across processes (parallel pytest sessions)."""
    rt.state_dir.mkdir(parents=True, exist_ok=True)
    with (rt.state_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Status:
    """What `status` reports for one service."""

    name: str
    running: bool
    ready: bool
    url: str
    pids: tuple[int, ...]
    ports: Mapping[str, int]
    startup_s: float | None = None


def status(service: Service) -> Status:
    """Whether the launcher's instance of a service runs and answers."""
    rt = runtime(service)
    record = read_record(rt)
    alive = tuple(p for p in recorded_pids(record) if pid_alive(p))
    running = bool(alive)
    ready = running and _safe_ready(rt)
    took = record.get("startup_s")
    startup = float(took) if isinstance(took, int | float) else None
    return Status(service.name, running, ready, service.url(rt), alive, rt.ports, startup)


def _safe_ready(rt: Runtime) -> bool:
    try:
        return rt.service.ready(rt)
    except Exception:
        return False


def up(service: Service, timeout: float | None = None) -> str:
    """Start a service (or reuse the running instance) and return its URL once it is ready."""
    rt = runtime(service)
    with _locked(rt):
        record = read_record(rt)
        alive = [p for p in recorded_pids(record) if pid_alive(p)]
        if alive:
            if _wait_ready(rt, timeout or service.startup_timeout, alive):
                return service.url(rt)
            raise ServiceError(
                f"{service.name}: running (pids {alive}) but not ready; "
                f"`down {service.name}` then retry; log {rt.log_file}:\n{log_tail(rt.log_file)}"
            )
        if service.missing is not None:
            reason = service.missing(rt)
            if reason:
                raise NotInstalled(f"{service.name}: {reason}")
        for port_name, port in rt.ports.items():
            if port_listening(port):
                holders = ", ".join(describe(p) for p in listeners(port)) or "unknown process"
                raise PortInUse(
                    f"{service.name}: port {port} ({port_env_var(service.name, port_name)}) is "
                    f"already in use by {holders}; stop it or choose another port"
                )
        if service.provision is not None:
            service.provision(rt)
        rt.state_dir.mkdir(parents=True, exist_ok=True)
        with rt.log_file.open("a") as log:
            log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {service.name}\n")
        started = time.monotonic()
        try:
            service.start(rt)
            write_record(rt, started)
            ok = _wait_ready(rt, timeout or service.startup_timeout, rt.pids)
        except ServiceError:
            write_record(rt, started)
            _stop(rt)
            raise
        if not ok:
            _stop(rt)
            raise ServiceError(
                f"{service.name}: not ready within {timeout or service.startup_timeout:.0f}s; "
                f"log {rt.log_file}:\n{log_tail(rt.log_file)}"
            )
        write_record(rt, started)
        return service.url(rt)


def _wait_ready(rt: Runtime, timeout: float, watched: Sequence[int]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _safe_ready(rt):
            return True
        if watched and not any(pid_alive(p) for p in watched):
            raise ServiceError(
                f"{rt.service.name}: exited during startup; log {rt.log_file}:\n{log_tail(rt.log_file)}"
            )
        time.sleep(0.2)
    return False


def down(service: Service) -> bool:
    """Stop exactly what `up` started; True if something was running."""
    rt = runtime(service)
    with _locked(rt):
        record = read_record(rt)
        rt.pids[:] = recorded_pids(record)
        if not rt.pids:
            return False
        _stop(rt)
        return True


def _stop(rt: Runtime) -> None:
    was_alive = [p for p in rt.pids if pid_alive(p)]
    if was_alive and rt.service.stop is not None:
        with contextlib.suppress(ServiceError):
            rt.service.stop(rt)
    terminate(rt.pids)
    deadline = time.monotonic() + 15
    busy = [p for p in rt.ports.values() if _listened_by(p, was_alive)]
    while busy and time.monotonic() < deadline:
        time.sleep(0.1)
        busy = [p for p in busy if _listened_by(p, was_alive)]
    with contextlib.suppress(OSError):
        record_path(rt).unlink()
    if busy:
        raise ServiceError(f"{rt.service.name}: ports {busy} still listening after stop")


def _listened_by(port: int, pids: Sequence[int]) -> bool:
    """A port still held by one of our processes (a foreign listener is not ours to wait for)."""
    holders = listeners(port)
    return any(p in pids for p in holders) or (not holders and port_open(port))
