"""HiveServer2 (Spark Thrift Server) through the launcher, over the launcher's HDFS.

up hive (which brings up hdfs) -> a file written through WebHDFS -> PyHive CREATE EXTERNAL TABLE over
its hdfs:// folder -> SELECT returns its rows -> down leaves no process and no port.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from de_services.service import Service

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def services() -> list[str]:
    return ["hive"]


def test_hive_requires_hdfs(stack: list[Service]) -> None:
    assert [s.name for s in stack] == ["hdfs", "hive"]


def test_external_table_over_hdfs_returns_the_rows(
    started: dict[str, str], ports: dict[str, int]
) -> None:
    from hdfs import InsecureClient
    from pyhive import hive

    port = ports["DE_HIVE_PORT"]
    assert started["hive"] == f"hive://127.0.0.1:{port}/default"
    folder = f"/lake/people_{uuid.uuid4().hex[:8]}"
    rows = [(1, "alice"), (2, "bob"), (3, "carol")]
    client = InsecureClient(started["hdfs"], user="root")
    client.write(f"{folder}/part-0.csv", data="".join(f"{i},{n}\n" for i, n in rows))

    table = f"people_{uuid.uuid4().hex[:8]}"
    conn = hive.connect(host="127.0.0.1", port=port, auth="NONE", username="root")
    try:
        cur = conn.cursor()
        cur.execute(
            f"CREATE EXTERNAL TABLE {table} (id INT, name STRING) "
            "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' STORED AS TEXTFILE "
            f"LOCATION 'hdfs://127.0.0.1:{ports['DE_HDFS_RPC']}{folder}'"
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


def test_down_leaves_no_process_or_port(
    started: dict[str, str], down_leaves_nothing: Callable[..., list[int]]
) -> None:
    down_leaves_nothing()
