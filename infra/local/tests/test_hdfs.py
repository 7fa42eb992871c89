"""HDFS through the launcher: up -> WebHDFS write and read with `hdfs` -> FsShell -> down leaves nothing."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from de_common.services import base, registry

pytestmark = pytest.mark.integration

# Private ports picked at run time: tests must never stop (or collide with) anyone's instances.
PORT_VARS = [
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
        mp.delenv("DE_HDFS_URL", raising=False)
        yield env


@pytest.fixture(scope="module")
def hdfs_url(isolated: dict[str, str]) -> Iterator[str]:
    service = registry.get("hdfs")
    url = base.up(service)
    try:
        yield url
    finally:
        base.down(service)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "de_common.services", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_write_and_read_through_webhdfs(hdfs_url: str, isolated: dict[str, str]) -> None:
    from hdfs import InsecureClient

    assert hdfs_url == f"http://127.0.0.1:{isolated['DE_HDFS_HTTP']}"
    client = InsecureClient(hdfs_url, user="root")
    folder = f"/t/{uuid.uuid4().hex[:10]}"
    payload = "id,name\n" + "".join(f"{i},name-{i}\n" for i in range(1000))
    # The write is redirected to the datanode: this only works with its HTTP on 127.0.0.1.
    client.write(f"{folder}/rows.csv", data=payload, encoding="utf-8")
    with client.read(f"{folder}/rows.csv", encoding="utf-8") as reader:
        assert reader.read() == payload
    assert client.list(folder) == ["rows.csv"]
    assert client.status(f"{folder}/rows.csv")["length"] == len(payload.encode())


def test_hdfs_dfs_sees_the_same_files(hdfs_url: str) -> None:
    from hdfs import InsecureClient

    folder = f"/dfs/{uuid.uuid4().hex[:10]}"
    InsecureClient(hdfs_url, user="root").write(f"{folder}/a.txt", data=b"hello hdfs\n")
    listed = _cli("hdfs-dfs", "-ls", folder)
    assert listed.returncode == 0, listed.stderr
    assert f"{folder}/a.txt" in listed.stdout
    cat = _cli("hdfs-dfs", "-cat", f"{folder}/a.txt")
    assert cat.returncode == 0, cat.stderr
    assert cat.stdout == "hello hdfs\n"
    missing = _cli("hdfs-dfs", "-ls", f"{folder}/nope")
    assert missing.returncode != 0


def test_files_survive_restart_and_down_leaves_no_process_or_port(
    hdfs_url: str, isolated: dict[str, str]
) -> None:
    from hdfs import InsecureClient

    service = registry.get("hdfs")
    InsecureClient(hdfs_url, user="root").write("/keep/me.txt", data=b"kept", overwrite=True)
    pids = base.status(service).pids
    assert pids

    assert base.down(service)
    assert not any(base.pid_alive(p) for p in pids)
    for var in PORT_VARS:
        assert not base.port_listening(int(isolated[var])), var

    base.up(service)
    with InsecureClient(hdfs_url, user="root").read("/keep/me.txt") as reader:
        assert reader.read() == b"kept"
