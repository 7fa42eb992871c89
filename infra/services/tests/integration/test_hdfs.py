"""HDFS through the launcher: up -> WebHDFS write and read with `hdfs` -> FsShell -> down leaves nothing."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable

import pytest

from de_services import lifecycle, registry

pytestmark = pytest.mark.integration

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def services() -> list[str]:
    return ["hdfs"]


@pytest.fixture(scope="module")
def hdfs_url(started: dict[str, str]) -> str:
    return started["hdfs"]


def test_write_and_read_through_webhdfs(hdfs_url: str, ports: dict[str, int]) -> None:
    from hdfs import InsecureClient

    assert hdfs_url == f"http://127.0.0.1:{ports['DE_HDFS_HTTP']}"
    client = InsecureClient(hdfs_url, user="root")
    folder = f"/t/{uuid.uuid4().hex[:10]}"
    payload = "id,name\n" + "".join(f"{i},name-{i}\n" for i in range(1000))
    # The write is redirected to the datanode: this only works with its HTTP on 127.0.0.1.
    client.write(f"{folder}/rows.csv", data=payload, encoding="utf-8")
    with client.read(f"{folder}/rows.csv", encoding="utf-8") as reader:
        assert reader.read() == payload
    assert client.list(folder) == ["rows.csv"]
    assert client.status(f"{folder}/rows.csv")["length"] == len(payload.encode())


def test_hdfs_dfs_sees_the_same_files(hdfs_url: str, cli: Cli) -> None:
    from hdfs import InsecureClient

    folder = f"/dfs/{uuid.uuid4().hex[:10]}"
    InsecureClient(hdfs_url, user="root").write(f"{folder}/a.txt", data=b"hello hdfs\n")
    listed = cli("hdfs-dfs", "-ls", folder)
    assert listed.returncode == 0, listed.stderr
    assert f"{folder}/a.txt" in listed.stdout
    cat = cli("hdfs-dfs", "-cat", f"{folder}/a.txt")
    assert cat.returncode == 0, cat.stderr
    assert cat.stdout == "hello hdfs\n"
    missing = cli("hdfs-dfs", "-ls", f"{folder}/nope")
    assert missing.returncode != 0


def test_files_survive_restart_and_down_leaves_no_process_or_port(
    hdfs_url: str, down_leaves_nothing: Callable[..., list[int]]
) -> None:
    from hdfs import InsecureClient

    InsecureClient(hdfs_url, user="root").write("/keep/me.txt", data=b"kept", overwrite=True)
    down_leaves_nothing()

    lifecycle.up(registry.get("hdfs"))
    with InsecureClient(hdfs_url, user="root").read("/keep/me.txt") as reader:
        assert reader.read() == b"kept"
