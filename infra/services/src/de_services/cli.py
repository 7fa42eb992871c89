"""`de-services up|down|status|provision|env|measure [name...]` plus each service's own verbs."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from de_services import lifecycle, processes, registry, runtime
from de_services.service import Service, ServiceError

F = TypeVar("F", bound=Callable[..., Any])

ENV_HELP = """Environment: DE_STATE_DIR, DE_CACHE_DIR, DE_INFRA_DIR, DE_PORT_OFFSET (added to every
default port), DE_<SERVICE>_<PORT> (one port, e.g. DE_POSTGRES_PORT, DE_RABBITMQ_AMQP_PORT)."""


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """A launcher failure is one `error:` line and exit 1; Ctrl-C exits 130."""
    try:
        yield
    except ServiceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


def _named(names: Sequence[str]) -> list[str]:
    """The named services (all when none), an unknown name being a usage error (exit 2)."""
    known = registry.services()
    for name in names:
        if name not in known:
            click.echo(f"error: unknown service {name!r}; have: {', '.join(known)}", err=True)
            sys.exit(2)
    return list(names) or list(known)


def _names_argument(fn: F) -> F:
    return click.argument("names", nargs=-1)(fn)


def _guarded(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _one_line_errors():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(
    help=f"The local services: start, stop and report them.\n\n{ENV_HELP}",
    context_settings={"help_option_names": ["-h", "--help"]},
)
def cli() -> None:
    """The launcher's command group."""


@cli.command()
@_names_argument
@_guarded
def up(names: tuple[str, ...]) -> None:
    """Start services (all when none named), wait until ready; reuse running ones."""
    for service in registry.with_requirements(_named(names)):
        started = time.monotonic()
        url = lifecycle.up(service)
        took = time.monotonic() - started
        click.echo(f"{service.name:<12} up     {url}  ({took:.1f}s)", err=True)


@cli.command()
@_names_argument
@_guarded
def down(names: tuple[str, ...]) -> None:
    """Stop what `up` started (all when none named): no process, no port left."""
    failed = []
    for name in reversed(_named(names)):
        try:
            stopped = lifecycle.down(registry.get(name))
        except ServiceError as exc:
            click.echo(f"error: {exc}", err=True)
            failed.append(name)
            continue
        click.echo(f"{name:<12} {'stopped' if stopped else 'not running'}", err=True)
    if failed:
        sys.exit(1)


@cli.command()
@_names_argument
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@_guarded
def status(names: tuple[str, ...], as_json: bool) -> None:
    """Running / ready / URL per service."""
    report = {}
    for name in _named(names):
        st = lifecycle.status(registry.get(name))
        report[name] = {
            "running": st.running,
            "ready": st.ready,
            "url": st.url,
            "pids": st.pids,
            "startup_s": st.startup_s,
            "memory_mb": processes.memory_mb(st.pids) if st.running else 0.0,
        }
        if not as_json:
            state = "ready" if st.ready else ("running" if st.running else "down")
            click.echo(f"{name:<12} {state:<8} {st.url}")
    if as_json:
        click.echo(json.dumps(report))


@cli.command()
@_names_argument
@_guarded
def provision(names: tuple[str, ...]) -> None:
    """One-time setup (jars, tool venvs) without starting."""
    for service in registry.with_requirements(_named(names)):
        if service.provision is not None:
            service.provision(runtime.runtime(service))
        click.echo(f"{service.name:<12} provisioned", err=True)


@cli.command()
@_names_argument
@_guarded
def env(names: tuple[str, ...]) -> None:
    """`export DE_..._URL=...` lines for the running services."""
    for name in _named(names):
        service = registry.get(name)
        st = lifecycle.status(service)
        if st.ready:
            click.echo(f"export {service.env_var}={st.url}")


@cli.command()
@_names_argument
@_guarded
def measure(names: tuple[str, ...]) -> None:
    """Fresh start of each on ports +DE_PORT_OFFSET (1000): start time and memory, then stop."""
    services = registry.with_requirements(_named(names))
    os.environ.setdefault("DE_PORT_OFFSET", "1000")
    with tempfile.TemporaryDirectory(prefix="de-measure-") as state:
        os.environ["DE_STATE_DIR"] = state
        try:
            _measure(services)
        finally:
            for service in reversed(services):
                try:
                    lifecycle.down(service)
                except ServiceError as exc:
                    click.echo(f"error: {exc}", err=True)
            if "postgres" in registry.services():
                from de_services.catalog import postgres

                pg = postgres.pg_home(runtime.runtime(postgres.SERVICE))
                shutil.rmtree(pg, ignore_errors=True)


def _measure(services: list[Service]) -> None:
    rows: list[tuple[str, str, float]] = []
    started = time.monotonic()
    for service in services:
        began = time.monotonic()
        lifecycle.up(service)
        rows.append((service.name, _ports(service), time.monotonic() - began))
        click.echo(f"{service.name:<12} up in {rows[-1][2]:.1f}s", err=True)
    total = time.monotonic() - started
    time.sleep(5)  # let JVM heaps and caches settle before reading memory
    click.echo("| service | ports | start (s) | memory PSS (MB) |")
    click.echo("|---|---|---:|---:|")
    mem_total = 0.0
    for (name, ports, took), service in zip(rows, services, strict=True):
        mem = processes.memory_mb(lifecycle.status(service).pids)
        mem_total += mem
        click.echo(f"| {name} | {ports} | {took:.1f} | {mem:.0f} |")
    click.echo(f"| **all, one after another** | | **{total:.1f}** | **{mem_total:.0f}** |")


def _ports(service: Service) -> str:
    offset = int(os.environ.get("DE_PORT_OFFSET", "0") or 0)
    return " ".join(f"{name}={port}" for name, port in service.ports.items()) + (
        f" (+{offset} while measuring)" if offset else ""
    )


def _add_service_verbs() -> None:
    """Each service's own verbs (kafka-tool, hdfs-dfs, register-target, ...), arguments passed as given."""
    for service in registry.services().values():
        for verb, fn in service.commands.items():

            def command(args: tuple[str, ...], fn: Callable[[Sequence[str]], int] = fn) -> None:
                with _one_line_errors():
                    sys.exit(fn(list(args)))

            cli.command(
                verb,
                help=f"{service.name}: {verb} [args...] (passed through).",
                context_settings={"ignore_unknown_options": True, "help_option_names": []},
            )(click.argument("args", nargs=-1, type=click.UNPROCESSED)(command))


_add_service_verbs()


def main() -> None:
    """Console script entry point (`de-services`, `python -m de_services`)."""
    cli()
