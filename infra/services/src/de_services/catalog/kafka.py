"""Apache Kafka 4 in KRaft mode (one combined broker + controller) from Maven Central jars.

`provision` copies the `kafka` profile of infra/services/src/de_services/assets/pom.xml into `<cache>/jars/kafka`; `start`
formats the storage once (static single-voter quorum, so a changed port needs no re-format) and
runs `kafka.Kafka server.properties`. The `kafka-tool` verb runs Kafka's own CLI tools from the
same jars: `python -m de_services kafka-tool kafka-topics --bootstrap-server ... --list`.
"""

from __future__ import annotations

import base64
import socket
import struct
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from de_services import jvm
from de_services.probes import needs
from de_services.runtime import Runtime, runtime
from de_services.service import HOST, Service

PROFILE = "kafka"
KAFKA_VERSION = "4.1.1"

# Tool name (as in Kafka's bin/ folder) -> main class in the 4.x jars.
TOOLS: dict[str, str] = {
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-producer-perf-test": "org.apache.kafka.tools.ProducerPerformance",
    "kafka-consumer-perf-test": "org.apache.kafka.tools.ConsumerPerformance",
    "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-get-offsets": "org.apache.kafka.tools.GetOffsetShell",
    "kafka-configs": "kafka.admin.ConfigCommand",
    "kafka-delete-records": "org.apache.kafka.tools.DeleteRecordsCommand",
    "kafka-transactions": "org.apache.kafka.tools.TransactionsCommand",
    "kafka-storage": "kafka.tools.StorageTool",
}
PERF_TOOLS = {"kafka-producer-perf-test", "kafka-consumer-perf-test"}

SERVER_PROPERTIES = """\
# Written by de_services.kafka on every start; edit the module, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{host}:{controller}
listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller}
advertised.listeners=PLAINTEXT://{host}:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data}
num.partitions=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
"""

# Server logs go to stdout, which the launcher appends to <state>/kafka/kafka.log.
SERVER_LOG4J = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
logger.logs.name = org.apache.kafka.storage.internals.log
logger.logs.level = WARN
"""

TOOLS_LOG4J = """\
status = warn
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = err
"""


def _tools_log4j(rt: Runtime) -> Path:
    """The tools' log4j2 config (warnings to stderr), written once next to the jars."""
    config = jvm.jar_dir(rt, PROFILE).parent / "kafka-tools-log4j2.properties"
    if not config.exists():
        config.write_text(TOOLS_LOG4J)
    return config


def _provision(rt: Runtime) -> None:
    jvm.resolve_jars(rt, PROFILE)
    _tools_log4j(rt)


def _cluster_id() -> str:
    """Kafka's Uuid text form: URL-safe base64 of 16 random bytes, no padding.

    Like Kafka's own Uuid.randomUuid(), never one starting with '-': kafka-storage's argument
    parser would read it as an option (1 format in 64 failed before).
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


def _start(rt: Runtime) -> None:
    data = rt.data_dir
    data.mkdir(parents=True, exist_ok=True)
    props = rt.state_dir / "server.properties"
    props.write_text(
        SERVER_PROPERTIES.format(
            host=HOST, port=rt.port(), controller=rt.port("controller"), data=data
        )
    )
    log4j = rt.state_dir / "log4j2.properties"
    log4j.write_text(SERVER_LOG4J)
    java = jvm.java()
    cp = jvm.classpath(rt, PROFILE)
    common = [f"-Dlog4j2.configurationFile={log4j}", "-Djava.awt.headless=true", "-cp", cp]
    if not (data / "meta.properties").exists():
        tool = [java, "-Xmx256m", "-XX:TieredStopAtLevel=1", *common, "kafka.tools.StorageTool"]
        rt.run([*tool, "format", "-t", _cluster_id(), "-c", str(props)], timeout=120)
    gc = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError"]
    rt.spawn(
        [java, "-Xms128m", f"-Xmx{jvm.heap(rt, '512m')}", *gc, *common, "kafka.Kafka", str(props)],
        cwd=rt.state_dir,
    )


def api_versions_ok(port: int, host: str = HOST, timeout: float = 2.0) -> bool:
    """True if a Kafka broker answers an ApiVersions request (v0) without error on host:port."""
    client_id = b"de-launcher"
    # request header: api_key 18 (ApiVersions), api_version 0, correlation id, client id
    body = struct.pack(">hhih", 18, 0, 7, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            head = _recv_exactly(sock, 10)  # size, correlation id, error code
    except OSError:
        return False
    if head is None:
        return False
    _size, correlation, error = struct.unpack(">iih", head)
    return bool(correlation == 7 and error == 0)


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _ready(rt: Runtime) -> bool:
    # The broker's listener opens only once the node has started; ApiVersions proves it serves.
    return api_versions_ok(rt.port())


def _url(rt: Runtime) -> str:
    return f"{HOST}:{rt.port()}"


def kafka_tool(args: Sequence[str]) -> int:
    """`kafka-tool <tool> [args...]`: run one of Kafka's CLI tools from the broker's jars."""
    if not args or args[0] not in TOOLS:
        print(f"usage: kafka-tool <{'|'.join(TOOLS)}> [args...]", file=sys.stderr)
        return 2
    rt = runtime(SERVICE)
    _provision(rt)  # a ServiceError is the CLI's one-line error, exit 1
    config = _tools_log4j(rt)
    opts = [f"-Dlog4j2.configurationFile={config}", "-Xmx512m"]
    if args[0] not in PERF_TOOLS:
        # Admin tools run for a second: skip the optimising JIT, start faster.
        opts += ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    return jvm.run_java_tool(rt, PROFILE, TOOLS[args[0]], args[1:], opts)


SERVICE = Service(
    name="kafka",
    env_var="DE_KAFKA_BOOTSTRAP",
    ports={"port": 29092, "controller": 29093},
    url=_url,
    start=_start,
    ready=_ready,
    provision=_provision,
    missing=needs(jvm.java_home),
    startup_timeout=60.0,
    commands={"kafka-tool": kafka_tool},
)
