"""What a local service is: its description (one `SERVICE` constant per catalog module) and errors.

A catalog module (catalog/postgres.py, catalog/kafka.py, ...) defines ONE module-level constant::

    SERVICE = Service(
        name="postgres",                       # CLI name, state folder name
        env_var="DE_POSTGRES_URL",             # an external server's URL; wins over a native start
        ports={"port": 25432},                 # each overridable by DE_<NAME>_<PORTNAME>, e.g. DE_POSTGRES_PORT
        url=lambda rt: f"postgresql://postgres@127.0.0.1:{rt.port()}/postgres",
        start=_start,                          # launch it (rt.spawn / rt.run), do not wait for readiness
        ready=_ready,                          # True once clients can use it (polled by up())
        stop=_stop,                            # optional graceful stop; TERM/KILL of recorded pids follows
        provision=_provision,                  # optional one-time setup (jars, tool venv), idempotent
        missing=_missing,                      # optional: why it cannot start natively here, or None
        startup_timeout=30.0,
        requires=(),                           # names of services that must be up first
        commands={"kafka-tool": _tool},        # optional extra CLI verbs: fn(args) -> exit code
        docker=DockerSpec(...),                # optional: how the testcontainers fallback runs it
    )

Every callable receives a `Runtime` (runtime.py): resolved ports, folders and process helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from de_services.runtime import Runtime


HOST = "127.0.0.1"


class ServiceError(Exception):
    """A local service could not be provisioned, started or stopped; the message is one line."""


class ServiceUnavailable(ServiceError):
    """No way to reach a service (env var, native start, Docker): names the service and every reason."""

    def __init__(self, service: str, address: str, reason: str = "") -> None:
        self.service = service
        self.address = address
        detail = f": {reason}" if reason else ""
        super().__init__(f"{service} unreachable at {address}{detail}")


class PortInUse(ServiceError):
    """A port the service needs is held by a process the launcher did not start."""


class NotInstalled(ServiceError):
    """The binaries or jars the native start needs are not on this machine."""


@dataclass(frozen=True)
class DockerSpec:
    """How the testcontainers fallback runs a service: `url` formats with {host} and {port}."""

    image: str
    port: int
    url: str
    env: Mapping[str, str] = field(default_factory=dict)
    command: str | None = None
    wait_log: str | None = None


@dataclass(frozen=True)
class Service:
    """One local service: what it is called, where it listens and how to start, probe and stop it."""

    name: str
    env_var: str
    ports: Mapping[str, int]
    url: Callable[[Runtime], str]
    start: Callable[[Runtime], None]
    ready: Callable[[Runtime], bool]
    stop: Callable[[Runtime], None] | None = None
    provision: Callable[[Runtime], None] | None = None
    missing: Callable[[Runtime], str | None] | None = None
    startup_timeout: float = 60.0
    requires: tuple[str, ...] = ()
    commands: Mapping[str, Callable[[Sequence[str]], int]] = field(default_factory=dict)
    docker: DockerSpec | None = None
