"""The local services: start them natively, find them by env URL, or fall back to Docker.

`resolve(name)` is the one way every fixture and tool finds a service:
1. the URL in its env var (`DE_POSTGRES_URL`, ...), used as given;
2. else the native instance (started now if needed and left running for reuse);
3. else a Docker container through testcontainers, when a Docker engine answers;
4. else `ServiceUnavailable` naming every reason.
"""

from __future__ import annotations

import os

from de_services.lifecycle import down, status, up
from de_services.registry import get, services
from de_services.runtime import Runtime, state_root
from de_services.service import (
    DockerSpec,
    NotInstalled,
    PortInUse,
    Service,
    ServiceError,
    ServiceUnavailable,
)

__all__ = [
    "DockerSpec",
    "NotInstalled",
    "PortInUse",
    "Runtime",
    "Service",
    "ServiceError",
    "ServiceUnavailable",
    "down",
    "get",
    "resolve",
    "services",
    "state_root",
    "status",
    "up",
]


def resolve(name: str, *, native: bool = True, docker: bool = True) -> str:
    """The service's URL: env var -> native start -> Docker -> ServiceUnavailable."""
    try:
        service = get(name)
    except ServiceError as exc:
        raise ServiceUnavailable(name, "?", str(exc)) from exc
    from_env = os.environ.get(service.env_var)
    if from_env:
        return from_env
    reasons: list[str] = []
    if native:
        try:
            return up(service)
        except ServiceError as exc:
            reasons.append(f"native: {exc}")
    if docker and service.docker is not None:
        from de_services import docker as docker_fallback

        try:
            return docker_fallback.start(service)
        except ServiceError as exc:
            reasons.append(f"docker: {exc}")
    if not reasons:
        reasons.append("no way to start it enabled")
    raise ServiceUnavailable(name, f"${service.env_var} unset", "; ".join(reasons))
