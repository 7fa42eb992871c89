"""HDFS as a MiniDFSCluster (one namenode, one datanode) from `hadoop-client-minicluster` jars.

`provision` copies the `hdfs` profile of infra/services/src/de_services/assets/pom.xml into `<cache>/jars/hdfs` and compiles
infra/services/src/de_services/assets/MiniHdfs.java once into `<cache>/classes/MiniHdfs-<hash>`; `start` runs that class with
every address on 127.0.0.1 and fixed ports, so WebHDFS redirects to the datanode work for the `hdfs` Python client. Files survive
a restart (the namenode is formatted only once). `hdfs-dfs` runs Hadoop's FsShell from the same jars:
`python -m de_services hdfs-dfs -ls /`.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from de_services import jvm
from de_services.probes import http_ok, needs
from de_services.runtime import ASSETS, Runtime, runtime
from de_services.service import HOST, Service

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
<!-- Written by de_services.hdfs: where `hdfs-dfs` and Hadoop clients find the cluster. -->
<configuration>
  <property><name>fs.defaultFS</name><value>hdfs://{host}:{rpc}</value></property>
</configuration>
"""


def rpc_url(rt: Runtime | None = None) -> str:
    """hdfs://127.0.0.1:<rpc>: the address Spark, Hive and FsShell use."""
    rt = rt or runtime(SERVICE)
    return f"hdfs://{HOST}:{rt.port('rpc')}"


def _launcher(rt: Runtime) -> Path:
    """The compiled MiniHdfs class folder (compiled now if this source version never was)."""
    source = ASSETS / "MiniHdfs.java"
    return jvm.compiled(rt, source, PROFILE)


def _provision(rt: Runtime) -> None:
    jvm.resolve_jars(rt, PROFILE)
    _launcher(rt)


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
    classes = _launcher(rt)
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
        f"-Xmx{jvm.heap(rt, '512m')}",
        "-XX:+ExitOnOutOfMemoryError",
        f"-Dlog4j.configuration=file:{conf / 'log4j.properties'}",
        f"-Djava.util.logging.config.file={conf / 'jul.properties'}",
        f"-Djava.io.tmpdir={tmp}",
        f"-Dhadoop.tmp.dir={tmp}",
    ]
    rt.spawn(
        [jvm.java(), *jvm_opts, "-cp", jvm.classpath(rt, PROFILE, classes, conf), "MiniHdfs"]
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
    jvm.resolve_jars(rt, PROFILE)  # a ServiceError is the CLI's one-line error, exit 1
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
    missing=needs(jvm.javac),
    startup_timeout=90.0,
    commands={"hdfs-dfs": hdfs_dfs},
)
