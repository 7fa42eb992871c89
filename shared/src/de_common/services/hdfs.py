"""HDFS as a MiniDFSCluster (one namenode, one datanode) from `hadoop-client-minicluster` jars.

`provision` copies the `hdfs` profile of infra/local/pom.xml into `<cache>/jars/hdfs`; `start` runs
infra/local/java/MiniHdfs.java (Java runs a single source file) with every address on 127.0.0.1 and
fixed ports, so WebHDFS redirects to the datanode work for the `hdfs` Python client. Files survive
a restart (the namenode is formatted only once). `hdfs-dfs` runs Hadoop's FsShell from the same jars:
`python -m de_common.services hdfs-dfs -ls /`.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from de_common.services import jvm
from de_common.services.base import (
    HOST,
    Runtime,
    Service,
    ServiceError,
    http_ok,
    runtime,
)

PROFILE = "hdfs"

# Only warnings and errors: the minicluster logs thousands of INFO lines while it starts.
LOG4J = """\
log4j.rootLogger=WARN, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.Target={target}
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=%d{{ISO8601}} %p %c: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
log4j.logger.org.apache.hadoop.metrics2=ERROR
log4j.logger.org.apache.hadoop.security.authentication.server.AuthenticationFilter=ERROR
log4j.logger.org.apache.hadoop.hdfs.server.datanode.fsdataset.impl.FsDatasetImpl=ERROR
log4j.logger.org.apache.hadoop.hdfs.server.datanode.DirectoryScanner=ERROR
log4j.logger.org.apache.hadoop.hdfs.server.datanode.web.DatanodeHttpServer=ERROR
"""

CORE_SITE = """\
<?xml version="1.0"?>
<!-- Written by de_common.services.hdfs: where `hdfs-dfs` and Hadoop clients find the cluster. -->
<configuration>
  <property><name>fs.defaultFS</name><value>hdfs://{host}:{rpc}</value></property>
</configuration>
"""


def heap() -> str:
    """The minicluster's max heap: $DE_HDFS_HEAP or 512m."""
    return os.environ.get("DE_HDFS_HEAP", "512m")


def rpc_url(rt: Runtime | None = None) -> str:
    """hdfs://127.0.0.1:<rpc>: the address Spark, Hive and FsShell use."""
    rt = rt or runtime(SERVICE)
    return f"hdfs://{HOST}:{rt.port('rpc')}"


def _provision(rt: Runtime) -> None:
    jvm.resolve_jars(rt, PROFILE)
    launcher = rt.require_infra_dir() / "java" / "MiniHdfs.java"
    if not launcher.exists():
        raise ServiceError(f"hdfs: launcher {launcher} is missing")


def _missing(rt: Runtime) -> str | None:
    reason = jvm.missing_java()
    if reason is None and not (jvm.java_home() / "bin" / "javac").exists():
        # `java File.java` compiles in memory: a JRE without the compiler cannot run the launcher.
        reason = "needs a JDK, not a JRE (apt-get install openjdk-17-jdk-headless)"
    return reason


def _conf_dir(rt: Runtime, target: str) -> Path:
    """A folder with core-site.xml and log4j.properties for the current ports."""
    conf = rt.state_dir / ("conf" if target == "System.out" else "conf-cli")
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "core-site.xml").write_text(CORE_SITE.format(host=HOST, rpc=rt.port("rpc")))
    (conf / "log4j.properties").write_text(LOG4J.format(target=target))
    # Jersey 1 (WebHDFS) logs pages of harmless warnings through java.util.logging.
    (conf / "jul.properties").write_text(
        "handlers=java.util.logging.ConsoleHandler\n.level=SEVERE\n"
    )
    return conf


def _start(rt: Runtime) -> None:
    conf = _conf_dir(rt, "System.out")
    tmp = rt.state_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    launcher = rt.require_infra_dir() / "java" / "MiniHdfs.java"
    flags = {
        "--base": str(rt.data_dir),
        "--nn-port": str(rt.port("rpc")),
        "--nn-http-port": str(rt.port("http")),
        "--dn-port": str(rt.port("datanode")),
        "--dn-http-port": str(rt.port("datanode_http")),
        "--dn-ipc-port": str(rt.port("datanode_ipc")),
        "--dn-proxy-port": str(rt.port("datanode_proxy")),
    }
    jvm_opts = [
        "-Xms64m",
        f"-Xmx{heap()}",
        "-XX:+ExitOnOutOfMemoryError",
        f"-Dlog4j.configuration=file:{conf / 'log4j.properties'}",
        f"-Djava.util.logging.config.file={conf / 'jul.properties'}",
        f"-Djava.io.tmpdir={tmp}",
        f"-Dhadoop.tmp.dir={tmp}",
    ]
    rt.spawn(
        [jvm.java(), *jvm_opts, "-cp", jvm.classpath(rt, PROFILE, conf), str(launcher)]
        + [item for pair in flags.items() for item in pair],
        cwd=rt.state_dir,
    )


def _ready(rt: Runtime) -> bool:
    # Usable = out of safe mode with a live datanode (the namenode's HTTP answers well before that).
    state = _namenode_state(rt)
    live = state.get("NumLiveDataNodes")
    if state.get("FSState") != "Operational" or not isinstance(live, int) or live < 1:
        return False
    user = os.environ.get("DE_HDFS_USER", "root")
    return http_ok(f"{_url(rt)}/webhdfs/v1/?op=GETFILESTATUS&user.name={user}")


def _namenode_state(rt: Runtime) -> dict[str, object]:
    url = f"{_url(rt)}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState"
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback URL we build
            beans = json.load(resp).get("beans", [])
    except (OSError, ValueError):
        return {}
    return dict(beans[0]) if beans else {}


def _url(rt: Runtime) -> str:
    return f"http://{HOST}:{rt.port('http')}"


def hdfs_dfs(args: Sequence[str]) -> int:
    """`hdfs-dfs [args...]`: Hadoop's FsShell (`hdfs dfs`) against the local cluster."""
    rt = runtime(SERVICE)
    try:
        _provision(rt)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    conf = _conf_dir(rt, "System.err")
    opts = ["-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    opts += [f"-Dlog4j.configuration=file:{conf / 'log4j.properties'}"]
    return jvm.run_java_tool(rt, PROFILE, "org.apache.hadoop.fs.FsShell", args, opts, [conf])


SERVICE = Service(
    name="hdfs",
    env_var="DE_HDFS_URL",
    ports={
        "http": 29870,
        "rpc": 29000,
        "datanode_http": 29864,
        "datanode": 29866,
        "datanode_ipc": 29867,
        "datanode_proxy": 29868,
    },
    url=_url,
    start=_start,
    ready=_ready,
    provision=_provision,
    missing=_missing,
    startup_timeout=90.0,
    commands={"hdfs-dfs": hdfs_dfs},
)
