"""PostgreSQL through the launcher: up -> psycopg2 round trip -> reuse -> down leaves nothing."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg2
import pytest

from de_services import lifecycle, processes, registry, runtime
from de_services.catalog import postgres
from de_services.service import PortInUse, ServiceError

pytestmark = pytest.mark.integration

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def services() -> list[str]:
    return ["postgres"]


@pytest.fixture(scope="module")
def port(ports: dict[str, int]) -> int:
    return ports["DE_POSTGRES_PORT"]


def test_up_query_reuse_down(
    started: dict[str, str], port: int, down_leaves_nothing: Callable[..., list[int]]
) -> None:
    service = registry.get("postgres")
    url = started["postgres"]
    assert url == f"postgresql://postgres@127.0.0.1:{port}/postgres"

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS rt (id int PRIMARY KEY, v text)")
        cur.execute("INSERT INTO rt VALUES (1, 'one') ON CONFLICT (id) DO NOTHING")
        cur.execute("SELECT v, inet_server_addr()::text FROM rt WHERE id = 1")
        assert cur.fetchone() == ("one", "127.0.0.1/32")

    first = lifecycle.status(service)
    assert first.running and first.ready
    assert lifecycle.up(service) == url
    assert lifecycle.status(service).pids == first.pids  # reused, not restarted

    home = str(postgres.pg_home(runtime.runtime(service)))
    down_leaves_nothing(home + "/data")
    assert not lifecycle.down(service)  # nothing left to stop

    # Data lives in the state folder: a restart sees the row again.
    lifecycle.up(service)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM rt")
        assert cur.fetchone() == (1,)
    lifecycle.down(service)


def test_foreign_listener_on_the_port_is_a_clear_error(isolated: dict[str, str], port: int) -> None:
    with socket.socket() as squatter:
        # Earlier tests' connections may linger in TIME_WAIT on this port.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(PortInUse, match=rf"port {port} \(DE_POSTGRES_PORT\) is already in use"):
            lifecycle.up(registry.get("postgres"))
    assert not lifecycle.status(registry.get("postgres")).running


def test_cli_up_status_down(isolated: dict[str, str], port: int, cli: Cli) -> None:
    assert cli("up", "postgres").returncode == 0
    status = cli("status", "postgres")
    assert status.returncode == 0 and "ready" in status.stdout and str(port) in status.stdout
    env = cli("env", "postgres").stdout
    assert f"export DE_POSTGRES_URL=postgresql://postgres@127.0.0.1:{port}/postgres" in env
    down = cli("down", "postgres")
    assert down.returncode == 0 and "stopped" in down.stderr
    assert not processes.port_listening(port)
    bad = cli("up", "nosuchservice")
    assert bad.returncode == 2 and bad.stderr.startswith("error: unknown service")
    assert "Traceback" not in bad.stderr


def test_cluster_in_a_state_folder_the_postgres_user_can_reach(
    isolated: dict[str, str], port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CI clones into a world-readable folder: as root the cluster then lives in the state folder
    # itself, beside the launcher's root-owned log, and the server must not try to write that log.
    reachable = Path(tempfile.mkdtemp(prefix="de-pg-state-", dir="/var/tmp"))
    try:
        reachable.chmod(0o755)
        monkeypatch.setenv("DE_STATE_DIR", str(reachable))
        service = registry.get("postgres")
        rt = runtime.runtime(service)
        assert postgres.pg_home(rt) == rt.state_dir
        url = lifecycle.up(service)
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
        assert (rt.state_dir / "server.log").exists() and rt.log_file.exists()
        assert lifecycle.down(service)
        assert not processes.port_listening(port)
    finally:
        with contextlib.suppress(ServiceError):
            lifecycle.down(registry.get("postgres"))
        shutil.rmtree(reachable, ignore_errors=True)


def test_links_left_by_an_earlier_layout_are_replaced(tmp_path: Path) -> None:
    log = tmp_path / "home" / "server.log"
    log.parent.mkdir()
    log.touch()
    stale = tmp_path / "state" / "server.log"
    stale.parent.mkdir()
    stale.symlink_to(tmp_path / "home" / "postgres.log")  # the name the server used before
    postgres._link(stale, log)
    assert stale.readlink() == log
    stale.unlink()
    stale.write_text("a plain file from the reachable layout")
    postgres._link(stale, log)
    assert stale.is_symlink() and stale.readlink() == log
    postgres._link(stale, log)  # already right: left alone
    assert stale.readlink() == log
