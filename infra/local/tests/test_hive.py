"""HiveServer2 (Spark Thrift Server) through the launcher, over the launcher's HDFS.

up hive (which brings up hdfs) -> a file written through WebHDFS -> PyHive CREATE EXTERNAL TABLE over
its hdfs:// folder -> SELECT returns its rows -> down leaves no process and no port.
"""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Iterator

import pytest

from de_common.services import base, registry

pytestmark = pytest.mark.integration

# Private ports picked at run time: tests must never stop (or collide with) anyone's instances.
PORT_VARS = [
    "DE_HIVE_PORT",
    "DE_HDFS_RPC",
    "DE_HDFS_HTTP",
    "DE_HDFS_DATANODE_HTTP",
    "DE_HDFS_DATANODE",
    "DE_HDFS_DATANODE_IPC",
    "DE_HDFS_DATANODE_PROXY",
]


def free_ports(names: list[str]) -> dict[str, str]:
    """One port per env var that nothing listens on now (picked by the OS, so no team collisions)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in names]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return {name: str(sock.getsockname()[1]) for name, sock in zip(names, socks, strict=True)}


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A private state folder and ports for this module, in os.environ and for subprocesses."""
    env = {"DE_STATE_DIR": str(tmp_path_factory.mktemp("state")), **free_ports(PORT_VARS)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delenv("DE_HIVE_URL", raising=False)
        mp.delenv("DE_HDFS_URL", raising=False)
        yield env


@pytest.fixture(scope="module")
def stack(isolated: dict[str, str]) -> Iterator[dict[str, str]]:
    """hdfs and hive up (hive requires hdfs), both stopped afterwards."""
    services = registry.with_requirements(["hive"])
    assert [s.name for s in services] == ["hdfs", "hive"]
    urls: dict[str, str] = {}
    try:
        for service in services:
            urls[service.name] = base.up(service)
        yield urls
    finally:
        for service in reversed(services):
            base.down(service)


def test_external_table_over_hdfs_returns_the_rows(
    stack: dict[str, str], isolated: dict[str, str]
) -> None:
    from hdfs import InsecureClient
    from pyhive import hive

    port = int(isolated["DE_HIVE_PORT"])
    assert stack["hive"] == f"hive://127.0.0.1:{port}/default"
    folder = f"/lake/people_{uuid.uuid4().hex[:8]}"
    rows = [(1, "alice"), (2, "bob"), (3, "carol")]
    client = InsecureClient(stack["hdfs"], user="root")
    client.write(f"{folder}/part-0.csv", data="".join(f"{i},{n}\n" for i, n in rows))

    table = f"people_{uuid.uuid4().hex[:8]}"
    conn = hive.connect(host="127.0.0.1", port=port, auth="NONE", username="root")
    try:
        cur = conn.cursor()
        cur.execute(
            f"CREATE EXTERNAL TABLE {table} (id INT, name STRING) "
            "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' STORED AS TEXTFILE "
            f"LOCATION 'hdfs://127.0.0.1:{isolated['DE_HDFS_RPC']}{folder}'"
        )
        cur.execute(f"SELECT id, name FROM {table} ORDER BY id")
        assert cur.fetchall() == rows

        # A second file in the folder is visible without touching the table: it reads HDFS live.
        client.write(f"{folder}/part-1.csv", data="4,dave\n")
        cur.execute(f"SELECT count(*) FROM {table}")
        assert cur.fetchall() == [(4,)]

        # Dropping an external table keeps the data.
        cur.execute(f"DROP TABLE {table}")
        assert sorted(client.list(folder)) == ["part-0.csv", "part-1.csv"]
    finally:
        conn.close()


def test_down_leaves_no_process_or_port(stack: dict[str, str], isolated: dict[str, str]) -> None:
    services = registry.with_requirements(["hive"])
    pids = [p for s in services for p in base.status(s).pids]
    assert pids
    for service in reversed(services):
        assert base.down(service)
    assert not any(base.pid_alive(p) for p in pids)
    for var in PORT_VARS:
        assert not base.port_listening(int(isolated[var])), var
