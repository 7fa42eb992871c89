"""HiveServer2: the Spark Thrift Server from the pyspark wheel, Derby metastore in the state folder.

`provision` creates a tool venv `<cache>/venvs/hive` with a pinned pyspark (its jars include
spark-hive-thriftserver); `start` runs HiveThriftServer2 through that venv's spark-submit on 127.0.0.1.
The default filesystem is the local HDFS (`requires=("hdfs",)`), so `LOCATION '/lake/x'` and
`LOCATION 'hdfs://127.0.0.1:29000/lake/x'` both mean HDFS; managed tables go to a local warehouse
folder in the state folder. Clients: PyHive with auth NONE on `hive://127.0.0.1:20000/default`.
"""

from __future__ import annotations

import os
from pathlib import Path

from de_services import jvm
from de_services.catalog import hdfs
from de_services.lifecycle import up
from de_services.probes import needs
from de_services.processes import port_open
from de_services.runtime import Runtime, runtime
from de_services.service import HOST, Service

VENV = "hive"

LOG4J2 = """\
# Written by de_services.hive: warnings, plus the server's own start/stop lines.
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.thrift.name = org.apache.spark.sql.hive.thriftserver
logger.thrift.level = info
logger.service.name = org.apache.hive.service
logger.service.level = info
logger.derby.name = DataNucleus
logger.derby.level = error
logger.hivemeta.name = org.apache.hadoop.hive.metastore.ObjectStore
logger.hivemeta.level = error
logger.hiveconf.name = org.apache.hadoop.hive.conf.HiveConf
logger.hiveconf.level = error
"""


def spark_home(rt: Runtime) -> Path:
    """The pyspark package folder of the tool venv, which is a complete SPARK_HOME."""
    venv = rt.cache_dir / "venvs" / VENV
    found = sorted(venv.glob("lib/python3*/site-packages/pyspark"))
    return found[-1] if found else venv / "lib" / "python3.11" / "site-packages" / "pyspark"


def _provision(rt: Runtime) -> None:
    jvm.tool_venv(rt, VENV)


def _start(rt: Runtime) -> None:
    # The default filesystem is our HDFS: make sure it runs, however hive was asked for
    # (`resolve("hive")` starts only hive itself).
    if not os.environ.get(hdfs.SERVICE.env_var):
        up(hdfs.SERVICE)
    state = rt.state_dir
    conf = state / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "log4j2.properties").write_text(LOG4J2)
    venv_bin = rt.cache_dir / "venvs" / VENV / "bin"
    env = {
        "SPARK_HOME": str(spark_home(rt)),
        "SPARK_CONF_DIR": str(conf),
        "SPARK_LOG_DIR": str(state / "logs"),
        "SPARK_LOCAL_IP": HOST,
        "JAVA_HOME": str(jvm.java_home()),
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    metastore = f"jdbc:derby:;databaseName={state / 'metastore_db'};create=true"
    confs = {
        "spark.ui.enabled": "false",
        "spark.driver.host": HOST,
        "spark.driver.bindAddress": HOST,
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.warehouse.dir": (state / "warehouse").as_uri(),
        "spark.hadoop.fs.defaultFS": hdfs.rpc_url(runtime(hdfs.SERVICE)),
        "spark.hadoop.javax.jdo.option.ConnectionURL": metastore,
        "spark.hadoop.hive.exec.scratchdir": "/user/hive/scratch",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={state}",
    }
    argv = [
        str(venv_bin / "spark-submit"),
        "--master",
        "local[2]",
        "--driver-memory",
        jvm.heap(rt, "768m"),
    ]
    argv += ["--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"]
    for key, value in confs.items():
        argv += ["--conf", f"{key}={value}"]
    argv += ["--hiveconf", f"hive.server2.thrift.bind.host={HOST}"]
    argv += ["--hiveconf", f"hive.server2.thrift.port={rt.port()}", "spark-internal"]
    rt.spawn(argv, env=env, cwd=state)


def _ready(rt: Runtime) -> bool:
    # The Thrift port is bound as the server's last start step, after the metastore and Spark.
    return port_open(rt.port())


def _url(rt: Runtime) -> str:
    return f"hive://{HOST}:{rt.port()}/default"


SERVICE = Service(
    name="hive",
    env_var="DE_HIVE_URL",
    ports={"port": 20000},
    url=_url,
    start=_start,
    ready=_ready,
    provision=_provision,
    missing=needs(jvm.java_home),
    startup_timeout=120.0,
    requires=("hdfs",),
)
