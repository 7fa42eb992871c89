"""Small fixtures for the launcher's own tests: private state and ports, up, down-and-check, the CLI.

The launcher tests start and STOP services; on the dev ports that would pull a server from under a
teammate's running tests. So every module runs against its own state folder and ports the OS picks
free at run time. A module names what it starts by overriding `services`::

    @pytest.fixture(scope="module")
    def services() -> list[str]:
        return ["kafka"]

then uses `started` (name -> URL, everything up for the module), `ports` (env var -> port) and
`down_leaves_nothing()` (down everything, then no pid, no port and no process left).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from de_services import lifecycle, processes, registry, runtime
from de_services.catalog import postgres
from de_services.service import Service, ServiceError


def free_ports(names: Sequence[str]) -> dict[str, str]:
    """One port per env var that nothing listens on now (picked by the OS, so no team collisions)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in names]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return {name: str(sock.getsockname()[1]) for name, sock in zip(names, socks, strict=True)}


def processes_mentioning(needle: str) -> list[int]:
    """Live processes whose command line or environment contains `needle`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
            if needle.encode() in blob and processes.pid_alive(int(proc.name)):
                found.append(int(proc.name))
    return found


@pytest.fixture(scope="module")
def services() -> list[str]:
    """The services a test module starts; a module overrides this (requirements are added)."""
    return []


@pytest.fixture(scope="module")
def stack(services: list[str]) -> list[Service]:
    """The module's services plus what they require, in start order."""
    return registry.with_requirements(services)


@pytest.fixture(scope="module")
def isolated(
    tmp_path_factory: pytest.TempPathFactory, stack: list[Service]
) -> Iterator[dict[str, str]]:
    """DE_STATE_DIR and every stack port as env vars (os.environ, so subprocesses get them too)."""
    state = tmp_path_factory.mktemp("state")
    port_vars = [runtime.port_env_var(s.name, port) for s in stack for port in s.ports]
    env = {"DE_STATE_DIR": str(state), **free_ports(port_vars)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        for service in registry.services().values():
            mp.delenv(service.env_var, raising=False)
        try:
            yield env
        finally:
            # Safety net: whatever a failed test left running in this state folder goes down.
            for service in reversed(registry.services().values()):
                with contextlib.suppress(ServiceError):
                    lifecycle.down(service)
            if postgres.SERVICE in stack:
                # A cluster the postgres user could not keep under the private state folder.
                home = postgres.pg_home(runtime.runtime(postgres.SERVICE))
                if not home.is_relative_to(state):
                    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def state_dir(isolated: dict[str, str]) -> Path:
    """The module's private state folder."""
    return Path(isolated["DE_STATE_DIR"])


@pytest.fixture(scope="module")
def ports(isolated: dict[str, str]) -> dict[str, int]:
    """The module's private ports by env var, e.g. ports["DE_KAFKA_PORT"]."""
    return {key: int(value) for key, value in isolated.items() if key != "DE_STATE_DIR"}


@pytest.fixture(scope="module")
def started(isolated: dict[str, str], stack: list[Service]) -> Iterator[dict[str, str]]:
    """Every stack service up (requirements first) for the module: name -> URL; down afterwards."""
    urls: dict[str, str] = {}
    try:
        for service in stack:
            urls[service.name] = lifecycle.up(service)
        yield urls
    finally:
        for service in reversed(stack):
            lifecycle.down(service)


@pytest.fixture
def down_leaves_nothing(stack: list[Service], ports: dict[str, int]) -> Callable[..., list[int]]:
    """`down_leaves_nothing(*folders)`: down every stack service (last started first), each of
    which was running; then no recorded pid is alive, no stack port listens, no record is left and
    no process mentions a service's state folder (or `folders`). Returns the stopped pids."""

    def check(*folders: str) -> list[int]:
        pids = [p for s in stack for p in lifecycle.status(s).pids]
        assert pids, "nothing was recorded"
        for service in reversed(stack):
            assert lifecycle.down(service), service.name
        assert [p for p in pids if processes.pid_alive(p)] == []
        assert [p for p in ports.values() if processes.port_listening(p)] == []
        state_dirs = [runtime.runtime(s).state_dir for s in stack]
        assert [d.name for d in state_dirs if (d / "service.json").exists()] == []
        for folder in [*map(str, state_dirs), *folders]:
            assert processes_mentioning(folder) == [], folder
        return pids

    return check


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`cli(*args)`: run `python -m de_services ARGS` with os.environ; its captured result."""

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "de_services", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
