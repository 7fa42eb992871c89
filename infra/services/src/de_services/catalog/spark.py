"""Local Spark sessions for jobs and tests: local[2], bound to 127.0.0.1, UI off, few partitions.

pyspark is not a dependency of de-common: a project that uses Spark installs it (pin pandas<3 next
to pyspark 4.x). Java comes from $JAVA_HOME, else from the `java` on PATH (Spark 4 needs 17+).
`hdfs://127.0.0.1:29000/...` paths work as is: the pyspark wheel bundles a Hadoop 3.4 client.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from de_services import jvm
from de_services.service import HOST

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULTS: dict[str, str] = {
    "spark.driver.host": HOST,
    "spark.driver.bindAddress": HOST,
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "1g",
}


def prepare_environment() -> None:
    """Point pyspark at a JDK and at loopback before its JVM starts (no-op for what is already set)."""
    os.environ.setdefault("JAVA_HOME", str(jvm.java_home()))
    os.environ.setdefault("SPARK_LOCAL_IP", HOST)


def spark_session(
    app: str, master: str = "local[2]", conf: Mapping[str, str] | None = None
) -> SparkSession:
    """A SparkSession named `app`; `conf` entries override the defaults."""
    from pyspark.sql import SparkSession

    prepare_environment()
    builder = SparkSession.builder.master(master).appName(app)
    for key, value in {**DEFAULTS, **(conf or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def local_session() -> SparkSession:
    """The session the `spark` pytest fixture uses: a fresh app name per test session."""
    return spark_session(f"de-test-{uuid.uuid4().hex[:8]}")
