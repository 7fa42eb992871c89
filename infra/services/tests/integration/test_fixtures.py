"""de_services.testing's resolution order, run as a real inner pytest: env URL wins over a native
start, a missing service skips locally and FAILS under CI=true, and the isolation fixtures work."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest

from de_services import runtime
from de_services.catalog import postgres
from de_services.testing import PrivateService

pytestmark = pytest.mark.integration

INNER = """
def test_url(postgres_url):
    print("URL=" + postgres_url)
    assert postgres_url
"""


# The inner run must not pick up this repository's pytest settings.
_ALONE = ("-c", os.devnull, "--rootdir")


def _inner_pytest(tmp_path: Path, body: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(body)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DE_", "CI"))}
    argv = [sys.executable, "-m", "pytest", "-q", "-s", "-rs", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*argv, *_ALONE, str(tmp_path), str(tmp_path / "test_inner.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={**clean, "DE_STATE_DIR": str(tmp_path / "state"), "DE_NO_DOCKER": "1", **env},
    )


# A postgres whose binaries do not exist: the native start cannot happen.
NO_POSTGRES = {"DE_POSTGRES_BIN_DIR": "/nonexistent/postgres/bin", "DE_POSTGRES_PORT": "31532"}


def test_missing_service_fails_under_ci(tmp_path: Path) -> None:
    proc = _inner_pytest(tmp_path, INNER, CI="true", **NO_POSTGRES)
    assert proc.returncode == 1, proc.stdout
    assert "1 error" in proc.stdout
    assert "CI=true never skips" in proc.stdout
    assert "initdb not found in /nonexistent/postgres/bin" in proc.stdout


def test_missing_service_skips_outside_ci(tmp_path: Path) -> None:
    proc = _inner_pytest(tmp_path, INNER, **NO_POSTGRES)
    assert proc.returncode == 0, proc.stdout
    assert "1 skipped" in proc.stdout
    assert "service unavailable" in proc.stdout


def test_env_url_wins_over_native_start(tmp_path: Path) -> None:
    url = "postgresql://someone@127.0.0.1:1/elsewhere"
    proc = _inner_pytest(tmp_path, INNER, CI="true", DE_POSTGRES_URL=url, **NO_POSTGRES)
    assert proc.returncode == 0, proc.stdout
    assert f"URL={url}" in proc.stdout
    assert not (tmp_path / "state" / "postgres").exists()  # nothing was started


ISOLATION = """
import psycopg2, pika

def test_pg_database(pg_database, postgres_url):
    assert pg_database != postgres_url
    name = pg_database.rsplit("/", 1)[1]
    with psycopg2.connect(pg_database) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_database()")
        assert cur.fetchone()[0] == name
    print("DB=" + name + " ")

def test_rabbitmq_vhost(rabbitmq_vhost):
    conn = pika.BlockingConnection(pika.URLParameters(rabbitmq_vhost))
    channel = conn.channel()
    channel.queue_declare("q")
    channel.basic_publish("", "q", b"hi")
    for _ in range(50):
        method, _props, body = channel.basic_get("q", auto_ack=True)
        if method:
            break
    assert body == b"hi"
    conn.close()

def test_s3_bucket(s3_bucket, s3_endpoint):
    from de_services.testing import s3_client
    client = s3_client(s3_endpoint)
    client.put_object(Bucket=s3_bucket, Key="k", Body=b"v")
    print("BUCKET=" + s3_bucket)
"""


def test_isolation_fixtures_create_and_clean_up(tmp_path: Path) -> None:
    ports = {
        "DE_POSTGRES_PORT": "31432",
        "DE_RABBITMQ_AMQP_PORT": "31672",
        "DE_RABBITMQ_DIST_PORT": "31673",
        "DE_RABBITMQ_EPMD_PORT": "31369",
        "DE_RABBITMQ_MGMT_PORT": "31675",
        "DE_MOTO_PORT": "31000",
    }
    proc = _inner_pytest(tmp_path, ISOLATION, CI="true", **ports)
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "3 passed" in proc.stdout
        db = re.search(r"DB=(\S+)", proc.stdout).group(1)  # type: ignore[union-attr]
        bucket = re.search(r"BUCKET=(test-[0-9a-f]+)", proc.stdout).group(1)  # type: ignore[union-attr]

        import psycopg2

        from de_services.testing import s3_client

        admin_url = "postgresql://postgres@127.0.0.1:31432/postgres"
        with psycopg2.connect(admin_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (db,))
            assert cur.fetchone() == (0,)  # dropped after the test
        buckets = s3_client("http://127.0.0.1:31000").list_buckets()["Buckets"]
        assert bucket not in [b["Name"] for b in buckets]
    finally:
        # The fixtures leave services running for reuse; these are private, so stop them.
        subprocess.run(
            [sys.executable, "-m", "de_services", "down", "postgres", "rabbitmq", "moto"],
            env={**os.environ, "DE_STATE_DIR": str(tmp_path / "state"), **ports},
            capture_output=True,
            timeout=120,
            check=False,
        )
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("DE_STATE_DIR", str(tmp_path / "state"))
            mp.setenv("DE_POSTGRES_PORT", ports["DE_POSTGRES_PORT"])
            home = postgres.pg_home(runtime.runtime(postgres.SERVICE))
        if not home.is_relative_to(tmp_path):
            shutil.rmtree(home, ignore_errors=True)


JVM_ISOLATION = """
import requests
from confluent_kafka.admin import AdminClient

def test_kafka_topic(kafka_topic, kafka_bootstrap):
    name = kafka_topic(partitions=3)
    meta = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_topics(timeout=10)
    assert len(meta.topics[name].partitions) == 3
    print("TOPIC=" + name + " ")

def test_hdfs_dir(hdfs_dir, hdfs_url):
    status = requests.get(
        f"{hdfs_url}/webhdfs/v1{hdfs_dir}", params={"op": "GETFILESTATUS"}, timeout=10
    ).json()
    assert status["FileStatus"]["type"] == "DIRECTORY"
    print("DIR=" + hdfs_dir + " ")
"""


def test_kafka_topic_and_hdfs_dir_fixtures(tmp_path: Path) -> None:
    # A private Kafka and HDFS, 3000 above the dev ports (clear of the other tests' ports).
    env = {"DE_PORT_OFFSET": "3000"}
    proc = _inner_pytest(tmp_path, JVM_ISOLATION, CI="true", **env)
    stop_env = {**os.environ, "DE_STATE_DIR": str(tmp_path / "state"), **env}
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "2 passed" in proc.stdout
        topic = re.search(r"TOPIC=(\S+)", proc.stdout).group(1)  # type: ignore[union-attr]
        folder = re.search(r"DIR=(\S+)", proc.stdout).group(1)  # type: ignore[union-attr]

        import requests
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": "127.0.0.1:32092"})
        deadline = time.monotonic() + 30
        while topic in admin.list_topics(timeout=10).topics and time.monotonic() < deadline:
            time.sleep(0.5)  # topic deletion completes asynchronously
        assert topic not in admin.list_topics(timeout=10).topics
        gone = requests.get(
            f"http://127.0.0.1:32870/webhdfs/v1{folder}", params={"op": "GETFILESTATUS"}, timeout=10
        )
        assert gone.status_code == 404
    finally:
        subprocess.run(
            [sys.executable, "-m", "de_services", "down", "kafka", "hdfs"],
            env=stop_env,
            capture_output=True,
            timeout=180,
            check=False,
        )


def test_private_service_is_its_own_and_survives_a_restart(
    private_service: Callable[[str], PrivateService], rabbitmq_url: str
) -> None:
    """A private RabbitMQ on shifted ports: stopped and restarted without touching the shared one."""
    import pika

    broker = private_service("rabbitmq")
    assert urllib.parse.urlsplit(broker.url).port != urllib.parse.urlsplit(rabbitmq_url).port
    pika.BlockingConnection(pika.URLParameters(broker.url)).close()
    port = urllib.parse.urlsplit(broker.url).port
    broker.stop()
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        pika.BlockingConnection(pika.URLParameters(broker.url + "?connection_attempts=1")).close()
    assert broker.start() == broker.url
    assert urllib.parse.urlsplit(broker.url).port == port
    pika.BlockingConnection(pika.URLParameters(broker.url)).close()
