"""de_services.spark: a local SparkSession computes, reads and writes, and reads HDFS.

pyspark is not a launcher dependency, so the check runs in the pinned pyspark of the Hive tool venv
(provisioned here if needed) with de_services from this checkout on its path.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import de_services
from de_services import jvm, runtime
from de_services.catalog import hive

pytestmark = pytest.mark.integration

SCRIPT = """
import json, sys
from de_services.catalog.spark import spark_session, local_session

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


@pytest.fixture(scope="module")
def services() -> list[str]:
    return ["hdfs"]


@pytest.fixture(scope="module")
def hdfs_up(started: dict[str, str], ports: dict[str, int]) -> str:
    return f"hdfs://127.0.0.1:{ports['DE_HDFS_RPC']}"


@pytest.fixture(scope="module")
def spark_python(isolated: dict[str, str]) -> Path:
    rt = runtime.runtime(hive.SERVICE)
    jvm.tool_venv(rt, hive.VENV)
    return jvm.tool_python(rt, hive.VENV)


def test_local_session_computes_and_reads_hdfs(
    spark_python: Path, hdfs_up: str, tmp_path: Path
) -> None:
    src = Path(de_services.__file__).resolve().parent.parent
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
