"""PostgreSQL through the launcher: up -> psycopg2 round trip -> reuse -> down leaves nothing."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg2
import pytest

from de_common.services import base, postgres, registry

pytestmark = pytest.mark.integration

PORT = 31432
Gone = Callable[[Sequence[int], Sequence[int], Sequence[str]], None]


def test_up_query_reuse_down(private_state: Path, assert_gone: Gone) -> None:
    service = registry.get("postgres")
    url = base.up(service)
    assert url == f"postgresql://postgres@127.0.0.1:{PORT}/postgres"

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS rt (id int PRIMARY KEY, v text)")
        cur.execute("INSERT INTO rt VALUES (1, 'one') ON CONFLICT (id) DO NOTHING")
        cur.execute("SELECT v, inet_server_addr()::text FROM rt WHERE id = 1")
        assert cur.fetchone() == ("one", "127.0.0.1/32")

    first = base.status(service)
    assert first.running and first.ready
    assert base.up(service) == url
    assert base.status(service).pids == first.pids  # reused, not restarted

    home = str(postgres.pg_home(base.runtime(service)))
    assert base.down(service)
    assert_gone(first.pids, [PORT], [home + "/data"])
    assert not base.down(service)  # nothing left to stop

    # Data lives in the state folder: a restart sees the row again.
    base.up(service)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM rt")
        assert cur.fetchone() == (1,)
    base.down(service)


def test_foreign_listener_on_the_port_is_a_clear_error(private_state: Path) -> None:
    with socket.socket() as squatter:
        # Earlier tests' connections may linger in TIME_WAIT on this port.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", PORT))
        squatter.listen()
        with pytest.raises(
            base.PortInUse, match=rf"port {PORT} \(DE_POSTGRES_PORT\) is already in use"
        ):
            base.up(registry.get("postgres"))
    assert not base.status(registry.get("postgres")).running


def test_cli_up_status_down(private_state: Path) -> None:
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "de_common.services", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert cli("up", "postgres").returncode == 0
    status = cli("status", "postgres")
    assert status.returncode == 0 and "ready" in status.stdout and str(PORT) in status.stdout
    env = cli("env", "postgres").stdout
    assert f"export DE_POSTGRES_URL=postgresql://postgres@127.0.0.1:{PORT}/postgres" in env
    down = cli("down", "postgres")
    assert down.returncode == 0 and "stopped" in down.stderr
    assert not base.port_listening(PORT)
    bad = cli("up", "nosuchservice")
    assert bad.returncode == 2 and bad.stderr.startswith("error: unknown service")
    assert "Traceback" not in bad.stderr
