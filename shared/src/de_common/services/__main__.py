"""`python -m de_common.services up|down|status|provision|env [name...]` and service-specific verbs."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

from de_common.services import base, registry

USAGE = """usage: python -m de_common.services COMMAND [name...]

commands:
  up [name...]         start services (all when none named) and wait until ready; reuses running ones
  down [name...]       stop what `up` started (all when none named); no process, no port left
  status [name...]     running / ready / url per service (--json for one JSON object)
  provision [name...]  one-time setup (jars, tool venvs) without starting
  env [name...]        `export DE_..._URL=...` lines for running services
  measure [name...]    fresh start of each on ports +DE_PORT_OFFSET (1000), a table of start time
                       and memory, then stop them (leaves the dev instances alone)
{extra}
services: {names}
env: DE_STATE_DIR, DE_CACHE_DIR, DE_INFRA_DIR, DE_PORT_OFFSET (added to every default port),
     DE_<SERVICE>_<PORT> (one port, e.g. DE_POSTGRES_PORT, DE_RABBITMQ_AMQP_PORT)"""


def _usage() -> str:
    extra = []
    for service in registry.services().values():
        for verb in service.commands:
            extra.append(f"  {verb} ...  ({service.name})")
    return USAGE.format(extra="\n".join(extra), names=" ".join(registry.services()))


def _named(args: Sequence[str]) -> list[str]:
    return [a for a in args if not a.startswith("-")] or list(registry.services())


def cmd_up(args: Sequence[str]) -> int:
    for service in registry.with_requirements(_named(args)):
        started = time.monotonic()
        url = base.up(service)
        took = time.monotonic() - started
        print(f"{service.name:<12} up     {url}  ({took:.1f}s)", file=sys.stderr)
    return 0


def cmd_down(args: Sequence[str]) -> int:
    failed = []
    for name in reversed(_named(args)):
        try:
            stopped = base.down(registry.get(name))
        except base.ServiceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        print(f"{name:<12} {'stopped' if stopped else 'not running'}", file=sys.stderr)
    return 1 if failed else 0


def cmd_status(args: Sequence[str]) -> int:
    report = {}
    for name in _named(args):
        st = base.status(registry.get(name))
        report[name] = {
            "running": st.running,
            "ready": st.ready,
            "url": st.url,
            "pids": st.pids,
            "startup_s": st.startup_s,
            "memory_mb": base.memory_mb(st.pids) if st.running else 0.0,
        }
        if "--json" not in args:
            state = "ready" if st.ready else ("running" if st.running else "down")
            print(f"{name:<12} {state:<8} {st.url}")
    if "--json" in args:
        print(json.dumps(report))
    return 0


def cmd_provision(args: Sequence[str]) -> int:
    for service in registry.with_requirements(_named(args)):
        if service.provision is not None:
            service.provision(base.runtime(service))
        print(f"{service.name:<12} provisioned", file=sys.stderr)
    return 0


def cmd_env(args: Sequence[str]) -> int:
    for name in _named(args):
        service = registry.get(name)
        st = base.status(service)
        if st.ready:
            print(f"export {service.env_var}={st.url}")
    return 0


def cmd_measure(args: Sequence[str]) -> int:
    """Start the services from a fresh state folder on shifted ports; time each, then measure memory.

    Runs beside the dev instances (DE_PORT_OFFSET defaults to 1000 here) and stops what it started.
    """
    services = registry.with_requirements(_named(args))
    os.environ.setdefault("DE_PORT_OFFSET", "1000")
    with tempfile.TemporaryDirectory(prefix="de-measure-") as state:
        os.environ["DE_STATE_DIR"] = state
        rows: list[tuple[str, str, float]] = []
        started = time.monotonic()
        try:
            for service in services:
                began = time.monotonic()
                base.up(service)
                rows.append((service.name, _ports(service), time.monotonic() - began))
                print(f"{service.name:<12} up in {rows[-1][2]:.1f}s", file=sys.stderr)
            total = time.monotonic() - started
            time.sleep(5)  # let JVM heaps and caches settle before reading memory
            print("| service | ports | start (s) | memory PSS (MB) |")
            print("|---|---|---:|---:|")
            mem_total = 0.0
            for (name, ports, took), service in zip(rows, services, strict=True):
                mem = base.memory_mb(base.status(service).pids)
                mem_total += mem
                print(f"| {name} | {ports} | {took:.1f} | {mem:.0f} |")
            print(f"| **all, one after another** | | **{total:.1f}** | **{mem_total:.0f}** |")
        finally:
            for service in reversed(services):
                try:
                    base.down(service)
                except base.ServiceError as exc:
                    print(f"error: {exc}", file=sys.stderr)
            if "postgres" in registry.services():
                from de_common.services import postgres

                shutil.rmtree(postgres.pg_home(base.runtime(postgres.SERVICE)), ignore_errors=True)
    return 0


def _ports(service: base.Service) -> str:
    offset = int(os.environ.get("DE_PORT_OFFSET", "0") or 0)
    return " ".join(f"{name}={port}" for name, port in service.ports.items()) + (
        f" (+{offset} while measuring)" if offset else ""
    )


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "up": cmd_up,
    "down": cmd_down,
    "status": cmd_status,
    "provision": cmd_provision,
    "env": cmd_env,
    "measure": cmd_measure,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        extra = {verb: fn for s in registry.services().values() for verb, fn in s.commands.items()}
        if not args or args[0] in ("-h", "--help", "help"):
            print(_usage())
            return 0 if args else 2
        command = COMMANDS.get(args[0]) or extra.get(args[0])
        if command is None:
            print(f"error: unknown command {args[0]!r}\n{_usage()}", file=sys.stderr)
            return 2
        if args[0] in COMMANDS:
            unknown = [a for a in _named(args[1:]) if a not in registry.services()]
            if unknown:
                have = ", ".join(registry.services())
                print(f"error: unknown service {unknown[0]!r}; have: {have}", file=sys.stderr)
                return 2
        return command(args[1:])
    except base.ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
