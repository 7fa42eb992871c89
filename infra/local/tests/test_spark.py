"""de_common.services.spark: a local SparkSession computes, reads and writes, and reads HDFS.

pyspark is not a de-common dependency, so the check runs in the pinned pyspark of the Hive tool venv
(provisioned here if needed) with de_common from this checkout on its path.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import de_common
from de_common.services import base, hive, jvm, registry

pytestmark = pytest.mark.integration

SCRIPT = """
import json, sys
from de_common.services.spark import spark_session, local_session

spark = spark_session("infra-spark-test")
conf = spark.sparkContext.getConf()
df = spark.createDataFrame([(i, i % 3) for i in range(1000)], "id INT, bucket INT")
counts = {r["bucket"]: r["n"] for r in df.groupBy("bucket").count().withColumnRenamed("count", "n").collect()}
out = sys.argv[1]
df.write.mode("overwrite").partitionBy("bucket").parquet(out)
back = spark.read.parquet(out).count()
hdfs_rows = None
if len(sys.argv) > 2:
    spark.createDataFrame([(1, "a"), (2, "b")], "id INT, v STRING").write.mode("overwrite").parquet(sys.argv[2])
    hdfs_rows = sorted(tuple(r) for r in spark.read.parquet(sys.argv[2]).collect())
same = local_session() is spark
print(json.dumps({
    "counts": counts, "back": back, "hdfs_rows": hdfs_rows, "same": same,
    "master": conf.get("spark.master"), "host": conf.get("spark.driver.host"),
    "ui": conf.get("spark.ui.enabled"), "partitions": spark.conf.get("spark.sql.shuffle.partitions"),
}))
spark.stop()
"""

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
    env = {"DE_STATE_DIR": str(tmp_path_factory.mktemp("state")), **free_ports(PORT_VARS)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delenv("DE_HDFS_URL", raising=False)
        yield env


@pytest.fixture(scope="module")
def hdfs_up(isolated: dict[str, str]) -> Iterator[str]:
    service = registry.get("hdfs")
    base.up(service)
    try:
        yield f"hdfs://127.0.0.1:{isolated['DE_HDFS_RPC']}"
    finally:
        base.down(service)


@pytest.fixture(scope="module")
def spark_python(isolated: dict[str, str]) -> Path:
    rt = base.runtime(hive.SERVICE)
    jvm.tool_venv(rt, hive.VENV, [hive.PYSPARK])
    return jvm.tool_python(rt, hive.VENV)


def test_local_session_computes_and_reads_hdfs(
    spark_python: Path, hdfs_up: str, tmp_path: Path
) -> None:
    src = Path(de_common.__file__).resolve().parent.parent
    proc = subprocess.run(
        [str(spark_python), "-c", SCRIPT, str(tmp_path / "out"), f"{hdfs_up}/spark/t1"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(src)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["counts"] == {"0": 334, "1": 333, "2": 333}
    assert result["back"] == 1000
    assert result["hdfs_rows"] == [[1, "a"], [2, "b"]]
    assert result["same"] is True
    assert result["master"] == "local[2]"
    assert result["host"] == "127.0.0.1"
    assert result["ui"] == "false"
    assert result["partitions"] == "4"
