"""Every local service, in start order. A service module adds itself with one line in MODULES."""

from __future__ import annotations

import importlib

from de_services.service import Service, ServiceError

# One line per service module (de_services.catalog.<module> defining SERVICE). Start order = this order,
# after each service's `requires`. A module that does not exist yet is skipped.
MODULES: list[str] = [
    "postgres",
    "rabbitmq",
    "moto",
    "pushgateway",
    "prometheus",
    "kafka",
    "hdfs",
    "hive",
]


def _load() -> dict[str, Service]:
    found: dict[str, Service] = {}
    for module_name in MODULES:
        qualified = f"de_services.catalog.{module_name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name == qualified:
                continue
            raise
        service = getattr(module, "SERVICE", None)
        if isinstance(service, Service):
            found[service.name] = service
    return found


_SERVICES: dict[str, Service] | None = None


def services() -> dict[str, Service]:
    """Name -> Service for every registered service, in start order."""
    global _SERVICES
    if _SERVICES is None:
        _SERVICES = _load()
    return _SERVICES


def get(name: str) -> Service:
    """One service by name; an unknown name is a ServiceError listing the known ones."""
    known = services()
    if name not in known:
        raise ServiceError(f"unknown service {name!r}; have: {', '.join(known)}")
    return known[name]


def with_requirements(names: list[str]) -> list[Service]:
    """The named services plus what they require, each after its requirements."""
    ordered: list[Service] = []

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in chain:
            raise ServiceError(f"service requirement cycle: {' -> '.join((*chain, name))}")
        service = get(name)
        for required in service.requires:
            visit(required, (*chain, name))
        if service not in ordered:
            ordered.append(service)

    for name in names:
        visit(name, ())
    return ordered
