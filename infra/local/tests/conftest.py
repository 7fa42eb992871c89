"""Shared fixtures for the launcher's own tests: a private state folder and private ports.

The launcher tests start and STOP services; on the dev ports that would pull a server from under a
teammate's running tests. So every module here runs against its own state folder and the ports below.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from de_common.services import base, postgres, registry

PRIVATE_PORTS = {
    "DE_POSTGRES_PORT": "31432",
    "DE_RABBITMQ_AMQP_PORT": "31672",
    "DE_RABBITMQ_DIST_PORT": "31673",
    "DE_RABBITMQ_EPMD_PORT": "31369",
    "DE_MOTO_PORT": "31000",
    "DE_PROMETHEUS_PORT": "31090",
    "DE_PUSHGATEWAY_PORT": "31091",
}


@pytest.fixture(scope="module")
def private_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """os.environ pointing the launcher at a fresh state folder and the private ports."""
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DE_STATE_DIR", str(state))
        for key, value in PRIVATE_PORTS.items():
            mp.setenv(key, value)
        for service in registry.services().values():
            mp.delenv(service.env_var, raising=False)
        try:
            yield state
        finally:
            # Safety net: whatever a failed test left running in this state folder goes down.
            for service in registry.services().values():
                with contextlib.suppress(base.ServiceError):
                    base.down(service)
            # A cluster the postgres user could not keep under the private state folder.
            home = postgres.pg_home(base.runtime(postgres.SERVICE))
            if not home.is_relative_to(state):
                shutil.rmtree(home, ignore_errors=True)


def processes_mentioning(needle: str) -> list[int]:
    """Live processes whose command line or environment contains `needle`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
            if needle.encode() in blob and base.pid_alive(int(proc.name)):
                found.append(int(proc.name))
    return found


@pytest.fixture
def assert_gone() -> Callable[[Sequence[int], Sequence[int], Sequence[str]], None]:
    """Check: no recorded pid alive, no port listening, no process referring to the folders."""

    def check(pids: Sequence[int], ports: Sequence[int], folders: Sequence[str]) -> None:
        assert pids, "nothing was recorded"
        assert [p for p in pids if base.pid_alive(p)] == []
        assert [p for p in ports if base.port_listening(p)] == []
        for folder in folders:
            assert processes_mentioning(folder) == [], folder

    return check
