"""The pytest plugin (auto-loaded through the `pytest11` entry point): real-service fixtures.

Session fixtures return each service's URL following `de_services.resolve`: env var -> native
start -> Docker -> skip. With `CI=true` a missing service FAILS instead of skipping. A service the
fixture starts natively is left running after the session, so the next run reuses it
(`de-services down` stops it).

Isolation helpers give every test its own namespace: `pg_database` (a fresh database), `rabbitmq_vhost`,
`kafka_topic` (a factory), `s3_bucket`, `hdfs_dir`; `unique_name(prefix)` for anything else.
Client libraries (psycopg2, confluent-kafka, boto3, pyspark) are imported only by the fixture that needs
them, so a project installs only its own clients.

Outage tests (a broker restarted mid-run, HDFS stopped mid-upload) use `private_service(name)`: an
instance of their own, in its own state folder on shifted ports, that they stop and start without
disturbing the shared instance every other test uses.

Crash tests, one convention: the job marks its crash-worthy moments with
`de_common.faults.fault_point("load.after_copy")`; a test runs the job with `fault_env(point)` in its
environment (`DE_FAULT=load.after_copy`, or `point@N` for the N-th time) and the process SIGKILLs
itself there, exit status -9; `fault_env(point, pause=True, ready=..., release=...)` holds it there
instead, for a test that kills it from outside or races another process against it. The test then
reruns the job and checks the state of one clean run. No hidden flags, no per-project variables.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from de_services import ServiceError, ServiceUnavailable, resolve

__all__ = [
    "PrivateService",
    "fault_env",
    "in_ci",
    "s3_client",
    "service_missing",
    "unique_name",
]


def fault_env(
    point: str,
    nth: int = 1,
    *,
    pause: bool = False,
    ready: Path | None = None,
    release: Path | None = None,
) -> dict[str, str]:
    """The environment that SIGKILLs a job at `fault_point(point)` the `nth` time it is reached;
    with `pause`, holds it there instead, writing its pid to `ready` and going on once `release`
    exists (see de_common.faults)."""
    spec = point if nth == 1 else f"{point}@{nth}"
    env = {"DE_FAULT": f"{spec}:pause" if pause else spec}
    if ready is not None:
        env["DE_FAULT_READY"] = str(ready)
    if release is not None:
        env["DE_FAULT_RELEASE"] = str(release)
    return env


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: talks to a real service (PostgreSQL, Kafka, ...)"
    )


def in_ci() -> bool:
    """CI=true (or 1/yes): a missing service is a failure, never a skip."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def service_missing(reason: str) -> NoReturn:
    """Skip the test with the reason, or fail it under CI=true."""
    if in_ci():
        pytest.fail(f"service unavailable (CI=true never skips): {reason}", pytrace=False)
    pytest.skip(f"service unavailable: {reason}")


def unique_name(prefix: str = "t", sep: str = "_") -> str:
    """A short lowercase name nobody else uses: `<prefix><sep><10 hex>` (use sep='-' for buckets)."""
    return f"{prefix.lower()}{sep}{uuid.uuid4().hex[:10]}"


def _resolve(name: str) -> str:
    try:
        return resolve(name, docker=os.environ.get("DE_NO_DOCKER", "") in ("", "0"))
    except ServiceUnavailable as exc:
        service_missing(str(exc))


def _import(module: str, install_hint: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        service_missing(f"{module} is not installed ({install_hint})")


# --- session fixtures: one URL per service --------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """postgresql://postgres@127.0.0.1:25432/postgres (or $DE_POSTGRES_URL)."""
    return _resolve("postgres")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """amqp://guest:guest@127.0.0.1:25672/%2F (or $DE_RABBITMQ_URL)."""
    return _resolve("rabbitmq")


@pytest.fixture(scope="session")
def rabbitmq_management_url(rabbitmq_url: str) -> str:
    """The broker's HTTP management API, http://127.0.0.1:25675 (or $DE_RABBITMQ_MANAGEMENT_URL)."""
    from de_services.catalog import rabbitmq

    return rabbitmq.management_url(rabbitmq_url)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """127.0.0.1:29092 (or $DE_KAFKA_BOOTSTRAP)."""
    return _resolve("kafka")


@pytest.fixture(scope="session")
def hdfs_url() -> str:
    """WebHDFS http://127.0.0.1:29870 (or $DE_HDFS_URL); RPC is hdfs://127.0.0.1:29000."""
    return _resolve("hdfs")


@pytest.fixture(scope="session")
def hive_url() -> str:
    """hive://127.0.0.1:20000/default (or $DE_HIVE_URL)."""
    return _resolve("hive")


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """http://127.0.0.1:25000, S3 and Kinesis (or $DE_S3_ENDPOINT)."""
    return _resolve("moto")


@pytest.fixture(scope="session")
def prometheus_url() -> str:
    """http://127.0.0.1:29090 (or $DE_PROMETHEUS_URL)."""
    return _resolve("prometheus")


@pytest.fixture(scope="session")
def pushgateway_url() -> str:
    """http://127.0.0.1:29091 (or $DE_PUSHGATEWAY_URL)."""
    return _resolve("pushgateway")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local[2] SparkSession bound to 127.0.0.1 with the UI off (pyspark imported lazily)."""
    from de_services.catalog import spark as spark_service

    try:
        session = spark_service.local_session()
    except ImportError:
        service_missing("pyspark is not installed (pip install pyspark)")
    except ServiceError as exc:
        service_missing(f"spark: {exc}")
    try:
        yield session
    finally:
        session.stop()


# --- isolation: every test its own namespace -----------------------------------------------------


def _with_path(url: str, path: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=path))


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    """The URL of a fresh, empty database, dropped after the test."""
    psycopg2 = _import("psycopg2", "pip install psycopg2-binary")
    name = unique_name("test")

    def admin(sql: str) -> None:
        conn = psycopg2.connect(postgres_url)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    admin(f'CREATE DATABASE "{name}"')
    try:
        yield _with_path(postgres_url, f"/{name}")
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def rabbitmq_vhost(rabbitmq_url: str) -> Iterator[str]:
    """The AMQP URL of a fresh vhost (guest has full rights), deleted after the test."""
    from de_services.catalog import rabbitmq

    name = unique_name("test")
    rabbitmq.add_vhost(rabbitmq_url, name)
    try:
        yield _with_path(rabbitmq_url, "/" + urllib.parse.quote(name, safe=""))
    finally:
        rabbitmq.delete_vhost(rabbitmq_url, name)


@pytest.fixture
def kafka_topic(kafka_bootstrap: str) -> Iterator[Callable[..., str]]:
    """Factory: `kafka_topic(partitions=3)` creates a uniquely named topic, deleted after the test."""
    admin_mod = _import("confluent_kafka.admin", "pip install confluent-kafka")
    admin = admin_mod.AdminClient({"bootstrap.servers": kafka_bootstrap})
    created: list[str] = []

    def make(
        partitions: int = 1, prefix: str = "test", config: dict[str, str] | None = None
    ) -> str:
        name = unique_name(prefix, "-")
        topic = admin_mod.NewTopic(
            name, num_partitions=partitions, replication_factor=1, config=config or {}
        )
        for future in admin.create_topics([topic], operation_timeout=30).values():
            future.result(timeout=60)
        created.append(name)
        return name

    yield make
    if created:
        for future in admin.delete_topics(created, operation_timeout=30).values():
            # A test may already have deleted its topic.
            with contextlib.suppress(Exception):
                future.result(timeout=60)


def s3_client(endpoint: str, service: str = "s3") -> Any:
    """A boto3 client for the local endpoint; default credentials work for moto and compose's MinIO."""
    boto3 = _import("boto3", "pip install boto3")
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        # MinIO (compose) needs a secret of 8+ characters; moto accepts anything.
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing-secret"),
    )


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> Iterator[str]:
    """A fresh bucket name (created), emptied and deleted after the test."""
    client = s3_client(s3_endpoint)
    name = unique_name("test", "-")
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        paginator = client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=name):
            objects = [
                {"Key": o["Key"], "VersionId": o["VersionId"]}
                for o in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if objects:
                client.delete_objects(Bucket=name, Delete={"Objects": objects})
        client.delete_bucket(Bucket=name)


def _webhdfs(hdfs: str, path: str, method: str, op: str, **params: str) -> None:
    requests = _import("requests", "pip install requests")
    user = os.environ.get("DE_HDFS_USER", os.environ.get("USER", "root"))
    resp = requests.request(
        method,
        f"{hdfs.rstrip('/')}/webhdfs/v1{path}",
        params={"op": op, "user.name": user, **params},
        timeout=30,
    )
    resp.raise_for_status()


@pytest.fixture
def hdfs_dir(hdfs_url: str) -> Iterator[str]:
    """A fresh HDFS folder path (e.g. /tests/test_ab12...), deleted recursively after the test."""
    path = f"/tests/{unique_name('test')}"
    _webhdfs(hdfs_url, path, "PUT", "MKDIRS")
    try:
        yield path
    finally:
        _webhdfs(hdfs_url, path, "DELETE", "DELETE", recursive="true")


# --- private instances: for tests that stop and restart a service --------------------------------


@dataclass
class PrivateService:
    """A service instance of the test's own: own state folder, ports shifted by `offset`.

    Driven through the launcher's CLI in a subprocess, so this process's environment (and the
    shared instance the session fixtures resolved) is never touched.
    """

    name: str
    state_dir: Path
    offset: int
    url: str = field(default="", init=False)

    @property
    def env(self) -> dict[str, str]:
        """The environment that addresses this instance (for a child `de-services` call)."""
        return {"DE_STATE_DIR": str(self.state_dir), "DE_PORT_OFFSET": str(self.offset)}

    def _cli(self, *args: str, timeout: float = 240) -> str:
        from de_services import registry
        from de_services.runtime import port_env_var

        # A pinned port or URL of the shared instance in our environment would win over the offset.
        pinned = {
            var
            for service in registry.services().values()
            for var in (service.env_var, *(port_env_var(service.name, p) for p in service.ports))
        }
        env = {k: v for k, v in os.environ.items() if k not in pinned}
        proc = subprocess.run(
            [sys.executable, "-m", "de_services", *args],
            env={**env, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise ServiceError(f"de-services {' '.join(args)} failed: {' | '.join(tail)}")
        return proc.stdout

    def start(self) -> str:
        """Start (or reuse) the instance and return its URL."""
        self._cli("up", self.name)
        for line in self._cli("env", self.name).splitlines():
            self.url = line.partition("=")[2]
        if not self.url:
            raise ServiceError(f"{self.name}: started but reports no URL")
        return self.url

    def stop(self) -> None:
        """Stop it the way `de-services down` does: no process, no listening port left."""
        self._cli("down", self.name)

    def restart(self) -> str:
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop everything in its state folder (the service and any it required)."""
        self._cli("down")


def _ports_free(ports: list[int]) -> bool:
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def _free_offset(name: str) -> int:
    """A port offset at which every port of the service (and what it requires) is free."""
    from de_services import registry

    ports = [p for s in registry.with_requirements([name]) for p in s.ports.values()]
    # Offsets 0 (the shared instance) and 1000 (`de-services measure`) are taken by convention;
    # stay below the kernel's ephemeral range (32768) so no client socket lands on our ports.
    for offset in range(1100, 32768 - max(ports), 100):
        if _ports_free([p + offset for p in ports]):
            return offset
    raise ServiceError(f"{name}: no free port offset for a private instance")


@pytest.fixture
def private_service(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], PrivateService]]:
    """Factory: `private_service("rabbitmq")` starts an instance only this test uses; stopped after."""
    started: list[PrivateService] = []

    def make(name: str) -> PrivateService:
        try:
            instance = PrivateService(
                name, tmp_path_factory.mktemp(f"{name}-private"), _free_offset(name)
            )
            started.append(instance)
            instance.start()
        except (ServiceError, subprocess.TimeoutExpired) as exc:
            service_missing(str(exc))
        return instance

    yield make
    for instance in reversed(started):
        with contextlib.suppress(ServiceError, subprocess.TimeoutExpired):
            instance.close()
